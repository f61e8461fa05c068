/* synth_encode.c: the synthetic videos' encoder. Like lp_video_writer
 * (libx264 crf 18 preset fast, else mpeg4; yuv420p; PATH.tmp-<pid> renamed on
 * close) but reproducible: the same frames give the same file bytes every
 * time. lp_video_writer's output was measured to change between writers in
 * one process (FFmpeg 5.1, libx264 r3095); the cause is x264's mbtree (see
 * below). Also single-threaded, bit-exact flags, and our own integer
 * RGB -> YUV 4:2:0 (BT.601 limited range) instead of swscale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "core/error.h"
#include "core/interrupt_internal.h"
#include "synth_internal.h"

struct lps_encoder {
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    char *path, *tmp;
    int w, h, file_open;
    int64_t n;
};

static const char enc_fn[] = "lp_synth_generate";

static lp_status av_fail(lps_encoder *e, const char *what, int err) {
    char buf[128];
    av_strerror(err, buf, sizeof buf);
    return lp_errorf(LP_STATUS_IO, enc_fn, "%s: %s: %s", e->path, what, buf);
}

void lps_encoder_free(lps_encoder *e) {
    if (!e) return;
    if (e->file_open) avio_closep(&e->oc->pb);
    lp_tmp_discard(e->tmp);
    avformat_free_context(e->oc);
    avcodec_free_context(&e->enc);
    av_frame_free(&e->frame);
    av_packet_free(&e->pkt);
    free(e->path);
    free(e);
}

lp_status lps_encoder_open(const char *path, int w, int h, double fps, lps_encoder **out) {
    lp_status st;
    int err;
    av_log_set_level(AV_LOG_ERROR);
    lps_encoder *e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path)) || !(e->frame = av_frame_alloc()) ||
        !(e->pkt = av_packet_alloc()))
        goto oom;
    if ((st = lp_tmp_begin(path, 1, enc_fn, &e->tmp))) goto fail;
    e->w = w;
    e->h = h;
    const AVOutputFormat *of = av_guess_format(NULL, path, NULL);
    if ((err = avformat_alloc_output_context2(&e->oc, of, NULL, e->tmp)) < 0) {
        st = av_fail(e, "cannot create the container", err);
        goto fail;
    }
    e->oc->flags |= AVFMT_FLAG_BITEXACT;
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!codec) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, enc_fn, "%s: neither libx264 nor mpeg4 encoder", path);
        goto fail;
    }
    if (!(e->enc = avcodec_alloc_context3(codec)) || !(e->st = avformat_new_stream(e->oc, NULL)))
        goto oom;
    AVRational rate = av_d2q(fps, 100000);
    e->enc->width = w;
    e->enc->height = h;
    e->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    e->enc->time_base = av_inv_q(rate);
    e->enc->framerate = rate;
    e->enc->thread_count = 1;
    e->enc->flags |= AV_CODEC_FLAG_BITEXACT;
    if (codec->id == AV_CODEC_ID_H264) {
        av_opt_set(e->enc->priv_data, "preset", "fast", 0);
        av_opt_set(e->enc->priv_data, "crf", "18", 0);
        /* x264's macroblock-tree rate control made the bytes depend on what
         * ran before in the process (same input and options, measured with
         * FFmpeg 5.1 / x264 r3095); without it the output repeats. */
        av_opt_set(e->enc->priv_data, "x264-params", "mbtree=0", 0);
    } else {
        e->enc->flags |= AV_CODEC_FLAG_QSCALE;
        e->enc->global_quality = FF_QP2LAMBDA * 2;
    }
    if (e->oc->oformat->flags & AVFMT_GLOBALHEADER) e->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((err = avcodec_open2(e->enc, codec, NULL)) < 0) {
        st = av_fail(e, "cannot open the encoder", err);
        goto fail;
    }
    e->st->time_base = e->enc->time_base;
    e->st->avg_frame_rate = rate;
    if ((err = avcodec_parameters_from_context(e->st->codecpar, e->enc)) < 0) goto oom;
    if ((err = avio_open(&e->oc->pb, e->tmp, AVIO_FLAG_WRITE)) < 0) {
        st = av_fail(e, "cannot create", err);
        goto fail;
    }
    e->file_open = 1;
    if ((err = avformat_write_header(e->oc, NULL)) < 0) {
        st = av_fail(e, "cannot write the header", err);
        goto fail;
    }
    *out = e;
    return LP_STATUS_OK;
