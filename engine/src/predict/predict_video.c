/* predict_video.c: a video file -> LP's predictions CSV and temporal norm
 * CSV per model, rows written as the streams produce them (memory bounded).
 * One decode serves every model: each window is decoded once and fed to
 * each member's stream in turn (an ensemble's frames are decoded once). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "predict_internal.h"

/* One model's stream and output files. */
typedef struct member {
    lp_predict_stream *stream;
    lp_csv_writer *csv, *norm;
    float *row, *prev, *norm_row; /* K*3, K*2, K */
    float *kp_buf, *conf_buf;
    int32_t K;
    int64_t cap, n_written;
} member;

static void member_free(member *m) {
    lp_csv_writer_free(m->csv);
    lp_csv_writer_free(m->norm);
    lp_predict_stream_free(m->stream);
    free(m->row);
    free(m->prev);
    free(m->norm_row);
    free(m->kp_buf);
    free(m->conf_buf);
}

static lp_status member_open(member *m, lp_model *model, int64_t n_frames, double fh, double fw,
                             double fps, const lp_predict_params *params,
                             const char *const *names, const char *scorer, const char *csv_path,
                             const char *norm_path, const char *fn) {
    lp_model_params mp;
    lp_status st = lp_model_get_params(model, &mp);
    if (st) return st;
    const int32_t K = m->K = mp.num_keypoints;
    char scorer_buf[64];
    if (!scorer) {
        const char *name = lp_model_type_name(mp.model_type);
        snprintf(scorer_buf, sizeof scorer_buf, "%s_tracker", name ? name : "heatmap");
        scorer = scorer_buf;
    }
    m->row = malloc(sizeof(float) * (size_t)K * 3);
    m->prev = malloc(sizeof(float) * (size_t)K * 2);
    m->norm_row = malloc(sizeof(float) * (size_t)K);
    if (!m->row || !m->prev || !m->norm_row) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    if ((st = lp_predict_stream_open_fed(model, n_frames, fh, fw, fps, params, &m->stream))) return st;
    if ((st = lp_csv_writer_open(csv_path, LP_CSV_PREDICTIONS, scorer, K, names, 0, &m->csv))) return st;
    if (norm_path && (st = lp_csv_writer_open(norm_path, LP_CSV_METRIC, NULL, K, names, 0, &m->norm)))
        return st;
    return LP_STATUS_OK;
}

