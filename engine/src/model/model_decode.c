/* model_decode.c: heatmaps -> keypoints and confidences, LP's
 * run_subpixelmaxima (docs/spec/lp-model.md §2.3-2.4) and the TCN's per-keypoint
 * choice between heads (§3.5). All work runs on the heatmaps' device with
 * grad disabled; CPU float32 maps go to decode_sparse.c, which skips the
 * pixels whose softmax weight float32 cannot see. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* LP upsamples the heatmaps ds times by 2 (bicubic) and blurs each time
 * with kornia's 5x5 binomial filter ([1,4,6,4,1] outer itself / 256, zero
 * padding). Every step is linear and separable (bicubic weights are a
 * product of per-axis weights with clamped indices), so the whole chain is
 * Z = A_h X A_w^T with one (n << ds, n) matrix per axis: two matmuls per
 * map instead of 2 ds interpolations and grouped convolutions. */

/* The (2n, n) bicubic x2 matrix, taken from lp_nn_interpolate itself so
 * the weights are libtorch's: resize an identity's height only (the width
 * keeps exact identity weights). f64. */
static lp_status upsample_matrix(int64_t n, lp_tensor **out) {
    double *eye = calloc((size_t)(n * n), sizeof *eye);
    if (!eye) return lp_errorf(LP_STATUS_OOM, "upsample_matrix", "out of memory");
    for (int64_t i = 0; i < n; ++i) eye[i * n + i] = 1.0;
    const int64_t s4[4] = {1, 1, n, n}, size[2] = {2 * n, n}, s2[2] = {2 * n, n};
    lp_tensor *e = NULL, *up = NULL;
    lp_status st = lp_tensor_from_buffer(eye, LP_DTYPE_F64, s4, 4, &e);
    free(eye);
    if (!st) st = lp_nn_interpolate(e, size, LP_INTERP_BICUBIC, 0, &up);
    if (!st) st = lp_tensor_reshape(up, s2, 2, out);
    lp_tensor_free(e);
    lp_tensor_free(up);
    return st;
}

/* The (n, n) matrix of the 1-D [1,4,6,4,1]/16 blur with zero padding. f64. */
static lp_status blur_matrix(int64_t n, lp_tensor **out) {
    static const double b[5] = {1, 4, 6, 4, 1};
    double *m = calloc((size_t)(n * n), sizeof *m);
    if (!m) return lp_errorf(LP_STATUS_OOM, "blur_matrix", "out of memory");
    for (int64_t i = 0; i < n; ++i)
        for (int64_t d = -2; d <= 2; ++d)
            if (i + d >= 0 && i + d < n) m[i * n + i + d] = b[d + 2] / 16.0;
    const int64_t s2[2] = {n, n};
    lp_status st = lp_tensor_from_buffer(m, LP_DTYPE_F64, s2, 2, out);
    free(m);
    return st;
}

/* scale * (blur . upsample)^ds as an (n << ds, n) matrix of like's dtype
 * and device. */
static lp_status chain_matrix(int64_t n, int32_t ds, double scale, const lp_tensor *like,
                              lp_tensor **out) {
    lp_tensor *a = NULL, *up = NULL, *bl = NULL, *next = NULL;
    lp_status st = upsample_matrix(n, &a); /* the first step is the matrix itself */
    for (int32_t i = 0; i < ds && !st; ++i, n *= 2) {
        if (i > 0) {
            if ((st = upsample_matrix(n, &up))) break;
            if ((st = lp_tensor_matmul(up, a, &next))) break;
            nnu_replace(&a, next);
            nnu_replace(&up, NULL);
        }
        if ((st = blur_matrix(2 * n, &bl))) break;
        if ((st = lp_tensor_matmul(bl, a, &next))) break;
        nnu_replace(&a, next);
        nnu_replace(&bl, NULL);
    }
    if (!st) st = lp_tensor_binary_scalar_(LP_BINARY_MUL, a, scale);
    if (!st) st = lp_tensor_to(a, (lp_dtype)lp_tensor_dtype(like), lp_tensor_device(like), out);
    lp_tensor_free(a);
    lp_tensor_free(up);
    lp_tensor_free(bl);
    return st;
}

