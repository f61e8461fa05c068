/* video_reader.c: frame-exact video reading with FFmpeg (docs/spec/toolchain.md §6).
 *
 * Frame count: mp4/mov sample tables count frames exactly (nb_frames, LP's
 * CAP_PROP_FRAME_COUNT); other containers get one demux pass over the
 * packets at open. That pass also records every presentation timestamp
 * (sorted: frame i has the i-th smallest pts) and the keyframes; for mp4 it
 * runs lazily, at the first random access, so streaming a long video never
 * reads the file twice. Reads that continue forward decode on; a jump past
 * a keyframe seeks back to the keyframe before the target
 * (AVSEEK_FLAG_BACKWARD), flushes, and decodes until the frame whose pts is
 * the target's. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt_internal.h"
#include "data/av.h"
#include "video_internal.h"

struct lp_video {
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    AVPacket *pkt;
    AVFrame *frame;
    lpi_scaler sc_rgb, sc_batch;
    int64_t n_frames;
    int64_t *pts;    /* n_frames, ascending */
    int64_t *key;    /* keyframe pts, ascending */
    int64_t n_key;
    double fps;
    int32_t width, height;
    int64_t cur;     /* index of the frame in `frame`, -1 none */
    int positioned;  /* the decoder will next produce frame cur+1 */
    int draining;    /* flush packet sent */
    int count_only;  /* packets lack pts (e.g. AVI): index frames by counting from 0 */
    int64_t n_seeks;
    int have_table;  /* pts and key hold the demux pass */
};

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int push_i64(int64_t **arr, int64_t *n, int64_t *cap, int64_t v) {
    if (*n == *cap) {
        int64_t c = *cap ? *cap * 2 : 1024;
        int64_t *a = realloc(*arr, (size_t)c * sizeof *a);
        if (!a) return -1;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

/* Demux every packet of the stream once, in a private context, so the main
 * one stays at the start. Missing pts (some AVI) fall back to dts. */
static lp_status scan_packets(lp_video *v, const char *fn) {
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int64_t cap = 0, cap_key = 0, n_nots = 0;
    lp_status st = LP_STATUS_OK;
    int err;
    if (!pkt) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    free(v->pts); /* start clean: a failed pass may be retried */
    free(v->key);
    v->pts = v->key = NULL;
    v->n_frames = v->n_key = 0;
    v->count_only = 0;
    if ((err = avformat_open_input(&fmt, v->path, NULL, NULL)) < 0) {
        st = lpi_open_error(fn, v->path, err);
        goto fail;
    }
    while ((err = av_read_frame(fmt, pkt)) >= 0) {
        if (pkt->stream_index == v->stream) {
            int64_t ts = pkt->pts;
            if (pkt->flags & AV_PKT_FLAG_DISCARD) goto next; /* edit list: never shown */
            if (ts == AV_NOPTS_VALUE) { /* no pts: keep decode order, count frames */
                v->count_only = 1;
                ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : n_nots;
                ++n_nots;
            }
            if (push_i64(&v->pts, &v->n_frames, &cap, ts) ||
                ((pkt->flags & AV_PKT_FLAG_KEY) && push_i64(&v->key, &v->n_key, &cap_key, ts))) {
                st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
                goto fail;
            }
        }
    next:
        av_packet_unref(pkt);
    }
    if (err != AVERROR_EOF) {
        st = lpi_av_error(LP_STATUS_IO, fn, v->path, "corrupt or truncated file: demuxing stops",
                          err);
        goto fail;
    }
    if (v->n_frames == 0) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: the video stream has no frames", v->path);
        goto fail;
    }
    qsort(v->pts, (size_t)v->n_frames, sizeof *v->pts, cmp_i64);
    if (v->n_key) qsort(v->key, (size_t)v->n_key, sizeof *v->key, cmp_i64);
    v->have_table = 1;
fail:
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return st;
}

void lp_video_free(lp_video *v) {
    if (!v) return;
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    av_packet_free(&v->pkt);
    av_frame_free(&v->frame);
    lpi_scaler_free(&v->sc_rgb);
    lpi_scaler_free(&v->sc_batch);
    free(v->pts);
    free(v->key);
    free(v->path);
    free(v);
}

lp_status lp_video_open(const char *path, int32_t n_threads, lp_video **out) {
    const char *fn = "lp_video_open";
    lp_status st = LP_STATUS_OK;
    lp_video *v = NULL;
    int err;
    if (!out || !path || !path[0]) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL or empty path");
    *out = NULL;
    lpi_av_init();
    if (!(v = calloc(1, sizeof *v)) || !(v->path = strdup(path)) ||
        !(v->pkt = av_packet_alloc()) || !(v->frame = av_frame_alloc())) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    v->cur = -1;
    if ((err = avformat_open_input(&v->fmt, path, NULL, NULL)) < 0) {
        st = lpi_open_error(fn, path, err);
        goto fail;
    }
    if ((err = avformat_find_stream_info(v->fmt, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot read stream info", err);
        goto fail;
    }
    v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v->stream < 0) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: no video stream in the file", path);
        goto fail;
    }
    AVStream *s = v->fmt->streams[v->stream];
    const AVCodec *codec = avcodec_find_decoder(s->codecpar->codec_id);
    if (!codec) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: unsupported codec '%s' (no FFmpeg decoder)", path, avcodec_get_name(s->codecpar->codec_id));
        goto fail;
    }
    if (!(v->dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(v->dec, s->codecpar) < 0) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    v->dec->thread_count = n_threads > 0 ? n_threads : 0;
    v->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    v->dec->pkt_timebase = s->time_base;
    if ((err = avcodec_open2(v->dec, codec, NULL)) < 0) {
        st = lpi_av_error(LP_STATUS_UNSUPPORTED, fn, path, "cannot open the decoder", err);
        goto fail;
    }
    v->width = s->codecpar->width;
    v->height = s->codecpar->height;
    if (v->width <= 0 || v->height <= 0) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "%s: video stream has no frame size", path);
        goto fail;
    }
    if (s->nb_frames > 0 && strstr(v->fmt->iformat->name, "mp4")) {
        v->n_frames = s->nb_frames; /* the sample table: exact, no pass needed yet */
    } else {
        if ((st = scan_packets(v, fn))) goto fail;
        /* avi headers count the frames too: fewer packets means a cut file */
        if (s->nb_frames > 0 && v->n_frames < s->nb_frames) {
            st = lp_errorf(LP_STATUS_IO, fn,
                           "%s: truncated or corrupt: the container lists %lld frames but"
                           " only %lld are present", path, (long long)s->nb_frames,
                           (long long)v->n_frames);
            goto fail;
        }
    }
    AVRational r = s->avg_frame_rate.num > 0 ? s->avg_frame_rate : s->r_frame_rate;
    v->fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0;
    if (v->fps <= 0.0 && v->have_table && v->n_frames > 1 && v->pts[v->n_frames - 1] > v->pts[0])
        v->fps = (double)(v->n_frames - 1) /
                 ((double)(v->pts[v->n_frames - 1] - v->pts[0]) * av_q2d(s->time_base));
    v->positioned = 1; /* a fresh decoder starts at frame 0 */
    *out = v;
    return LP_STATUS_OK;