/* Rows start..start+n-1 of one member: keypoints (n, K, 2), confidences (n, K). */
static lp_status member_write(member *m, int64_t start, const lp_tensor *kp,
                              const lp_tensor *conf, const char *fn) {
    const int32_t K = m->K;
    int64_t n = lp_tensor_size(kp, 0);
    if (start != m->n_written)
        return lp_errorf(LP_STATUS_INTERNAL, fn, "frame %lld came after %lld rows",
                         (long long)start, (long long)m->n_written);
    if (n > m->cap) {
        free(m->kp_buf);
        free(m->conf_buf);
        m->cap = n;
        m->kp_buf = malloc(sizeof(float) * (size_t)(n * K * 2));
        m->conf_buf = malloc(sizeof(float) * (size_t)(n * K));
        if (!m->kp_buf || !m->conf_buf) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    lp_status st;
    if (n > 0) {
        if ((st = lp_tensor_to_buffer(kp, m->kp_buf, (int64_t)sizeof(float) * n * K * 2))) return st;
        if ((st = lp_tensor_to_buffer(conf, m->conf_buf, (int64_t)sizeof(float) * n * K))) return st;
    }
    for (int64_t i = 0; i < n; ++i) {
        const float *p = m->kp_buf + i * K * 2;
        for (int32_t k = 0; k < K; ++k) {
            m->row[3 * k] = p[2 * k];
            m->row[3 * k + 1] = p[2 * k + 1];
            m->row[3 * k + 2] = m->conf_buf[i * K + k];
        }
        if ((st = lp_csv_writer_write_row(m->csv, NULL, m->row, NULL))) return st;
        if (m->norm) {
            for (int32_t k = 0; k < K; ++k) {
                if (m->n_written == 0) {
                    m->norm_row[k] = NAN;
                } else {
                    /* LP's TemporalLoss: ||p_t - p_{t-1}||_2 in float32 */
                    float dx = p[2 * k] - m->prev[2 * k], dy = p[2 * k + 1] - m->prev[2 * k + 1];
                    m->norm_row[k] = sqrtf(dx * dx + dy * dy);
                }
            }
            if ((st = lp_csv_writer_write_row(m->norm, NULL, m->norm_row, NULL))) return st;
        }
        memcpy(m->prev, p, sizeof(float) * (size_t)K * 2);
        ++m->n_written;
    }
    return LP_STATUS_OK;
}

/* Feed one window (NULL: the end) to a member and write what it emits. */
static lp_status member_step(member *m, int64_t start, const lp_tensor *window,
                             const char *fn) {
    lp_predict_stream_feed(m->stream, start, window);
    int64_t first = 0;
    lp_tensor *kp = NULL, *conf = NULL;
    lp_status st = lp_predict_stream_next(m->stream, &first, &kp, &conf);
    if (st == LP_STATUS_OK) st = member_write(m, first, kp, conf, fn);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    return st;
}

/* Members must cut the same windows from the same input size. */
static lp_status check_compatible(member *ms, int32_t n, const char *fn) {
    int64_t f0, s0, h0, w0;
    lp_predict_stream_schedule(ms[0].stream, &f0, &s0, &h0, &w0);
    for (int32_t i = 1; i < n; ++i) {
        int64_t f, s, h, w;
        lp_predict_stream_schedule(ms[i].stream, &f, &s, &h, &w);
        if (f != f0 || s != s0 || h != h0 || w != w0)
            return lp_errorf(LP_STATUS_BAD_ARG, fn,
                             "model %d takes %lldx%lld inputs in windows of %lld+%lld frames, "
                             "model 0 %lldx%lld in %lld+%lld: predict them one by one", i, (long long)h, (long long)w, (long long)f, (long long)s,
                             (long long)h0, (long long)w0, (long long)f0, (long long)s0);
    }
    return LP_STATUS_OK;
}

static lp_status close_members(member *ms, int32_t n) {
    lp_status st;
    for (int32_t i = 0; i < n; ++i) {
        if ((st = lp_csv_writer_close(ms[i].csv))) return st;
        if (ms[i].norm && (st = lp_csv_writer_close(ms[i].norm))) return st;
    }
    return LP_STATUS_OK;
}

lp_status lp_predict_video_ensemble(lp_model *const *models, int32_t n_models,
                                    const char *video_path, const lp_predict_params *params,
                                    const char *const *keypoint_names, const char *scorer,
                                    const char *const *csv_paths,
                                    const char *const *temporal_norm_paths,
                                    lp_predict_stats *out) {
    const char *fn = "lp_predict_video";
    if (!models || n_models < 1 || !video_path || !csv_paths)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument or no models");
    for (int32_t i = 0; i < n_models; ++i)
        if (!models[i] || !csv_paths[i])
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL model or path %d", i);
    double t0 = lp_pred_now(), t_wait = 0;
    lp_predict_params p = params ? *params : lp_predict_default_params();
    lp_video *video = NULL;
    lp_prefetch *pf = NULL;
    member *ms = calloc((size_t)n_models, sizeof *ms);
    if (!ms) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    lp_status st = lp_video_open(video_path, lp_pred_decode_threads(&p, lp_model_device(models[0])), &video);
    if (st) goto fail;
    const int64_t N = lp_video_n_frames(video);
    const double fh = lp_video_height(video), fw = lp_video_width(video), fps = lp_video_fps(video);
    if (N < 1) {
        st = lp_errorf(LP_STATUS_UNSUPPORTED, fn, "'%s' has no frames", video_path);
        goto fail;
    }
    for (int32_t i = 0; i < n_models; ++i)
        if ((st = member_open(&ms[i], models[i], N, fh, fw, fps, &p, keypoint_names, scorer,
                              csv_paths[i], temporal_norm_paths ? temporal_norm_paths[i] : NULL,
                              fn)))
            goto fail;
    if ((st = check_compatible(ms, n_models, fn))) goto fail;
    int64_t first, step, H, W;
    lp_predict_stream_schedule(ms[0].stream, &first, &step, &H, &W);
    st = lp_prefetch_start(video, first, step, (int32_t)H, (int32_t)W, p.prefetch, &pf);
    video = NULL; /* owned by the prefetcher, even when it failed to start */
    if (st) goto fail;
    for (;;) {
        int64_t start = 0, n = 0;
        const lp_tensor *window = NULL; /* the prefetcher's, until the next call */
        double tw = lp_pred_now();
        st = lp_prefetch_next(pf, &start, &n, &window);
        t_wait += lp_pred_now() - tw;
        if (st && st != LP_STATUS_EOF) goto fail;
        const int ended = st == LP_STATUS_EOF;
        for (int32_t i = 0; i < n_models; ++i) {
            st = member_step(&ms[i], start, window, fn);
            if (st == LP_STATUS_EOF && ended) continue;
            if (st) goto fail;
        }
        if (ended) break;
    }
    for (int32_t i = 0; i < n_models; ++i)
        if (ms[i].n_written != N) {
            st = lp_errorf(LP_STATUS_INTERNAL, fn, "model %d wrote %lld of %lld frames", i,
                           (long long)ms[i].n_written, (long long)N);
            goto fail;
        }
    if ((st = close_members(ms, n_models))) goto fail;
    for (int32_t i = 0; out && i < n_models; ++i) {
        lp_predict_stats *o = &out[i];
        o->n_frames = ms[i].n_written;
        o->n_backbone_frames = lp_predict_stream_n_backbone_frames(ms[i].stream);
        o->seconds_total = lp_pred_now() - t0;
        o->seconds_model = lp_predict_stream_seconds_model(ms[i].stream);
        o->seconds_wait = t_wait / n_models;
        o->seconds_backbone = lp_predict_stream_seconds_backbone(ms[i].stream);
        o->seconds_heads = lp_predict_stream_seconds_heads(ms[i].stream);
        o->seconds_decode = lp_predict_stream_seconds_decode(ms[i].stream);
        o->width = (int32_t)fw;
        o->height = (int32_t)fh;
        o->fps = fps;
    }
fail:
    for (int32_t i = 0; i < n_models; ++i) member_free(&ms[i]);
    free(ms);
    lp_prefetch_free(pf);
    lp_video_free(video);
    return lp_error_prefix(st, fn);
}

lp_status lp_predict_video(lp_model *model, const char *video_path,
                           const lp_predict_params *params, const char *const *keypoint_names,
                           const char *scorer, const char *csv_path,
                           const char *temporal_norm_path, lp_predict_stats *out) {
    if (!model || !video_path || !csv_path)
        return lp_errorf(LP_STATUS_BAD_ARG, "lp_predict_video", "NULL argument");
    return lp_predict_video_ensemble(&model, 1, video_path, params, keypoint_names, scorer,
                                     &csv_path, temporal_norm_path ? &temporal_norm_path : NULL,
                                     out);
}