/* x (N, K, h, w) -> scale * upsampled-and-blurred maps (N*K, H, W), ds >= 1.
 * The large product is one (N*K*H, w) x (w, W) matrix multiply. */
static lp_status upsample_blur(const lp_tensor *x, int32_t ds, double scale, lp_tensor **out) {
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(x, s);
    const int64_t s3[3] = {s[0] * s[1], s[2], s[3]};
    lp_tensor *ah = NULL, *aw = NULL, *awt = NULL, *x3 = NULL, *y = NULL;
    lp_status st;
    if ((st = chain_matrix(s[2], ds, scale, x, &ah))) goto fail;
    if ((st = chain_matrix(s[3], ds, 1.0, x, &aw))) goto fail;
    if ((st = lp_tensor_transpose(aw, 0, 1, &awt))) goto fail;
    if ((st = lp_tensor_reshape(x, s3, 3, &x3))) goto fail;
    if ((st = lp_tensor_matmul(ah, x3, &y))) goto fail;
    st = lp_tensor_matmul(y, awt, out);
fail:
    lp_tensor_free(ah);
    lp_tensor_free(aw);
    lp_tensor_free(awt);
    lp_tensor_free(x3);
    lp_tensor_free(y);
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

/* Window positions f + d along one axis (f (M) floored coordinates, d the
 * 25 offsets (1, 25)), clamped into 0..n-1, and whether each was inside. */
static lp_status window_axis(const lp_tensor *f, const lp_tensor *d, int64_t n, lp_tensor **out_c,
                             lp_tensor **out_in) {
    const int64_t col[2] = {lp_tensor_size(f, 0), 1};
    lp_tensor *f2 = NULL, *lo = NULL, *hi = NULL;
    lp_status st;
    if ((st = lp_tensor_reshape(f, col, 2, &f2))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, f2, d, out_c))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_GE, *out_c, 0, 0, &lo))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_LE, *out_c, (double)(n - 1), 0, &hi))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_LOGICAL_AND, lo, hi, out_in))) goto fail;
    st = lp_tensor_clamp_(*out_c, 0, (double)(n - 1));
fail:
    if (st) {
        nnu_replace(out_c, NULL);
        nnu_replace(out_in, NULL);
    }
    lp_tensor_free(f2);
    lp_tensor_free(lo);
    lp_tensor_free(hi);
    return st;
}

/* The 25 window offsets along x (along_x) or y, (1, 25), like's dtype/device. */
static lp_status window_offsets(int along_x, const lp_tensor *like, lp_tensor **out) {
    float v[25];
    for (int i = 0; i < 25; ++i) v[i] = (float)((along_x ? i % 5 : i / 5) - 2);
    const int64_t shape[2] = {1, 25};
    lp_tensor *cpu = NULL;
    lp_status st = lp_tensor_from_buffer(v, LP_DTYPE_F32, shape, 2, &cpu);
    if (!st) st = lp_tensor_to(cpu, (lp_dtype)lp_tensor_dtype(like), lp_tensor_device(like), out);
    lp_tensor_free(cpu);
    return st;
}

/* 5x5 window sums of p (M, H, W) centred on (floor(y), floor(x)) with zero
 * padding: gather the 25 values, zeroing those outside the map (no padded
 * copy of all maps, no box filter). */
