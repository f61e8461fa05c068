/* loss_temporal.c: LP's temporal loss and the temporal_norm metric
 * (docs/spec/lp-model.md §4.4, §6). */
#include "loss_internal.h"

lp_status loss_keypoints_mk2(const char *fn, const lp_tensor *keypoints, lp_tensor **out) {
    char a[128];
    int64_t s[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(keypoints, s);
    if (nd < 0) return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoints is NULL");
    if (!loss_is_float(keypoints))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoints must be floating point");
    if (nd == 3 && s[2] == 2) return lp_tensor_ref(keypoints, out);
    if (nd == 2 && s[1] % 2 == 0) {
        const int64_t shape[3] = {s[0], s[1] / 2, 2};
        return lp_tensor_reshape(keypoints, shape, 3, out);
    }
    return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoints must be (M, K, 2) or (M, 2K), got %s",
                     loss_shape_str(keypoints, a, sizeof a));
}

/* ||kp[i+1] - kp[i]||_2 per keypoint: (M, K, 2) with M >= 2 -> (M-1, K) */
static lp_status step_norm(const lp_tensor *kp, lp_tensor **out) {
    int64_t m = lp_tensor_size(kp, 0);
    const int64_t last = 2;
    lp_tensor *a = NULL, *b = NULL, *d = NULL;
    lp_status st;
    if ((st = lp_tensor_narrow(kp, 0, 1, m - 1, &a))) goto fail;
    if ((st = lp_tensor_narrow(kp, 0, 0, m - 1, &b))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_SUB, a, b, &d))) goto fail;
    st = lp_tensor_norm(d, 2.0, &last, 1, 0, out);
fail:
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(d);
    return st;
}

/* (M-1, K) bool: either frame's confidence is below the threshold */
static lp_status low_confidence(const lp_tensor *conf, double thr, lp_tensor **out) {
    int64_t m = lp_tensor_size(conf, 0);
    lp_tensor *a = NULL, *b = NULL, *la = NULL, *lb = NULL;
    lp_status st;
    if ((st = lp_tensor_narrow(conf, 0, 1, m - 1, &a))) goto fail;
    if ((st = lp_tensor_narrow(conf, 0, 0, m - 1, &b))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_LT, a, thr, 0, &la))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_LT, b, thr, 0, &lb))) goto fail;
    st = lp_tensor_binary(LP_BINARY_LOGICAL_OR, la, lb, out);
fail:
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(la);
    lp_tensor_free(lb);
    return st;
}

/* epsilon (1 element or (K,)) in `like`'s dtype/device, shaped to broadcast over (M-1, K) */
static lp_status epsilon_row(const char *fn, const lp_tensor *eps, int64_t k,
                             const lp_tensor *like, lp_tensor **out) {
    char a[128];
    int64_t n = lp_tensor_numel(eps);
    if (n < 0) return lp_errorf(LP_STATUS_BAD_ARG, fn, "epsilon is NULL");
    if (!(n == 1 || (n == k && lp_tensor_dim(eps) == 1)))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "epsilon must have one element or shape (K,) = (%lld,), got %s",
                         (long long)k, loss_shape_str(eps, a, sizeof a));
    lp_tensor *e = NULL;
    lp_status st = lp_tensor_to(eps, (lp_dtype)lp_tensor_dtype(like), lp_tensor_device(like), &e);
    if (st) return st;
    const int64_t shape[1] = {n};
    st = lp_tensor_reshape(e, shape, n == 1 ? 0 : 1, out);
    lp_tensor_free(e);
    return st;
}

lp_status lp_loss_temporal(const lp_tensor *keypoints, const lp_tensor *confidences,
                           const lp_tensor *epsilon, double prob_threshold, lp_tensor **out) {
    const char *fn = __func__;
    char a[128];
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    lp_tensor *kp = NULL, *norm = NULL, *low = NULL, *masked = NULL, *eps = NULL, *r = NULL;
    lp_status st;
    if ((st = loss_keypoints_mk2(fn, keypoints, &kp))) goto fail;
    int64_t m = lp_tensor_size(kp, 0), k = lp_tensor_size(kp, 1);
    if (confidences) {
        int64_t cs[LP_MAX_DIMS];
        if (lp_tensor_shape(confidences, cs) != 2 || cs[0] != m || cs[1] != k) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "confidences must be (M, K) = (%lld, %lld), got %s",
                           (long long)m, (long long)k, loss_shape_str(confidences, a, sizeof a));
            goto fail;
        }
    }
    if ((st = epsilon_row(fn, epsilon, k, kp, &eps))) goto fail;
    if (m < 2) { /* no frame pair: nothing to penalise */
        st = loss_zero_scalar(kp, out);
        goto fail;
    }
    if ((st = step_norm(kp, &norm))) goto fail;
    if (confidences) {
        if ((st = low_confidence(confidences, prob_threshold, &low))) goto fail;
        /* masked entries become 0 and still count in the mean, as in LP; out
         * of place, since norm's backward reads its result */
        if ((st = lp_tensor_masked_fill(norm, low, 0.0, &masked))) goto fail;
    }
    if ((st = lp_tensor_binary(LP_BINARY_SUB, masked ? masked : norm, eps, &r))) goto fail;
    if ((st = lp_tensor_unary_(LP_UNARY_RELU, r))) goto fail;
    st = lp_tensor_reduce(LP_REDUCE_MEAN, r, NULL, 0, 0, out);
fail:
    lp_tensor_free(kp);
    lp_tensor_free(norm);
    lp_tensor_free(low);
    lp_tensor_free(masked);
    lp_tensor_free(eps);
    lp_tensor_free(r);
    return lp_error_prefix(st, fn);
}

lp_status lp_metric_temporal_norm(const lp_tensor *keypoints, lp_tensor **out) {
    const char *fn = __func__;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    lp_tensor *kp = NULL, *det = NULL, *norm = NULL, *nan = NULL;
    lp_status st;
    if ((st = loss_keypoints_mk2(fn, keypoints, &det))) goto fail;
    if ((st = lp_tensor_detach(det, &kp))) goto fail; /* a metric: no graph */
    int64_t m = lp_tensor_size(kp, 0), k = lp_tensor_size(kp, 1);
    const int64_t row[2] = {1, k};
    if ((st = lp_tensor_full(row, 2, NAN, (lp_dtype)lp_tensor_dtype(kp), lp_tensor_device(kp), &nan)))
        goto fail;
    if (m < 2) {
        const int64_t shape[2] = {m, k};
        st = m == 1 ? lp_tensor_ref(nan, out)
                    : lp_tensor_empty(shape, 2, (lp_dtype)lp_tensor_dtype(kp), lp_tensor_device(kp), out);
        goto fail;
    }
    if ((st = step_norm(kp, &norm))) goto fail;
    const lp_tensor *parts[2] = {nan, norm};
    st = lp_tensor_cat(parts, 2, 0, out);
fail:
    lp_tensor_free(kp);
    lp_tensor_free(det);
    lp_tensor_free(norm);
    lp_tensor_free(nan);
    return lp_error_prefix(st, fn);
}
