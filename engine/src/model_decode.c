/* model_decode.c: heatmaps -> keypoints and confidences, LP's
 * run_subpixelmaxima (lp-model.md §2.3-2.4) and the TCN's per-keypoint
 * choice between heads (§3.5). All work runs on the heatmaps' device with
 * grad disabled. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* The 5x5 binomial blur ([1,4,6,4,1] outer itself / 256) with zero padding,
 * as kornia's filter2d runs it: a conv2d with one group per keypoint.
 * (libtorch's CPU conv2d with a single channel is ~4x slower, and shifted
 * adds lose at full resolution.) x (N, K, H, W). */
static lp_status blur(const lp_tensor *x, lp_tensor **out) {
    static const float b[5] = {1, 4, 6, 4, 1};
    int64_t K = lp_tensor_size(x, 1);
    float *k = malloc((size_t)K * 25 * sizeof *k);
    if (!k) return nnu_error(LP_STATUS_OOM, "blur", "out of memory");
    for (int64_t c = 0; c < K; ++c)
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) k[c * 25 + i * 5 + j] = b[i] * b[j] / 256.0f;
    const int64_t shape[4] = {K, 1, 5, 5};
    lp_tensor *cpu = NULL, *w = NULL;
    lp_status st = lp_tensor_from_buffer(k, LP_DTYPE_F32, shape, 4, &cpu);
    free(k);
    if (!st) st = lp_tensor_to(cpu, (lp_dtype)lp_tensor_dtype(x), lp_tensor_device(x), &w);
    if (!st) st = nnu_conv2d(x, w, NULL, 1, 2, K, out);
    lp_tensor_free(cpu);
    lp_tensor_free(w);
    return st;
}

/* Expectation of the coordinate along one spatial axis of p (M, H, W):
 * sum over the other axis, dot with 0..n-1. -> (M) */
static lp_status expectation(const lp_tensor *p, int32_t axis, lp_tensor **out) {
    const int64_t other = axis == 2 ? 1 : 2, last = -1;
    int64_t n = lp_tensor_size(p, axis);
    lp_tensor *marg = NULL, *grid = NULL, *prod = NULL;
    lp_status st;
    if ((st = lp_tensor_reduce(LP_REDUCE_SUM, p, &other, 1, 0, &marg))) goto fail;
    if ((st = lp_tensor_arange(0, (double)n, 1, (lp_dtype)lp_tensor_dtype(p), lp_tensor_device(p),
                               &grid)))
        goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_MUL, marg, grid, &prod))) goto fail;
    st = lp_tensor_reduce(LP_REDUCE_SUM, prod, &last, 1, 0, out);
fail:
    lp_tensor_free(marg);
    lp_tensor_free(grid);
    lp_tensor_free(prod);
    return st;
}

/* 5x5 window sums of p (M, H, W) at (floor(y), floor(x)) with zero padding:
 * gather the 25 values from the padded maps instead of box-filtering all. */
static lp_status window_confidence(const lp_tensor *p, const lp_tensor *ex, const lp_tensor *ey,
                                   lp_tensor **out) {
    int64_t M = lp_tensor_size(p, 0), H = lp_tensor_size(p, 1), W = lp_tensor_size(p, 2);
    const int64_t Wp = W + 4, pads[4] = {2, 2, 2, 2};
    int64_t offs[25];
    for (int dy = 0; dy < 5; ++dy)
        for (int dx = 0; dx < 5; ++dx) offs[dy * 5 + dx] = dy * Wp + dx;
    lp_tensor *padded = NULL, *flat = NULL, *fx = NULL, *fy = NULL, *lin = NULL, *base = NULL;
    lp_tensor *base2 = NULL, *off_cpu = NULL, *off = NULL, *idx = NULL, *vals = NULL;
    lp_status st;
    const int64_t s2[2] = {M, (H + 4) * Wp}, sc[2] = {M, 1}, so[2] = {1, 25};
    const int64_t last = -1;
    if ((st = lp_nn_pad(p, pads, 4, LP_PAD_CONSTANT, 0.0, &padded))) goto fail;
    if ((st = lp_tensor_reshape(padded, s2, 2, &flat))) goto fail;
    /* LP casts to int64 (truncation); coordinates are >= 0, so floor. In
     * padded coordinates the window's top-left corner is (floor y, floor x). */
    if ((st = lp_tensor_unary(LP_UNARY_FLOOR, ex, &fx))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_FLOOR, ey, &fy))) goto fail;
    if ((st = lp_tensor_clamp_(fx, 0, (double)(W - 1)))) goto fail;
    if ((st = lp_tensor_clamp_(fy, 0, (double)(H - 1)))) goto fail;
    if ((st = lp_tensor_binary_scalar_(LP_BINARY_MUL, fy, (double)Wp))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, fy, fx, &lin))) goto fail;
    if ((st = lp_tensor_to(lin, LP_DTYPE_I64, lp_tensor_device(p), &base))) goto fail;
    if ((st = lp_tensor_reshape(base, sc, 2, &base2))) goto fail;
    if ((st = lp_tensor_from_buffer(offs, LP_DTYPE_I64, so, 2, &off_cpu))) goto fail;
    if ((st = lp_tensor_to(off_cpu, LP_DTYPE_I64, lp_tensor_device(p), &off))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, base2, off, &idx))) goto fail;
    if ((st = lp_tensor_gather(flat, 1, idx, &vals))) goto fail;
    st = lp_tensor_reduce(LP_REDUCE_SUM, vals, &last, 1, 0, out);