static lp_status window_confidence(const lp_tensor *p, const lp_tensor *ex, const lp_tensor *ey,
                                   lp_tensor **out) {
    int64_t M = lp_tensor_size(p, 0), H = lp_tensor_size(p, 1), W = lp_tensor_size(p, 2);
    const int64_t s2[2] = {M, H * W}, last = -1;
    lp_tensor *flat = NULL, *fx = NULL, *fy = NULL, *dx = NULL, *dy = NULL, *cx = NULL, *cy = NULL;
    lp_tensor *in_x = NULL, *in_y = NULL, *inside = NULL, *lin = NULL, *idx = NULL, *vals = NULL;
    lp_status st;
    if ((st = lp_tensor_reshape(p, s2, 2, &flat))) goto fail;
    /* LP casts to int64 (truncation); coordinates are >= 0, so floor */
    if ((st = lp_tensor_unary(LP_UNARY_FLOOR, ex, &fx))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_FLOOR, ey, &fy))) goto fail;
    if ((st = lp_tensor_clamp_(fx, 0, (double)(W - 1)))) goto fail;
    if ((st = lp_tensor_clamp_(fy, 0, (double)(H - 1)))) goto fail;
    if ((st = window_offsets(1, ex, &dx))) goto fail;
    if ((st = window_offsets(0, ex, &dy))) goto fail;
    if ((st = window_axis(fx, dx, W, &cx, &in_x))) goto fail;
    if ((st = window_axis(fy, dy, H, &cy, &in_y))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_LOGICAL_AND, in_x, in_y, &inside))) goto fail;
    if ((st = lp_tensor_binary_scalar_(LP_BINARY_MUL, cy, (double)W))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, cy, cx, &lin))) goto fail;
    if ((st = lp_tensor_to(lin, LP_DTYPE_I64, lp_tensor_device(p), &idx))) goto fail;
    if ((st = lp_tensor_gather(flat, 1, idx, &vals))) goto fail;
    if ((st = lp_tensor_binary_(LP_BINARY_MUL, vals, inside))) goto fail;
    st = lp_tensor_reduce(LP_REDUCE_SUM, vals, &last, 1, 0, out);
fail:
    lp_tensor_free(flat);
    lp_tensor_free(fx);
    lp_tensor_free(fy);
    lp_tensor_free(dx);
    lp_tensor_free(dy);
    lp_tensor_free(cx);
    lp_tensor_free(cy);
    lp_tensor_free(in_x);
    lp_tensor_free(in_y);
    lp_tensor_free(inside);
    lp_tensor_free(lin);
    lp_tensor_free(idx);
    lp_tensor_free(vals);
    return st;
}

/* Whether lpm_decode_sparse can take the maps: CPU float32 (it reads raw
 * floats), upsampled (ds >= 1), heatmap rows of whole 16-float blocks. The
 * libtorch path below stays for other devices, dtypes and sizes, and as the
 * reference (LPOSE_DECODE_DENSE=1 forces it). Decoding never needs grad. */
static int sparse_ok(const lp_tensor *heatmaps, int32_t ds) {
    const char *env = getenv("LPOSE_DECODE_DENSE");
    if (env && *env && strcmp(env, "0") != 0) return 0;
    return lp_tensor_device(heatmaps) == LP_DEVICE_CPU &&
           lp_tensor_dtype(heatmaps) == LP_DTYPE_F32 && ds >= 1 &&
           lp_tensor_size(heatmaps, 3) % 16 == 0 && lp_tensor_numel(heatmaps) > 0;
}

/* The sparse path's chain matrices (CPU float32), made once per (n, ds,
 * scale) and shared: making one takes libtorch's interpolation and f64
 * matmuls, about half a millisecond a decode call, and prediction decodes
 * the same sizes window after window. A full cache makes them anew. */
enum { CHAIN_CACHE = 8 };
static struct {
    int64_t n;
    int32_t ds;
    double scale;
    lp_tensor *a;
} chain_cache[CHAIN_CACHE];
static pthread_mutex_t chain_lock = PTHREAD_MUTEX_INITIALIZER;

static lp_status cached_chain(int64_t n, int32_t ds, double scale, const lp_tensor *like, lp_tensor **out) {
    lp_status st = LP_STATUS_OK;
    pthread_mutex_lock(&chain_lock);
    int i = 0;
    for (; i < CHAIN_CACHE && chain_cache[i].a; ++i)
        if (chain_cache[i].n == n && chain_cache[i].ds == ds && chain_cache[i].scale == scale) break;
    if (i < CHAIN_CACHE && chain_cache[i].a) {
        st = lp_tensor_ref(chain_cache[i].a, out);
    } else if ((st = chain_matrix(n, ds, scale, like, out)) == LP_STATUS_OK && i < CHAIN_CACHE &&
               lp_tensor_ref(*out, &chain_cache[i].a) == LP_STATUS_OK) {
        chain_cache[i].n = n;
        chain_cache[i].ds = ds;
        chain_cache[i].scale = scale;
    }
    pthread_mutex_unlock(&chain_lock);
    return st;
}

