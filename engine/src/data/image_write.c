/* image_write.c: lp_image_write_png with FFmpeg's png encoder (RGB24 or
 * GRAY8), written to PATH.tmp-<pid> and renamed into place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>

#include "core/error.h"
#include "core/interrupt_internal.h"

lp_status lp_image_write_png(const char *path, const uint8_t *pixels, int32_t width,
                             int32_t height, int32_t channels, int64_t stride) {
    static const char fn[] = "lp_image_write_png";
    if (!path || !pixels) return lp_errorf(LP_STATUS_BAD_ARG, fn, "path or pixels is NULL");
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: bad size %dx%d", path, width, height);
    if (channels != 1 && channels != 3)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: channels must be 1 or 3, got %d", path,
                         channels);
    if (stride < (int64_t)width * channels)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: stride %lld < width*channels", path,
                         (long long)stride);
    av_log_set_level(AV_LOG_ERROR);
    lp_status st = LP_STATUS_OK;
    AVCodecContext *enc = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    FILE *fp = NULL;
    char *tmp = NULL;
    int err;
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (!codec) return lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: no png encoder in FFmpeg", path);
    if (!(enc = avcodec_alloc_context3(codec)) || !(frame = av_frame_alloc()) ||
        !(pkt = av_packet_alloc()))
        goto oom;
    enc->width = width;
    enc->height = height;
    enc->pix_fmt = channels == 3 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8;
    enc->time_base = (AVRational){1, 25};
    enc->thread_count = 1;
    if ((err = avcodec_open2(enc, codec, NULL)) < 0) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: cannot open the png encoder (%d)", path, err);
        goto done;
    }
    frame->format = enc->pix_fmt;
    frame->width = width;
    frame->height = height;
    if (av_frame_get_buffer(frame, 0) < 0) goto oom;
    for (int y = 0; y < height; y++)
        memcpy(frame->data[0] + (size_t)y * frame->linesize[0], pixels + (size_t)y * (size_t)stride,
               (size_t)width * (size_t)channels);
    frame->pts = 0;
    if ((err = avcodec_send_frame(enc, frame)) < 0 || (err = avcodec_send_frame(enc, NULL)) < 0 ||
        (err = avcodec_receive_packet(enc, pkt)) < 0) {
        st = lp_errorf(LP_STATUS_INTERNAL, fn, "%s: png encoding failed (%d)", path, err);
        goto done;
    }
    /* Frames are written by the thousand into one folder (extract-frames,
     * synth): no scan for stale temporaries, which would make that quadratic. */
    if ((st = lp_tmp_begin(path, 0, fn, &tmp))) goto done;
    if (!(fp = fopen(tmp, "wb"))) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    if (fwrite(pkt->data, 1, (size_t)pkt->size, fp) != (size_t)pkt->size || fflush(fp) != 0) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        st = lp_errorf(LP_STATUS_IO, fn, "%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    fp = NULL;
    if (rename(tmp, path) != 0) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: cannot rename into place: %s", path, strerror(errno));
        goto done;
    }
    lp_tmp_end(tmp);
    tmp = NULL;
    goto done;
oom:
    st = lp_errorf(LP_STATUS_OOM, fn, "%s: out of memory", path);
done:
    if (fp) fclose(fp);
    lp_tmp_discard(tmp);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return st;
}