fail:
    lp_video_free(v);
    return st;
}

int64_t lp_video_n_frames(const lp_video *v) { return v ? v->n_frames : -1; }
double lp_video_fps(const lp_video *v) { return v ? v->fps : -1.0; }
int32_t lp_video_width(const lp_video *v) { return v ? v->width : -1; }
int32_t lp_video_height(const lp_video *v) { return v ? v->height : -1; }
int64_t lp_video_n_seeks(const lp_video *v) { return v ? v->n_seeks : -1; }
const char *lp_video_codec_name(const lp_video *v) {
    return v && v->dec ? avcodec_get_name(v->dec->codec_id) : "";
}

/* Index of the frame with timestamp ts: exact match, else the last one below. */
static int64_t index_of_ts(const lp_video *v, int64_t ts) {
    int64_t lo = 0, hi = v->n_frames; /* first pts > ts */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->pts[mid] <= ts) lo = mid + 1; else hi = mid;
    }
    return lo - 1; /* -1: before the first frame */
}

/* Decode the next frame into v->frame. EOF at the end of the stream. */
static lp_status decode_next(lp_video *v, const char *fn) {
    for (;;) {
        int err = avcodec_receive_frame(v->dec, v->frame);
        if (err == 0) return LP_STATUS_OK;
        if (err == AVERROR_EOF) return LP_STATUS_EOF;
        if (err != AVERROR(EAGAIN))
            return lpi_av_error(LP_STATUS_IO, fn, v->path, "decoding failed", err);
        err = av_read_frame(v->fmt, v->pkt);
        if (err == AVERROR_EOF || (err < 0 && v->fmt->pb && avio_feof(v->fmt->pb))) {
            if (v->draining) return LP_STATUS_EOF;
            v->draining = 1;
            avcodec_send_packet(v->dec, NULL);
            continue;
        }
        if (err < 0) return lpi_av_error(LP_STATUS_IO, fn, v->path, "reading failed", err);
        if (v->pkt->stream_index == v->stream) {
            err = avcodec_send_packet(v->dec, v->pkt);
            if (err < 0 && err != AVERROR(EAGAIN)) {
                av_packet_unref(v->pkt);
                return lpi_av_error(LP_STATUS_IO, fn, v->path,
                                    "corrupt data: the decoder rejects a packet", err);
            }
        }
        av_packet_unref(v->pkt);
    }
}

