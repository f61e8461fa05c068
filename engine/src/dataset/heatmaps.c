/* heatmaps.c: Gaussian target heatmaps (docs/spec/lp-model.md §5, LP heatmaps.py). */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "lpose.h"

lp_status lp_heatmaps_fill(float *keypoints, const uint8_t *visibility, int64_t n, int32_t n_keypoints,
                           int32_t height, int32_t width, int32_t downsample_factor, double sigma,
                           int32_t uniform_heatmaps, float *out) {
    const char *fn = "lp_heatmaps_fill";
    if (!keypoints || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL keypoints or out");
    if (n < 0 || n_keypoints < 0 || downsample_factor < 0 || downsample_factor > 8)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "bad n %lld, K %d or downsample_factor %d", (long long)n,
                         n_keypoints, downsample_factor);
    int32_t hh = height >> downsample_factor, wh = width >> downsample_factor;
    if (height <= 0 || width <= 0 || hh <= 0 || wh <= 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "image %dx%d with downsample_factor %d gives no heatmap",
                         height, width, downsample_factor);
    if (sigma <= 0) sigma = 1.25;
    const double inv2s2 = 1.0 / (2.0 * sigma * sigma);
    const double sx = (double)wh / width, sy = (double)hh / height;
    const int64_t plane = (int64_t)hh * wh;
    double *gx = malloc(sizeof(double) * ((size_t)wh + hh));
    if (!gx) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    double *gy = gx + wh;
    for (int64_t i = 0; i < n * n_keypoints; ++i) {
        float *kp = keypoints + 2 * i;
        float *map = out + i * plane;
        int vis;
        if (visibility) vis = visibility[i];
        else vis = isnan(kp[0]) ? (uniform_heatmaps ? 1 : 0) : 2;
        /* out of frame -> NaN (datasets.py:497-508), whatever the flag */
        if (!isnan(kp[0]) && (kp[0] < 0 || kp[1] < 0 || kp[0] >= width || kp[1] >= height || isnan(kp[1])))
            kp[0] = kp[1] = NAN;
        if (vis == 1) {
            float u = (float)(1.0 / (double)plane);
            for (int64_t j = 0; j < plane; ++j) map[j] = u;
            continue;
        }
        double x = kp[0] * sx, y = kp[1] * sy;
        if (vis != 2 || isnan(x) || isnan(y) || x < -1 || x > wh + 1 || y < -1 || y > hh + 1) {
            for (int64_t j = 0; j < plane; ++j) map[j] = 0.0f;
            continue;
        }
        /* separable: exp(-(dx^2+dy^2)/2s^2) = gx * gy; sum = sum(gx) * sum(gy) */
        double sum_x = 0, sum_y = 0;
        for (int32_t u = 0; u < wh; ++u) sum_x += gx[u] = exp(-(u - x) * (u - x) * inv2s2);
        for (int32_t v = 0; v < hh; ++v) sum_y += gy[v] = exp(-(v - y) * (v - y) * inv2s2);
        double norm = 1.0 / (sum_x * sum_y);
        for (int32_t v = 0; v < hh; ++v) {
            double a = gy[v] * norm;
            for (int32_t u = 0; u < wh; ++u) map[(int64_t)v * wh + u] = (float)(a * gx[u]);
        }
    }
    free(gx);
    return LP_STATUS_OK;
}

lp_status lp_heatmaps_generate(lp_tensor *keypoints, int32_t height, int32_t width,
                               int32_t downsample_factor, int32_t uniform_heatmaps, lp_tensor **out) {
    const char *fn = "lp_heatmaps_generate";
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    if (!keypoints || lp_tensor_dim(keypoints) != 3 || lp_tensor_size(keypoints, 2) != 2 ||
        lp_tensor_dtype(keypoints) != LP_DTYPE_F32 || lp_tensor_device(keypoints) != LP_DEVICE_CPU ||
        !lp_tensor_is_contiguous(keypoints))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoints must be a contiguous f32 CPU (batch, K, 2) tensor");
    if (downsample_factor < 0 || downsample_factor > 8 || (height >> downsample_factor) <= 0 ||
        (width >> downsample_factor) <= 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "image %dx%d with downsample_factor %d gives no heatmap",
                         height, width, downsample_factor);
    int64_t b = lp_tensor_size(keypoints, 0), k = lp_tensor_size(keypoints, 1);
    int64_t shape[4] = {b, k, height >> downsample_factor, width >> downsample_factor};
    lp_tensor *t = NULL;
    void *kp = NULL, *hm = NULL;
    lp_status st;
    if ((st = lp_tensor_data_ptr(keypoints, &kp)) || (st = lp_tensor_empty(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &hm)) ||
        (st = lp_heatmaps_fill(kp, NULL, b, (int32_t)k, height, width, downsample_factor, 1.25, uniform_heatmaps, hm))) {
        lp_tensor_free(t);
        return st;
    }
    *out = t;
    return LP_STATUS_OK;
}
