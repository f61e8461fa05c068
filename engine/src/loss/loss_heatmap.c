/* loss_heatmap.c: LP's supervised heatmap losses heatmap_mse / _kl / _js
 * (docs/spec/lp-model.md §4.2). Masking is done with masked_fill on a per-(row,
 * keypoint) value instead of LP's boolean indexing: same value, fixed shapes,
 * and masked pairs get an exact zero gradient. */
#include "loss_internal.h"

typedef enum { HM_MSE, HM_KL, HM_JS } hm_kind;

static const double KL_EPS = 1e-10; /* kornia's +1e-10 on both inputs, no renormalising */

/* sum over the two pixel dims: (M, K, H, W) -> (M, K) */
static lp_status pixel_sum(const lp_tensor *x, lp_tensor **out) {
    const int64_t dims[2] = {2, 3};
    return lp_tensor_reduce(LP_REDUCE_SUM, x, dims, 2, 0, out);
}

/* sum over pixels of a * (log a - log b), i.e. KL(a || b) per (row, keypoint) */
static lp_status kl_sum(const lp_tensor *a, const lp_tensor *b, lp_tensor **out) {
    lp_tensor *la = NULL, *lb = NULL, *d = NULL, *p = NULL;
    lp_status st;
    if ((st = lp_tensor_unary(LP_UNARY_LOG, a, &la))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_LOG, b, &lb))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_SUB, la, lb, &d))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_MUL, a, d, &p))) goto fail;
    st = pixel_sum(p, out);
fail:
    lp_tensor_free(la);
    lp_tensor_free(lb);
    lp_tensor_free(d);
    lp_tensor_free(p);
    return st;
}

/* Per-(row, keypoint) values (M, K); t has no NaN. */

/* LP: mean over V*Hh*Wh of (t-p)^2, times Hh*Wh == the per-pair pixel sum, averaged */
static lp_status mse_pairs(const lp_tensor *p, const lp_tensor *t, lp_tensor **out) {
    lp_tensor *d = NULL, *sq = NULL;
    lp_status st;
    if ((st = lp_tensor_binary(LP_BINARY_SUB, t, p, &d))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_SQUARE, d, &sq))) goto fail; /* out of place: autograd */
    st = pixel_sum(sq, out);
fail:
    lp_tensor_free(d);
    lp_tensor_free(sq);
    return st;
}

/* KL(target || pred) with eps on both, or JS: 0.5 KL(t'||m) + 0.5 KL(p'||m) */
static lp_status kl_js_pairs(int js, const lp_tensor *p, const lp_tensor *t, lp_tensor **out) {
    lp_tensor *tp = NULL, *pp = NULL, *s = NULL, *m = NULL, *k1 = NULL, *k2 = NULL, *k = NULL;
    lp_status st;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_ADD, t, KL_EPS, 0, &tp))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_ADD, p, KL_EPS, 0, &pp))) goto fail;
    if (!js) {
        st = kl_sum(tp, pp, out);
    } else {
        if ((st = lp_tensor_binary(LP_BINARY_ADD, tp, pp, &s))) goto fail;
        if ((st = lp_tensor_binary_scalar(LP_BINARY_MUL, s, 0.5, 0, &m))) goto fail;
        if ((st = kl_sum(tp, m, &k1))) goto fail;
        if ((st = kl_sum(pp, m, &k2))) goto fail;
        if ((st = lp_tensor_binary(LP_BINARY_ADD, k1, k2, &k))) goto fail;
        st = lp_tensor_binary_scalar(LP_BINARY_MUL, k, 0.5, 0, out);
    }
fail:
    lp_tensor_free(tp);
    lp_tensor_free(pp);
    lp_tensor_free(s);
    lp_tensor_free(m);
    lp_tensor_free(k1);
    lp_tensor_free(k2);
    lp_tensor_free(k);
    return st;
}

static lp_status per_pair(hm_kind kind, const lp_tensor *p, const lp_tensor *t, lp_tensor **out) {
    return kind == HM_MSE ? mse_pairs(p, t, out) : kl_js_pairs(kind == HM_JS, p, t, out);
}

