/* image.c: still images (PNG, JPEG, BMP, TIFF) through FFmpeg's image2
 * demuxer, to RGB24 with swscale, optionally resized (bicubic, as LP's
 * imgaug resize) and ImageNet-normalised. Also the FFmpeg helpers the
 * video reader shares. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <libavutil/imgutils.h>
#include <string.h>

#include "av.h"

lp_status lpi_av_error(lp_status status, const char *fn, const char *path, const char *what,
                       int averr) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, buf, sizeof buf);
    return lp_errorf(status, fn, "%s: %s: %s", path, what, buf);
}

lp_status lpi_open_error(const char *fn, const char *path, int averr) {
    if (averr == AVERROR(ENOENT) || averr == AVERROR(EACCES) || averr == AVERROR(EISDIR))
        return lpi_av_error(LP_STATUS_IO, fn, path, "cannot open", averr);
    return lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "not a readable image or video (corrupt, truncated or an unknown format)", averr);
}

/* FFmpeg logs decode trouble to stderr; our status messages carry it, so
 * quiet the default level once (an application's own level is kept, and
 * LPOSE_FFMPEG_LOG=1 keeps FFmpeg's logging). */
static void quiet_once(void) {
    if (!getenv("LPOSE_FFMPEG_LOG") && av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_FATAL);
}

void lpi_av_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_once);
}

/* yuvj* are yuv* in full range: swscale warns about them, so say it plainly. */
static enum AVPixelFormat unj(enum AVPixelFormat f, int *full) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

void lpi_scaler_free(lpi_scaler *s) {
    sws_freeContext(s->sws);
    av_free(s->buf);
    memset(s, 0, sizeof *s);
}

/* A context for `key`, with the frame's colour matrix and range. Unflagged
 * video is BT.601 limited range (swscale's default). */
static struct SwsContext *new_context(const lpi_scaler_key *k) {
    struct SwsContext *sws = sws_getContext(k->src_w, k->src_h, (enum AVPixelFormat)k->src_fmt, k->dst_w,
                                            k->dst_h, (enum AVPixelFormat)k->dst_fmt, k->flags, NULL, NULL,
                                            NULL);
    int *inv, src_range, *tab, dst_range, bright, contrast, sat;
    if (sws && sws_getColorspaceDetails(sws, &inv, &src_range, &tab, &dst_range, &bright, &contrast,
                                        &sat) >= 0)
        sws_setColorspaceDetails(sws, sws_getCoefficients(k->colorspace), k->full_range ? 1 : src_range,
                                 tab, dst_range, bright, contrast, sat);
    return sws;
}

lp_status lpi_scale(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h,
                    enum AVPixelFormat dst_fmt, int flags, const char *fn) {
    int full = f->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat src_fmt = unj((enum AVPixelFormat)f->format, &full);
    lpi_scaler_key key = {f->width, f->height, src_fmt, dst_w, dst_h, dst_fmt, flags, full,
                          f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace};
    /* Our own comparison, not sws_getCachedContext's: swscale adds flags of its
     * own when it makes a context (SWS_FULL_CHR_H_INT for planar RGB output), so
     * that one never matched and made a new context for every frame. Decoding
     * CPU (test_scaler checks the reuse): 0.22 -> 0.19 ms per 128x128 frame,
     * 0.73 -> 0.66 ms per 396x406 frame resized to 128x128; same pixels. */
    if (!s->sws || memcmp(&key, &s->key, sizeof key) != 0) {
        sws_freeContext(s->sws);
        if (!(s->sws = new_context(&key)))
            return lp_errorf(LP_STATUS_UNSUPPORTED, fn, "swscale cannot convert %s %dx%d to %dx%d",
                             av_get_pix_fmt_name((enum AVPixelFormat)f->format), f->width, f->height,
                             dst_w, dst_h);
        s->key = key;
        s->n_made += 1;
    }
    int packed = dst_fmt == AV_PIX_FMT_RGB24, n_planes = packed ? 1 : 3;
    int stride = FFALIGN(dst_w * (packed ? 3 : 1), 64) + 64;
    size_t plane = (size_t)stride * (size_t)(dst_h + 2);
    if (s->size < plane * (size_t)n_planes) {
        av_free(s->buf);
        s->size = 0;
        if (!(s->buf = av_malloc(plane * (size_t)n_planes)))
            return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        s->size = plane * (size_t)n_planes;
    }
    s->stride = stride;
    for (int p = 0; p < 3; ++p) s->planes[p] = p < n_planes ? s->buf + plane * (size_t)p : NULL;
    uint8_t *planes[4] = {s->planes[0], s->planes[1], s->planes[2], NULL};
    int strides[4] = {stride, packed ? 0 : stride, packed ? 0 : stride, 0};
    int h = sws_scale(s->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
                      strides);
    if (h != dst_h)
        return lp_errorf(LP_STATUS_INTERNAL, fn, "sws_scale wrote %d of %d rows", h, dst_h);
    return LP_STATUS_OK;
}

