/* predict_video.c: a video file -> LP's predictions CSV and temporal norm
 * CSV, rows written as the stream produces them (memory bounded). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_util.h"
#include "predict_internal.h"

lp_status lp_predict_video(lp_model *model, const char *video_path,
                           const lp_predict_params *params, const char *const *keypoint_names,
                           const char *scorer, const char *csv_path,
                           const char *temporal_norm_path, lp_predict_stats *out) {
    const char *fn = "lp_predict_video";
    if (!model || !video_path || !csv_path)
        return lp_errorf(LP_STATUS_BAD_ARG, "%s: NULL argument", fn);
    double t0 = lp_pred_now();
    lp_model_params mp;
    lp_status st = lp_model_get_params(model, &mp);
    if (st) return st;
    const int32_t K = mp.num_keypoints;
    char scorer_buf[64];
    if (!scorer) {
        const char *name = lp_model_type_name(mp.model_type);
        snprintf(scorer_buf, sizeof scorer_buf, "%s_tracker", name ? name : "heatmap");
        scorer = scorer_buf;
    }
    lp_predict_stream *s = NULL;
    lp_csv_writer *w = NULL, *wt = NULL;
    lp_tensor *kp = NULL, *conf = NULL;
    float *kp_buf = NULL, *conf_buf = NULL;
    float *row = malloc(sizeof(float) * (size_t)K * 3);
    float *prev = malloc(sizeof(float) * (size_t)K * 2);
    float *tn = malloc(sizeof(float) * (size_t)K);
    int64_t cap = 0, n_written = 0;
    if (!row || !prev || !tn) {
        st = lp_errorf(LP_STATUS_OOM, "%s: out of memory", fn);
        goto fail;
    }
    if ((st = lp_predict_stream_open(model, video_path, params, &s))) goto fail;
    if ((st = lp_csv_writer_open(csv_path, LP_CSV_PREDICTIONS, scorer, K, keypoint_names, 0, &w)))
        goto fail;
    if (temporal_norm_path &&
        (st = lp_csv_writer_open(temporal_norm_path, LP_CSV_METRIC, NULL, K, keypoint_names, 0, &wt)))
        goto fail;
    for (;;) {
        int64_t start = 0;
        st = lp_predict_stream_next(s, &start, &kp, &conf);
        if (st == LP_STATUS_EOF) break;
        if (st) goto fail;
        int64_t n = lp_tensor_size(kp, 0);
        if (start != n_written) {
            st = lp_errorf(LP_STATUS_INTERNAL, "%s: frame %lld came after %lld rows", fn,
                                (long long)start, (long long)n_written);
            goto fail;
        }
        if (n > cap) {
            free(kp_buf);
            free(conf_buf);
            cap = n;
            kp_buf = malloc(sizeof(float) * (size_t)(n * K * 2));
            conf_buf = malloc(sizeof(float) * (size_t)(n * K));
            if (!kp_buf || !conf_buf) {
                st = lp_errorf(LP_STATUS_OOM, "%s: out of memory", fn);
                goto fail;
            }
        }
        if (n > 0) {
            if ((st = lp_tensor_to_buffer(kp, kp_buf, (int64_t)sizeof(float) * n * K * 2))) goto fail;
            if ((st = lp_tensor_to_buffer(conf, conf_buf, (int64_t)sizeof(float) * n * K))) goto fail;
        }
        for (int64_t i = 0; i < n; ++i) {
            const float *p = kp_buf + i * K * 2;
            for (int32_t k = 0; k < K; ++k) {
                row[3 * k] = p[2 * k];
                row[3 * k + 1] = p[2 * k + 1];
                row[3 * k + 2] = conf_buf[i * K + k];
            }
            if ((st = lp_csv_writer_write_row(w, NULL, row, NULL))) goto fail;
            if (wt) {
                for (int32_t k = 0; k < K; ++k) {
                    if (n_written == 0) {
                        tn[k] = NAN;
                    } else {
                        /* LP's TemporalLoss: ||p_t - p_{t-1}||_2 in float32 */
                        float dx = p[2 * k] - prev[2 * k], dy = p[2 * k + 1] - prev[2 * k + 1];
                        tn[k] = sqrtf(dx * dx + dy * dy);
                    }
                }
                if ((st = lp_csv_writer_write_row(wt, NULL, tn, NULL))) goto fail;
            }
            memcpy(prev, p, sizeof(float) * (size_t)K * 2);
            ++n_written;
        }
        lp_tensor_free(kp);
        lp_tensor_free(conf);
        kp = conf = NULL;
    }
    if (n_written != lp_predict_stream_n_frames(s)) {
        st = lp_errorf(LP_STATUS_INTERNAL, "%s: wrote %lld of %lld frames", fn,
                            (long long)n_written, (long long)lp_predict_stream_n_frames(s));
        goto fail;
    }
    if ((st = lp_csv_writer_close(w))) goto fail;
    if (wt && (st = lp_csv_writer_close(wt))) goto fail;
    if (out) {
        out->n_frames = n_written;
        out->n_backbone_frames = lp_predict_stream_n_backbone_frames(s);
        out->seconds_total = lp_pred_now() - t0;
        out->seconds_model = lp_predict_stream_seconds_model(s);
        out->seconds_wait = lp_predict_stream_seconds_wait(s);
        out->width = lp_predict_stream_width(s);
        out->height = lp_predict_stream_height(s);
        out->fps = lp_predict_stream_fps(s);
    }
fail:
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    lp_csv_writer_free(w);
    lp_csv_writer_free(wt);
    lp_predict_stream_free(s);
    free(kp_buf);
    free(conf_buf);
    free(row);
    free(prev);
    free(tn);
    return lp_error_prefix(st, fn);
}