fail:
    lp_tensor_free(padded);
    lp_tensor_free(flat);
    lp_tensor_free(fx);
    lp_tensor_free(fy);
    lp_tensor_free(lin);
    lp_tensor_free(base);
    lp_tensor_free(base2);
    lp_tensor_free(off_cpu);
    lp_tensor_free(off);
    lp_tensor_free(idx);
    lp_tensor_free(vals);
    return st;
}

static lp_status decode(const lp_tensor *heatmaps, int32_t ds, lp_tensor **out_kp,
                        lp_tensor **out_conf) {
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(heatmaps, s);
    const int64_t N = s[0], K = s[1];
    int64_t H = s[2], W = s[3];
    lp_tensor *x = NULL, *next = NULL, *flat = NULL, *p = NULL, *p3 = NULL;
    lp_tensor *ex = NULL, *ey = NULL, *xy = NULL, *conf = NULL;
    lp_status st;
    if ((st = lp_tensor_contiguous(heatmaps, &x))) goto fail;
    for (int32_t i = 0; i < ds; ++i) {
        H *= 2;
        W *= 2;
        const int64_t size[2] = {H, W};
        if ((st = lp_nn_interpolate(x, size, LP_INTERP_BICUBIC, 0, &next))) goto fail;
        nnu_replace(&x, next);
        if ((st = blur(x, &next))) goto fail;
        nnu_replace(&x, next);
    }
    {
        const int64_t sf[2] = {N * K, H * W}, s3[3] = {N * K, H, W};
        lp_tensor *scaled = NULL;
        if ((st = lp_tensor_reshape(x, sf, 2, &flat))) goto fail;
        /* not in place: with ds = 0, x may share the caller's storage */
        if ((st = lp_tensor_binary_scalar(LP_BINARY_MUL, flat, 1000.0, 0, &scaled))) goto fail;
        st = lp_nn_softmax(scaled, -1, &p);
        lp_tensor_free(scaled);
        if (st) goto fail;
        if ((st = lp_tensor_reshape(p, s3, 3, &p3))) goto fail;
    }
    if ((st = expectation(p3, 2, &ex))) goto fail;
    if ((st = expectation(p3, 1, &ey))) goto fail;
    if ((st = window_confidence(p3, ex, ey, &conf))) goto fail;
    {
        /* 2^(ds-1) - 0.5: LP's 0.5 / 1.5 for ds 1 / 2; 3.5 (not LP's 2.5) for ds 3 */
        const double offset = ldexp(1.0, ds - 1) - 0.5;
        const lp_tensor *pair[2] = {ex, ey};
        const int64_t sk[3] = {N, K, 2}, sc[2] = {N, K};
        if ((st = lp_tensor_stack(pair, 2, -1, &xy))) goto fail;
        if ((st = lp_tensor_binary_scalar_(LP_BINARY_SUB, xy, offset))) goto fail;
        if ((st = lp_tensor_reshape(xy, sk, 3, out_kp))) goto fail;
        if ((st = lp_tensor_reshape(conf, sc, 2, out_conf))) {
            lp_tensor_free(*out_kp);
            *out_kp = NULL;
        }
    }
fail:
    lp_tensor_free(x);
    lp_tensor_free(flat);
    lp_tensor_free(p);
    lp_tensor_free(p3);
    lp_tensor_free(ex);
    lp_tensor_free(ey);
    lp_tensor_free(xy);
    lp_tensor_free(conf);
    return st;
}

lp_status lp_heatmaps_decode(const lp_tensor *heatmaps, int32_t downsample_factor,
                             lp_tensor **out_keypoints, lp_tensor **out_confidences) {
    const char *fn = "lp_heatmaps_decode";
    if (!heatmaps || !out_keypoints || !out_confidences)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (lp_tensor_dim(heatmaps) != 4)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "expected heatmaps (N, K, Hh, Wh), got %d dims",
                         lp_tensor_dim(heatmaps));
    int32_t dt = lp_tensor_dtype(heatmaps);
    if (dt != LP_DTYPE_F32 && dt != LP_DTYPE_F64)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "heatmaps must be f32 or f64, got %s",
                         lp_dtype_name((lp_dtype)dt));
    if (downsample_factor < 0 || downsample_factor > 3)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "downsample_factor must be 0..3, got %d",
                         downsample_factor);
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    lp_status st = decode(heatmaps, downsample_factor, out_keypoints, out_confidences);
    lp_grad_set_enabled(grad);
    return nnu_wrap(st, fn);
}