lp_status lpi_scale_copy(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h, int flags,
                         uint8_t *dst, int dst_stride, const char *fn) {
    lp_status st = lpi_scale(s, f, dst_w, dst_h, AV_PIX_FMT_RGB24, flags, fn);
    if (st) return st;
    for (int y = 0; y < dst_h; ++y)
        memcpy(dst + (size_t)y * (size_t)dst_stride, s->planes[0] + (size_t)y * (size_t)s->stride,
               (size_t)dst_w * 3);
    return LP_STATUS_OK;
}

/* out = (v / 255 - mean) / std per channel, R G B, as a table of the 256 values. */
static void imagenet_luts(float lut[3][256]) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v) lut[c][v] = ((float)v / 255.0f - mean[c]) / std[c];
}

/* GBRP holds G, B, R: R, G, B come from planes 2, 0, 1. */
static const int rgb_plane[3] = {2, 0, 1};

lp_status lpi_scale_floats(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h, int flags, int hwc,
                           float *out, const char *fn) {
    lp_status st = lpi_scale(s, f, dst_w, dst_h, AV_PIX_FMT_GBRP, flags, fn);
    if (st) return st;
    float lut[3][256];
    imagenet_luts(lut);
    const size_t n = (size_t)dst_w * (size_t)dst_h;
    for (int y = 0; y < dst_h; ++y) {
        const size_t at = (size_t)y * (size_t)s->stride;
        const uint8_t *rgb[3] = {s->planes[rgb_plane[0]] + at, s->planes[rgb_plane[1]] + at,
                                 s->planes[rgb_plane[2]] + at};
        if (hwc) {
            float *row = out + (size_t)y * (size_t)dst_w * 3;
            for (int x = 0; x < dst_w; ++x)
                for (int c = 0; c < 3; ++c) row[3 * x + c] = lut[c][rgb[c][x]];
        } else {
            for (int c = 0; c < 3; ++c) {
                float *row = out + n * (size_t)c + (size_t)y * (size_t)dst_w;
                for (int x = 0; x < dst_w; ++x) row[x] = lut[c][rgb[c][x]];
            }
        }
    }
    return LP_STATUS_OK;
}

/* Decode the first picture of `path` into *out (a new AVFrame). */
static lp_status decode_image(const char *fn, const char *path, AVFrame **out) {
    lp_status st = LP_STATUS_OK;
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int err;
    *out = NULL;
    lpi_av_init();
    if (!pkt || !frame) { st = lp_errorf(LP_STATUS_OOM, fn, "out of memory"); goto fail; }
    if (!path || !path[0]) { st = lp_errorf(LP_STATUS_BAD_ARG, fn, "empty path"); goto fail; }
    if ((err = avformat_open_input(&fmt, path, NULL, NULL)) < 0) {
        st = lpi_open_error(fn, path, err);
        goto fail;
    }
    if ((err = avformat_find_stream_info(fmt, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot read stream info", err);
        goto fail;
    }
    int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (idx < 0) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: no image in file", path);
        goto fail;
    }
    const AVCodecParameters *par = fmt->streams[idx]->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: no decoder for codec '%s'", path,
                       avcodec_get_name(par->codec_id));
        goto fail;
    }
    if (!(dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(dec, par) < 0) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    dec->thread_count = 1;
    if ((err = avcodec_open2(dec, codec, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot open decoder", err);
        goto fail;
    }
    /* Feed packets until a picture comes out; flush at end of file. */
    int flushed = 0;
    for (;;) {
        err = avcodec_receive_frame(dec, frame);
        if (err == 0) break;
        if (err != AVERROR(EAGAIN) || flushed) {
            st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot decode image",
                              err == AVERROR_EOF ? AVERROR_INVALIDDATA : err);
            goto fail;
        }
        err = av_read_frame(fmt, pkt);
        if (err == AVERROR_EOF) {
            avcodec_send_packet(dec, NULL);
            flushed = 1;
            continue;
        }
        if (err < 0) {
            st = lpi_av_error(LP_STATUS_IO, fn, path, "cannot read", err);
            goto fail;
        }
        if (pkt->stream_index == idx) err = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        if (err < 0 && err != AVERROR(EAGAIN)) {
            st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot decode image", err);
            goto fail;
        }
    }
    if (frame->width <= 0 || frame->height <= 0) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: image has no size", path);
        goto fail;
    }
    *out = frame;
    frame = NULL;
fail:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return st;
}

