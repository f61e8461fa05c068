/* video_writer.c: uint8 RGB frames -> H.264 (libx264) or MPEG-4 part 2,
 * yuv420p, in the container the file extension names. Atomic: frames go to
 * PATH.tmp-<pid> (interrupt.c's lp_tmp_begin), which close() renames to
 * PATH. Same frames, same bytes. */
#include <libavutil/opt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/interrupt_internal.h"
#include "data/av.h"

struct lp_video_writer {
    char *path, *tmp;
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    uint8_t *scratch; /* padded copy of the input: swscale may read past a row */
    int scratch_stride;
    int32_t width, height;
    int64_t n_frames;
    int file_open, closed;
};

void lp_video_writer_free(lp_video_writer *w) {
    if (!w) return;
    if (w->oc && w->file_open) avio_closep(&w->oc->pb);
    if (!w->closed)
        lp_tmp_discard(w->tmp);
    else
        lp_tmp_end(w->tmp);
    avformat_free_context(w->oc);
    avcodec_free_context(&w->enc);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    sws_freeContext(w->sws);
    av_free(w->scratch);
    free(w->path);
    free(w);
}

int64_t lp_video_writer_n_frames(const lp_video_writer *w) { return w ? w->n_frames : -1; }

lp_status lp_video_writer_open(const char *path, int32_t width, int32_t height, double fps,
                               lp_video_writer **out) {
    const char *fn = "lp_video_writer_open";
    lp_status st = LP_STATUS_OK;
    lp_video_writer *w = NULL;
    int err;
    if (!out || !path || !path[0]) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL or empty path");
    *out = NULL;
    lpi_av_init();
    if (width <= 0 || height <= 0 || width % 2 || height % 2 || !(fps > 0.0))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: width %d and height %d must be even and > 0 (yuv420p), fps %g"
                         " > 0", path, width, height, fps);
    const AVOutputFormat *ofmt = av_guess_format(NULL, path, NULL);
    if (!ofmt)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: unknown container: use an extension such as .mp4, .mkv, .avi", path);
    if (!(w = calloc(1, sizeof *w)) || !(w->path = strdup(path)) ||
        !(w->frame = av_frame_alloc()) || !(w->pkt = av_packet_alloc()))
        goto oom;
    if ((st = lp_tmp_begin(path, 1, fn, &w->tmp))) goto fail;
    w->width = width;
    w->height = height;
    if ((err = avformat_alloc_output_context2(&w->oc, ofmt, NULL, w->tmp)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot create the container", err);
        goto fail;
    }
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec || avformat_query_codec(ofmt, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) != 1)
        codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!codec) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: neither libx264 nor mpeg4 encoder", path);
        goto fail;
    }
    if (!(w->enc = avcodec_alloc_context3(codec)) || !(w->st = avformat_new_stream(w->oc, NULL)))
        goto oom;
    AVRational rate = av_d2q(fps, 100000);
    w->enc->width = width;
    w->enc->height = height;
    w->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    w->enc->time_base = av_inv_q(rate);
    w->enc->framerate = rate;
    /* One thread: libx264's output then depends only on the frames (with
     * threads auto it was measured to change between writers), and
     * synthetic data must be reproducible. */
    w->enc->thread_count = 1;
    if (codec->id == AV_CODEC_ID_H264) {
        av_opt_set(w->enc->priv_data, "preset", "fast", 0);
        av_opt_set(w->enc->priv_data, "crf", "18", 0);
        /* One thread was not enough: x264's macroblock-tree rate control made
         * the bytes depend on what the process encoded before (see
         * synth_encode.c); without it the same frames give the same file. */
        av_opt_set(w->enc->priv_data, "x264-params", "mbtree=0", 0);
    } else { /* mpeg4: near-transparent fixed quality */
        w->enc->flags |= AV_CODEC_FLAG_QSCALE;
        w->enc->global_quality = FF_QP2LAMBDA * 2;
    }
    /* AVI has no presentation timestamps: B-frames would make frames ambiguous. */
    if (strcmp(ofmt->name, "avi") == 0) w->enc->max_b_frames = 0;
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((err = avcodec_open2(w->enc, codec, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot open the encoder", err);
        goto fail;
    }
    w->st->time_base = w->enc->time_base;
    w->st->avg_frame_rate = rate;
    if ((err = avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0) goto oom;
    if ((err = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0) {
        st = lpi_av_error(LP_STATUS_IO, fn, w->tmp, "cannot create", err);
        goto fail;
    }
    w->file_open = 1;
    if ((err = avformat_write_header(w->oc, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_IO, fn, path, "cannot write the header", err);
        goto fail;
    }
    w->frame->format = AV_PIX_FMT_YUV420P;
    w->frame->width = width;
    w->frame->height = height;
    if (av_frame_get_buffer(w->frame, 0) < 0) goto oom;
    w->scratch_stride = FFALIGN(width * 3, 64) + 64;
    if (!(w->scratch = av_mallocz((size_t)w->scratch_stride * (size_t)(height + 2)))) goto oom;
    *out = w;
    return LP_STATUS_OK;
oom:
    st = lp_errorf(LP_STATUS_OOM, fn, "%s: out of memory", path);
fail:
    lp_video_writer_free(w);
    return st;
}

/* Send `frame` (NULL flushes) and write every packet the encoder returns. */
static lp_status encode(lp_video_writer *w, AVFrame *frame, const char *fn) {
    int err = avcodec_send_frame(w->enc, frame);
    if (err < 0) return lpi_av_error(LP_STATUS_IO, fn, w->path, "encoding failed", err);
    for (;;) {
        err = avcodec_receive_packet(w->enc, w->pkt);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return LP_STATUS_OK;
        if (err < 0) return lpi_av_error(LP_STATUS_IO, fn, w->path, "encoding failed", err);
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        err = av_interleaved_write_frame(w->oc, w->pkt);
        av_packet_unref(w->pkt);
        if (err < 0) return lpi_av_error(LP_STATUS_IO, fn, w->tmp, "writing failed", err);
    }
}

lp_status lp_video_writer_write_rgb(lp_video_writer *w, const uint8_t *rgb, int64_t stride) {
    const char *fn = "lp_video_writer_write";
    if (!w || !rgb) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (w->closed) return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: writer is closed", w->path);
    if (stride < (int64_t)w->width * 3 || stride > INT32_MAX)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: stride %lld < width*3 = %d", w->path,
                         (long long)stride, w->width * 3);
    if (av_frame_make_writable(w->frame) < 0)
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    w->sws = sws_getCachedContext(w->sws, w->width, w->height, AV_PIX_FMT_RGB24, w->width,
                                  w->height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!w->sws) return lp_errorf(LP_STATUS_INTERNAL, fn, "swscale context failed");
    for (int y = 0; y < w->height; ++y)
        memcpy(w->scratch + (size_t)y * (size_t)w->scratch_stride, rgb + (size_t)y * (size_t)stride,
               (size_t)w->width * 3);
    const uint8_t *src[4] = {w->scratch, NULL, NULL, NULL};
    int src_stride[4] = {w->scratch_stride, 0, 0, 0};
    sws_scale(w->sws, src, src_stride, 0, w->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->n_frames;
    lp_status st = encode(w, w->frame, fn);
    if (!st) w->n_frames++;
    return st;
}

lp_status lp_video_writer_write(lp_video_writer *w, const lp_tensor *rgb) {
    const char *fn = "lp_video_writer_write";
    int64_t shape[LP_MAX_DIMS];
    void *data = NULL;
    if (!w || !rgb) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    int32_t nd = lp_tensor_shape(rgb, shape);
    if (nd != 3 || shape[0] != w->height || shape[1] != w->width || shape[2] != 3 ||
        lp_tensor_dtype(rgb) != LP_DTYPE_U8 || lp_tensor_device(rgb) != LP_DEVICE_CPU)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: expected a u8 CPU tensor of shape (%d, %d, 3), got %s with %d"
                         " dims (%lld, %lld, %lld)", w->path, w->height, w->width,
                         lp_dtype_name((lp_dtype)lp_tensor_dtype(rgb)), nd,
                         (long long)(nd > 0 ? shape[0] : 0), (long long)(nd > 1 ? shape[1] : 0),
                         (long long)(nd > 2 ? shape[2] : 0));
    lp_tensor *c = NULL;
    lp_status st = lp_tensor_contiguous(rgb, &c);
    if (!st) st = lp_tensor_data_ptr(c, &data);
    if (!st) st = lp_video_writer_write_rgb(w, data, (int64_t)w->width * 3);
    lp_tensor_free(c);
    return st;
}

lp_status lp_video_writer_close(lp_video_writer *w) {
    const char *fn = "lp_video_writer_close";
    if (!w) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL writer");
    if (w->closed) return LP_STATUS_OK;
    lp_status st = encode(w, NULL, fn);
    if (st) return st;
    int err = av_write_trailer(w->oc);
    if (err < 0) return lpi_av_error(LP_STATUS_IO, fn, w->tmp, "cannot finish the file", err);
    avio_closep(&w->oc->pb);
    w->file_open = 0;
    if (rename(w->tmp, w->path) != 0)
        return lp_errorf(LP_STATUS_IO, fn, "cannot rename '%s' to '%s'", w->tmp, w->path);
    w->closed = 1;
    return LP_STATUS_OK;
}