/* valid (M, K) bool: target not all zero and free of NaN */
static lp_status valid_pairs(const lp_tensor *t, lp_tensor **out) {
    const int64_t dims[2] = {2, 3};
    lp_tensor *nz = NULL, *anynz = NULL, *nan = NULL, *anynan = NULL, *ok = NULL;
    lp_status st;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_NE, t, 0.0, 0, &nz))) goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_ANY, nz, dims, 2, 0, &anynz))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_ISNAN, t, &nan))) goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_ANY, nan, dims, 2, 0, &anynan))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_LOGICAL_NOT, anynan, &ok))) goto fail;
    st = lp_tensor_binary(LP_BINARY_LOGICAL_AND, anynz, ok, out);
fail:
    lp_tensor_free(nz);
    lp_tensor_free(anynz);
    lp_tensor_free(nan);
    lp_tensor_free(anynan);
    lp_tensor_free(ok);
    return st;
}

static lp_status heatmap_loss(const char *fn, hm_kind kind, const lp_tensor *pred,
                              const lp_tensor *target, lp_tensor **out) {
    char a[128], b[128];
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    if (!pred || !target) return lp_errorf(LP_STATUS_BAD_ARG, fn, "pred or target is NULL");
    int64_t sp[LP_MAX_DIMS], stt[LP_MAX_DIMS];
    int32_t np = lp_tensor_shape(pred, sp), nt = lp_tensor_shape(target, stt);
    if (np != 4)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "pred must be (M, K, Hh, Wh), got %s",
                         loss_shape_str(pred, a, sizeof a));
    if (nt != 4 || memcmp(sp, stt, sizeof(int64_t) * 4) != 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "target shape %s differs from pred shape %s",
                         loss_shape_str(target, a, sizeof a), loss_shape_str(pred, b, sizeof b));
    if (!loss_is_float(pred) || !loss_is_float(target))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "pred and target must be floating point");

    lp_tensor *t0 = NULL, *t = NULL, *valid = NULL, *invalid = NULL, *nan = NULL, *l = NULL;
    lp_tensor *s = NULL, *n = NULL, *vf = NULL;
    lp_status st;
    if ((st = lp_tensor_to(target, (lp_dtype)lp_tensor_dtype(pred), lp_tensor_device(pred), &t0)))
        goto fail;
    if ((st = valid_pairs(t0, &valid))) goto fail;
    /* zero NaNs so masked pairs stay finite (a NaN would leak through the
     * gradient); out of place: t0 may share the caller's storage */
    if ((st = lp_tensor_unary(LP_UNARY_ISNAN, t0, &nan))) goto fail;
    if ((st = lp_tensor_masked_fill(t0, nan, 0.0, &t))) goto fail;
    if ((st = per_pair(kind, pred, t, &l))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_LOGICAL_NOT, valid, &invalid))) goto fail;
    if ((st = lp_tensor_masked_fill_(l, invalid, 0.0))) goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_SUM, l, NULL, 0, 0, &s))) goto fail;
    if ((st = lp_tensor_to(valid, (lp_dtype)lp_tensor_dtype(pred), lp_tensor_device(pred), &vf)))
        goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_SUM, vf, NULL, 0, 0, &n))) goto fail;
    if ((st = lp_tensor_clamp_(n, 1.0, NAN))) goto fail; /* no valid pair: 0 / 1 = 0 */
    st = lp_tensor_binary(LP_BINARY_DIV, s, n, out);
fail:
    lp_tensor_free(t0);
    lp_tensor_free(t);
    lp_tensor_free(valid);
    lp_tensor_free(invalid);
    lp_tensor_free(nan);
    lp_tensor_free(l);
    lp_tensor_free(s);
    lp_tensor_free(n);
    lp_tensor_free(vf);
    return lp_error_prefix(st, fn);
}

lp_status lp_loss_heatmap_mse(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out) {
    return heatmap_loss(__func__, HM_MSE, pred, target, out);
}

lp_status lp_loss_heatmap_kl(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out) {
    return heatmap_loss(__func__, HM_KL, pred, target, out);
}

lp_status lp_loss_heatmap_js(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out) {
    return heatmap_loss(__func__, HM_JS, pred, target, out);
}