/* The timestamp table, built on first need (mp4 skips it at open). A file
 * with fewer packets than its sample table lists is cut: say so, and carry
 * on with the frames that are there. */
static lp_status ensure_table(lp_video *v, const char *fn) {
    if (v->have_table) return LP_STATUS_OK;
    int64_t listed = v->n_frames;
    lp_status st = scan_packets(v, fn);
    if (st) {
        v->n_frames = listed;
        return st;
    }
    if (v->n_frames < listed)
        return lp_errorf(LP_STATUS_IO, fn,
                         "%s: truncated or corrupt: the container lists %lld frames but only"
                         " %lld are present", v->path, (long long)listed,
                         (long long)v->n_frames);
    return LP_STATUS_OK;
}

/* Seek so that decoding resumes at or before frame `target`, then decode
 * the first frame and map it to its index. Tries the target's pts, then
 * the keyframe before it, then the start of the file. */
static lp_status seek_to(lp_video *v, int64_t target, const char *fn) {
    int64_t tries[3];
    int n = 0;
    if (!v->count_only) tries[n++] = v->pts[target];
    int64_t lo = 0, hi = v->n_key; /* last keyframe with pts < target's */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->key[mid] < v->pts[target]) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && !v->count_only) tries[n++] = v->key[lo - 1];
    tries[n++] = INT64_MIN;
    for (int i = 0; i < n; ++i) {
        int err = tries[i] == INT64_MIN
                      ? avformat_seek_file(v->fmt, v->stream, INT64_MIN, v->pts[0], v->pts[0], 0)
                      : av_seek_frame(v->fmt, v->stream, tries[i], AVSEEK_FLAG_BACKWARD);
        if (err < 0) continue;
        v->n_seeks++;
        avcodec_flush_buffers(v->dec);
        v->draining = 0;
        v->positioned = 0;
        v->cur = -1;
        lp_status st = decode_next(v, fn);
        if (st == LP_STATUS_EOF) continue;
        if (st) return st;
        int64_t ts = v->frame->best_effort_timestamp;
        int64_t j = tries[i] == INT64_MIN && (ts == AV_NOPTS_VALUE || v->count_only)
                        ? 0
                        : index_of_ts(v, ts);
        if (ts == AV_NOPTS_VALUE && tries[i] != INT64_MIN) continue;
        if (j < 0) j = 0;
        if (j <= target) {
            v->cur = j;
            v->positioned = 1;
            return LP_STATUS_OK;
        }
    }
    return lp_errorf(LP_STATUS_IO, fn, "%s: cannot seek to frame %lld", v->path,
                     (long long)target);
}

/* Make v->frame hold frame `index`. */
static lp_status goto_frame(lp_video *v, int64_t index, const char *fn) {
    if (v->cur == index && v->positioned) return LP_STATUS_OK;
    int forward = v->positioned && index > v->cur;
    lp_status st;
    if ((!forward || index - v->cur > 16) && (st = ensure_table(v, fn))) return st;
    if (index >= v->n_frames)
        return lp_errorf(LP_STATUS_EOF, fn, "%s: frame %lld is past the end (%lld frames)",
                         v->path, (long long)index, (long long)v->n_frames);
    if (forward && v->have_table && v->n_key && !v->count_only) { /* a keyframe in between: seek */
        int64_t from = v->cur >= 0 ? v->pts[v->cur] : INT64_MIN;
        int64_t lo = 0, hi = v->n_key;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (v->key[mid] <= from) lo = mid + 1; else hi = mid;
        }
        if (lo < v->n_key && v->key[lo] <= v->pts[index] && index - v->cur > 16) forward = 0;
    }
    if (!forward && (st = seek_to(v, index, fn))) return st;
    while (v->cur < index) {
        st = decode_next(v, fn);
        if (st == LP_STATUS_EOF) {
            v->positioned = 0;
            return lp_errorf(LP_STATUS_EOF, fn,
                             "%s: the stream ended after frame %lld while reading frame %lld"
                             " (the file lists %lld frames: truncated or corrupt?)", v->path,
                             (long long)v->cur, (long long)index, (long long)v->n_frames);
        }
        if (st) {
            v->positioned = 0;
            return st;
        }
        /* Trust the timestamp when it is in the table (robust to dropped frames). */
        int64_t ts = v->frame->best_effort_timestamp;
        int64_t j =
            ts != AV_NOPTS_VALUE && v->have_table && !v->count_only ? index_of_ts(v, ts) : -1;
        v->cur = (j > v->cur && v->pts[j] == ts) ? j : v->cur + 1;
    }
    if (v->cur != index) {
        v->positioned = 0;
        return lp_errorf(LP_STATUS_IO, fn, "%s: frame %lld could not be decoded (the decoder"
                         " skipped from frame %lld)", v->path, (long long)index,
                         (long long)v->cur);
    }
    return LP_STATUS_OK;
}