static lp_status decode_sparse(const lp_tensor *heatmaps, int32_t ds, lp_tensor **out_kp,
                               lp_tensor **out_conf) {
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(heatmaps, s);
    const int64_t sk[3] = {s[0], s[1], 2}, sc[2] = {s[0], s[1]};
    lp_tensor *x = NULL, *ah = NULL, *aw = NULL, *kp = NULL, *conf = NULL;
    void *px, *pah, *paw, *pkp, *pconf;
    lp_status st;
    if ((st = lp_tensor_contiguous(heatmaps, &x))) goto fail;
    if ((st = cached_chain(s[2], ds, 1000.0, heatmaps, &ah))) goto fail;
    if ((st = cached_chain(s[3], ds, 1.0, heatmaps, &aw))) goto fail;
    if ((st = lp_tensor_empty(sk, 3, LP_DTYPE_F32, LP_DEVICE_CPU, &kp))) goto fail;
    if ((st = lp_tensor_empty(sc, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &conf))) goto fail;
    if ((st = lp_tensor_data_ptr(x, &px)) || (st = lp_tensor_data_ptr(ah, &pah)) ||
        (st = lp_tensor_data_ptr(aw, &paw)) || (st = lp_tensor_data_ptr(kp, &pkp)) ||
        (st = lp_tensor_data_ptr(conf, &pconf)))
        goto fail;
    if ((st = lpm_decode_sparse(px, s[0] * s[1], s[2], s[3], ds, pah, paw, lp_get_num_threads(),
                                pkp, pconf)))
        goto fail;
    *out_kp = kp;
    *out_conf = conf;
    kp = conf = NULL;
fail:
    lp_tensor_free(x);
    lp_tensor_free(ah);
    lp_tensor_free(aw);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    return st;
}

static lp_status decode(const lp_tensor *heatmaps, int32_t ds, lp_tensor **out_kp,
                        lp_tensor **out_conf) {
    if (sparse_ok(heatmaps, ds)) return decode_sparse(heatmaps, ds, out_kp, out_conf);
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(heatmaps, s);
    const int64_t N = s[0], K = s[1], H = s[2] << ds, W = s[3] << ds;
    const int64_t sf[2] = {N * K, H * W}, s3[3] = {N * K, H, W};
    lp_tensor *x = NULL, *flat = NULL, *p = NULL, *p3 = NULL;
    lp_tensor *ex = NULL, *ey = NULL, *xy = NULL, *conf = NULL;
    lp_status st;
    /* LP's softmax(1000 * maps); the 1000 rides on A_h (or, without
     * upsampling, on a copy: x may share the caller's storage) */
    if (ds > 0) st = upsample_blur(heatmaps, ds, 1000.0, &x);
    else st = lp_tensor_binary_scalar(LP_BINARY_MUL, heatmaps, 1000.0, 0, &x);
    if (st) goto fail;
    if ((st = lp_tensor_reshape(x, sf, 2, &flat))) goto fail;
    if ((st = lp_nn_softmax(flat, -1, &p))) goto fail;
    if ((st = lp_tensor_reshape(p, s3, 3, &p3))) goto fail;
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
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (lp_tensor_dim(heatmaps) != 4)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected heatmaps (N, K, Hh, Wh), got %d dims",
                         lp_tensor_dim(heatmaps));
    int32_t dt = lp_tensor_dtype(heatmaps);
    if (dt != LP_DTYPE_F32 && dt != LP_DTYPE_F64)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "heatmaps must be f32 or f64, got %s",
                         lp_dtype_name((lp_dtype)dt));
    if (downsample_factor < 0 || downsample_factor > 3)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "downsample_factor must be 0..3, got %d",
                         downsample_factor);
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    lp_status st = decode(heatmaps, downsample_factor, out_keypoints, out_confidences);
    lp_grad_set_enabled(grad);
    return lp_error_prefix(st, fn);
}