lp_status lp_image_read_rgb_into(const char *path, int64_t capacity, uint8_t *buf,
                                 int64_t size_out[2]) {
    const char *fn = "lp_image_read_rgb";
    AVFrame *f = NULL;
    lpi_scaler sc = {0};
    lp_status st = decode_image(fn, path, &f);
    if (st) return st;
    int64_t need = (int64_t)f->width * f->height * 3;
    if (size_out) { size_out[0] = f->height; size_out[1] = f->width; }
    if (buf || capacity) {
        if (!buf || capacity < need)
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: buffer of %lld bytes, need %lld (%dx%dx3)", path, (long long)capacity, (long long)need, f->height, f->width);
        else
            st = lpi_scale_copy(&sc, f, f->width, f->height, SWS_POINT, buf, f->width * 3, fn);
    }
    lpi_scaler_free(&sc);
    av_frame_free(&f);
    return st;
}

lp_status lp_image_read_rgb(const char *path, lp_tensor **out) {
    const char *fn = "lp_image_read_rgb";
    AVFrame *f = NULL;
    lpi_scaler sc = {0};
    lp_tensor *t = NULL;
    void *data = NULL;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    lp_status st = decode_image(fn, path, &f);
    if (st) return st;
    int64_t shape[3] = {f->height, f->width, 3};
    if ((st = lp_tensor_empty(shape, 3, LP_DTYPE_U8, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &data)) ||
        (st = lpi_scale_copy(&sc, f, f->width, f->height, SWS_POINT, data, f->width * 3, fn)))
        goto fail;
    *out = t;
    t = NULL;
fail:
    lp_tensor_free(t);
    lpi_scaler_free(&sc);
    av_frame_free(&f);
    return st;
}

/* Convert a decoded frame to RGB24 at height x width (bicubic), normalise into out. */
static lp_status frame_to_chw(const char *fn, const AVFrame *f, int32_t height, int32_t width,
                              float *out) {
    lpi_scaler sc = {0};
    /* Full-precision bicubic: closest to OpenCV INTER_CUBIC on uint8. */
    lp_status st = lpi_scale_floats(&sc, f, width, height, SWS_BICUBIC | SWS_ACCURATE_RND, 0, out, fn);
    lpi_scaler_free(&sc);
    return st;
}

lp_status lp_image_load_into(const char *path, int32_t height, int32_t width,
                             int64_t size_out[2], float *out) {
    const char *fn = "lp_image_load";
    AVFrame *f = NULL;
    if (!out || height <= 0 || width <= 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: need an output buffer and height, width > 0 (got %d x %d)",
                         path ? path : "(null)", height, width);
    lp_status st = decode_image(fn, path, &f);
    if (st) return st;
    if (size_out) { size_out[0] = f->height; size_out[1] = f->width; }
    st = frame_to_chw(fn, f, height, width, out);
    av_frame_free(&f);
    return st;
}

lp_status lp_image_load(const char *path, int32_t height, int32_t width, int64_t size_out[2],
                        lp_tensor **out) {
    const char *fn = "lp_image_load";
    AVFrame *f = NULL;
    lp_tensor *t = NULL;
    void *data = NULL;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    lp_status st = decode_image(fn, path, &f);
    if (st) return st;
    if (size_out) { size_out[0] = f->height; size_out[1] = f->width; }
    if (height <= 0 || width <= 0) { height = f->height; width = f->width; }
    int64_t shape[3] = {3, height, width};
    if ((st = lp_tensor_empty(shape, 3, LP_DTYPE_F32, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &data)) || (st = frame_to_chw(fn, f, height, width, data)))
        goto fail;
    *out = t;
    t = NULL;
fail:
    lp_tensor_free(t);
    av_frame_free(&f);
    return st;
}