lp_status lp_keypoints_choose(const lp_tensor *keypoints_sf, const lp_tensor *confidences_sf,
                              const lp_tensor *keypoints_mf, const lp_tensor *confidences_mf,
                              lp_tensor **out_keypoints, lp_tensor **out_confidences) {
    const char *fn = "lp_keypoints_choose";
    if (!keypoints_sf || !confidences_sf || !keypoints_mf || !confidences_mf || !out_keypoints ||
        !out_confidences)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (lp_tensor_dim(keypoints_sf) != 3 || lp_tensor_dim(confidences_sf) != 2)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "expected keypoints (N, K, 2) and confidences (N, K)");
    lp_tensor *better = NULL, *better3 = NULL, *kp = NULL;
    lp_status st;
    /* strict: ties go to the single-frame head */
    if ((st = lp_tensor_binary(LP_BINARY_GT, confidences_mf, confidences_sf, &better))) goto fail;
    if ((st = lp_tensor_unsqueeze(better, -1, &better3))) goto fail;
    if ((st = lp_tensor_where(better3, keypoints_mf, keypoints_sf, &kp))) goto fail;
    if ((st = lp_tensor_where(better, confidences_mf, confidences_sf, out_confidences))) goto fail;
    *out_keypoints = kp;
    kp = NULL;
fail:
    lp_tensor_free(better);
    lp_tensor_free(better3);
    lp_tensor_free(kp);
    return nnu_wrap(st, fn);
}

static lp_status scale_keypoints(lp_tensor *kp, double sx, double sy) {
    const float f[2] = {(float)sx, (float)sy};
    const int64_t shape[1] = {2};
    lp_tensor *cpu = NULL, *dev = NULL;
    lp_status st = lp_tensor_from_buffer(f, LP_DTYPE_F32, shape, 1, &cpu);
    if (!st) st = lp_tensor_to(cpu, (lp_dtype)lp_tensor_dtype(kp), lp_tensor_device(kp), &dev);
    if (!st) st = lp_tensor_binary_(LP_BINARY_MUL, kp, dev);
    lp_tensor_free(cpu);
    lp_tensor_free(dev);
    return st;
}

lp_status lpm_decode_heads(const lp_tensor *sf, const lp_tensor *mf, int32_t ds, double sx, double sy,
                           lp_tensor **out_kp, lp_tensor **out_conf) {
    lp_tensor *kp_sf = NULL, *c_sf = NULL, *kp_mf = NULL, *c_mf = NULL, *kp = NULL, *conf = NULL;
    lp_status st;
    if ((st = lp_heatmaps_decode(sf, ds, &kp_sf, &c_sf))) goto fail;
    if (mf) {
        if ((st = lp_heatmaps_decode(mf, ds, &kp_mf, &c_mf))) goto fail;
        if ((st = lp_keypoints_choose(kp_sf, c_sf, kp_mf, c_mf, &kp, &conf))) goto fail;
    } else {
        kp = kp_sf;
        conf = c_sf;
        kp_sf = c_sf = NULL;
    }
    if (sx > 0 && sy > 0 && (st = scale_keypoints(kp, sx, sy))) goto fail;
    *out_kp = kp;
    *out_conf = conf;
    kp = conf = NULL;
fail:
    lp_tensor_free(kp_sf);
    lp_tensor_free(c_sf);
    lp_tensor_free(kp_mf);
    lp_tensor_free(c_mf);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    return st;
}

static lp_status predict(lp_model *model, const lp_tensor *images, int32_t window, double fh,
                         double fw, lp_tensor **out_kp, lp_tensor **out_conf) {
    lp_tensor *sf = NULL, *mf = NULL;
    lp_status st = window ? lp_model_forward_window(model, images, &sf, &mf)
                          : lp_model_forward(model, images, &sf, &mf);
    if (!st) {
        int scale = fh > 0 && fw > 0;
        st = lpm_decode_heads(sf, mf, model->cfg.downsample_factor,
                              scale ? fw / (double)lp_tensor_size(images, -1) : 0,
                              scale ? fh / (double)lp_tensor_size(images, -2) : 0, out_kp, out_conf);
    }
    lp_tensor_free(sf);
    lp_tensor_free(mf);
    return st;
}

lp_status lp_model_predict(lp_model *model, const lp_tensor *images, int32_t window,
                           double frame_height, double frame_width, lp_tensor **out_keypoints,
                           lp_tensor **out_confidences) {
    const char *fn = "lp_model_predict";
    if (!model || !images || !out_keypoints || !out_confidences)
        return nnu_error(LP_STATUS_BAD_ARG, fn, "NULL argument");
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    lp_status st =
        predict(model, images, window, frame_height, frame_width, out_keypoints, out_confidences);
    lp_grad_set_enabled(grad);
    return nnu_wrap(st, fn);
}