static lp_status check_range(const lp_video *v, int64_t start, int64_t n, const char *fn) {
    if (!v) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL video");
    if (start == v->n_frames && n > 0)
        return lp_errorf(LP_STATUS_EOF, fn, "%s: end of stream (frame %lld of %lld)", v->path,
                         (long long)start, (long long)v->n_frames);
    if (n <= 0 || start < 0 || start > v->n_frames - n)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: frames %lld..%lld out of range: the video has %lld frames"
                         " (0..%lld)", v->path, (long long)start, (long long)(start + n - 1),
                         (long long)v->n_frames, (long long)(v->n_frames - 1));
    return LP_STATUS_OK;
}

lp_status lp_video_read_frame_rgb_into(lp_video *v, int64_t index, uint8_t *out) {
    const char *fn = "lp_video_read_frame_rgb";
    lp_status st = check_range(v, index, 1, fn);
    if (st) return st;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    if ((st = goto_frame(v, index, fn))) return st;
    return lpi_scale_copy(&v->sc_rgb, v->frame, v->width, v->height, SWS_BILINEAR, out,
                          v->width * 3, fn);
}

lp_status lp_video_read_frame_rgb(lp_video *v, int64_t index, lp_tensor **out) {
    const char *fn = "lp_video_read_frame_rgb";
    lp_tensor *t = NULL;
    void *data = NULL;
    lp_status st = check_range(v, index, 1, fn);
    if (st) return st;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    int64_t shape[3] = {v->height, v->width, 3};
    if ((st = lp_tensor_empty(shape, 3, LP_DTYPE_U8, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &data)) ||
        (st = lp_video_read_frame_rgb_into(v, index, data))) {
        lp_tensor_free(t);
        return st;
    }
    *out = t;
    return LP_STATUS_OK;
}

/* Frames start..start+n-1 as (n, 3, h, w) floats, or (n, h, w, 3) with `hwc`. */
static lp_status read_batch(lp_video *v, int64_t start, int64_t n, int32_t h, int32_t w, int hwc,
                            float *out, const char *fn) {
    size_t per = (size_t)w * (size_t)h * 3; /* floats per frame */
    for (int64_t i = 0; i < n; ++i) {
        lp_status st = lp_interrupt_check(fn); /* once per frame: a batch can be long */
        if (!st) st = goto_frame(v, start + i, fn);
        if (!st) st = lpi_scale_floats(&v->sc_batch, v->frame, w, h, SWS_BILINEAR, hwc, out + (size_t)i * per, fn);
        if (st == LP_STATUS_INTERRUPTED) return st;
        if (st) { /* name the frame: where a file cut short ends */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s (reading frame %lld)", lp_last_error(), (long long)(start + i));
            return lp_set_error(st, msg);
        }
    }
    return LP_STATUS_OK;
}

static lp_status read_batch_into(lp_video *v, int64_t start, int64_t n, int32_t height, int32_t width,
                                 int hwc, float *out) {
    const char *fn = "lp_video_read_batch";
    lp_status st = check_range(v, start, n, fn);
    if (st) return st;
    if (!out || height <= 0 || width <= 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: need an output buffer and height, width > 0"
                         " (got %d x %d)", v->path, height, width);
    return read_batch(v, start, n, height, width, hwc, out, fn);
}

lp_status lp_video_read_batch_into(lp_video *v, int64_t start, int64_t n, int32_t height,
                                   int32_t width, float *out) {
    return read_batch_into(v, start, n, height, width, 0, out);
}

lp_status lpv_read_batch_hwc_into(lp_video *v, int64_t start, int64_t n, int32_t height,
                                  int32_t width, float *out) {
    return read_batch_into(v, start, n, height, width, 1, out);
}

lp_status lp_video_read_batch(lp_video *v, int64_t start, int64_t n, int32_t height,
                              int32_t width, lp_tensor **out) {
    const char *fn = "lp_video_read_batch";
    lp_tensor *t = NULL;
    void *data = NULL;
    lp_status st = check_range(v, start, n, fn);
    if (st) return st;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    if (height <= 0 || width <= 0) { height = v->height; width = v->width; }
    int64_t shape[4] = {n, 3, height, width};
    if ((st = lp_tensor_empty(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &data)) ||
        (st = read_batch(v, start, n, height, width, 0, data, fn))) {
        lp_tensor_free(t);
        return st;
    }
    *out = t;
    return LP_STATUS_OK;
}