oom:
    st = lp_errorf(LP_STATUS_OOM, enc_fn, "%s: out of memory", path);
fail:
    lps_encoder_free(e);
    return st;
}

static lp_status encode(lps_encoder *e, AVFrame *f) {
    int err = avcodec_send_frame(e->enc, f);
    if (err < 0) return av_fail(e, "encoding failed", err);
    for (;;) {
        err = avcodec_receive_packet(e->enc, e->pkt);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return LP_STATUS_OK;
        if (err < 0) return av_fail(e, "encoding failed", err);
        av_packet_rescale_ts(e->pkt, e->enc->time_base, e->st->time_base);
        e->pkt->stream_index = e->st->index;
        err = av_interleaved_write_frame(e->oc, e->pkt);
        av_packet_unref(e->pkt);
        if (err < 0) return av_fail(e, "writing failed", err);
    }
}

lp_status lps_encoder_write(lps_encoder *e, const uint8_t *rgb) {
    /* A fresh, zeroed picture per frame: nothing left over can leak in. */
    av_frame_unref(e->frame);
    e->frame->format = AV_PIX_FMT_YUV420P;
    e->frame->width = e->w;
    e->frame->height = e->h;
    if (av_frame_get_buffer(e->frame, 0) < 0)
        return lp_errorf(LP_STATUS_OOM, enc_fn, "out of memory");
    for (int i = 0; i < 3; i++)
        memset(e->frame->data[i], 0, (size_t)e->frame->linesize[i] * (size_t)(i ? (e->h + 1) / 2 : e->h));
    /* RGB -> YUV 4:2:0, BT.601 limited range (what decoders assume for
     * untagged video), in integer arithmetic: no swscale state involved. */
    int W = e->w, H = e->h;
    for (int y = 0; y < H; y++) {
        uint8_t *Y = e->frame->data[0] + (size_t)y * e->frame->linesize[0];
        const uint8_t *px = rgb + (size_t)y * W * 3;
        for (int x = 0; x < W; x++, px += 3)
            Y[x] = (uint8_t)((16829 * px[0] + 33039 * px[1] + 6416 * px[2] + 1081344) >> 16);
    }
    for (int y = 0; y < (H + 1) / 2; y++) {
        uint8_t *U = e->frame->data[1] + (size_t)y * e->frame->linesize[1];
        uint8_t *V = e->frame->data[2] + (size_t)y * e->frame->linesize[2];
        for (int x = 0; x < (W + 1) / 2; x++) {
            int r = 0, g = 0, b = 0, n = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int yy = 2 * y + dy, xx = 2 * x + dx;
                    if (yy >= H || xx >= W) continue;
                    const uint8_t *q = rgb + ((size_t)yy * W + xx) * 3;
                    r += q[0], g += q[1], b += q[2], n++;
                }
            r = (r + n / 2) / n, g = (g + n / 2) / n, b = (b + n / 2) / n;
            U[x] = (uint8_t)((-9714 * r - 19070 * g + 28784 * b + 8421376) >> 16);
            V[x] = (uint8_t)((28784 * r - 24103 * g - 4681 * b + 8421376) >> 16);
        }
    }
    e->frame->pts = e->n++;
    return encode(e, e->frame);
}

lp_status lps_encoder_close(lps_encoder *e) {
    lp_status st = encode(e, NULL);
    if (st) return st;
    int err = av_write_trailer(e->oc);
    if (err < 0) return av_fail(e, "cannot finish the file", err);
    avio_closep(&e->oc->pb);
    e->file_open = 0;
    if (rename(e->tmp, e->path) != 0)
        return lp_errorf(LP_STATUS_IO, enc_fn, "cannot rename %s to %s", e->tmp, e->path);
    lp_tmp_end(e->tmp);
    e->tmp = NULL;
    return LP_STATUS_OK;
}