lp_status lp_keypoints_choose(const lp_tensor *keypoints_sf, const lp_tensor *confidences_sf,
                              const lp_tensor *keypoints_mf, const lp_tensor *confidences_mf,
                              lp_tensor **out_keypoints, lp_tensor **out_confidences) {
    const char *fn = "lp_keypoints_choose";
    if (!keypoints_sf || !confidences_sf || !keypoints_mf || !confidences_mf || !out_keypoints ||
        !out_confidences)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (lp_tensor_dim(keypoints_sf) != 3 || lp_tensor_dim(confidences_sf) != 2)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected keypoints (N, K, 2) and confidences (N, K)");
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
    return lp_error_prefix(st, fn);
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

/* Both heads' maps in one sparse decode: the per-call set-up (band
 * matrices, threads) once instead of twice. Every map is decoded on its
 * own, so the results are bitwise those of two calls. */
static lp_status decode_pair(const lp_tensor *sf, const lp_tensor *mf, int32_t ds, lp_tensor **kp_sf,
                             lp_tensor **c_sf, lp_tensor **kp_mf, lp_tensor **c_mf) {
    const lp_tensor *pair[2] = {sf, mf};
    const int64_t n = lp_tensor_size(sf, 0);
    lp_tensor *both = NULL, *kp = NULL, *conf = NULL;
    lp_status st = lp_tensor_cat(pair, 2, 0, &both);
    if (!st) st = lp_heatmaps_decode(both, ds, &kp, &conf);
    if (!st) st = lp_tensor_narrow(kp, 0, 0, n, kp_sf);
    if (!st) st = lp_tensor_narrow(conf, 0, 0, n, c_sf);
    if (!st) st = lp_tensor_narrow(kp, 0, n, lp_tensor_size(mf, 0), kp_mf);
    if (!st) st = lp_tensor_narrow(conf, 0, n, lp_tensor_size(mf, 0), c_mf);
    lp_tensor_free(both);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    return st;
}

/* Whether both heads' maps can go through one sparse decode. */
static int pairable(const lp_tensor *sf, const lp_tensor *mf, int32_t ds) {
    if (!sparse_ok(sf, ds) || !sparse_ok(mf, ds) || lp_tensor_dim(mf) != 4) return 0;
    for (int32_t d = 1; d < 4; ++d)
        if (lp_tensor_size(mf, d) != lp_tensor_size(sf, d)) return 0;
    return 1;
}

lp_status lpm_decode_heads(const lp_tensor *sf, const lp_tensor *mf, int32_t ds, double sx, double sy,
                           lp_tensor **out_kp, lp_tensor **out_conf) {
    lp_tensor *kp_sf = NULL, *c_sf = NULL, *kp_mf = NULL, *c_mf = NULL, *kp = NULL, *conf = NULL;
    lp_status st;
    if (!mf) {
        st = lp_heatmaps_decode(sf, ds, &kp, &conf);
    } else {
        if (pairable(sf, mf, ds)) {
            st = decode_pair(sf, mf, ds, &kp_sf, &c_sf, &kp_mf, &c_mf);
        } else {
            st = lp_heatmaps_decode(sf, ds, &kp_sf, &c_sf);
            if (!st) st = lp_heatmaps_decode(mf, ds, &kp_mf, &c_mf);
        }
        if (!st) st = lp_keypoints_choose(kp_sf, c_sf, kp_mf, c_mf, &kp, &conf);
    }
    if (st) goto fail;
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
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    /* Prediction is inference whatever mode the caller left the model in: in
     * training mode batch norm would use the batch's statistics and update
     * its running ones, so the predictions would not be the saved model's. */
    int32_t grad = lp_grad_is_enabled(), training = lp_model_is_training(model);
    lp_grad_set_enabled(0);
    lp_model_set_training(model, 0);
    lp_status st =
        predict(model, images, window, frame_height, frame_width, out_keypoints, out_confidences);
    lp_model_set_training(model, training);
    lp_grad_set_enabled(grad);
    return lp_error_prefix(st, fn);
}
