/* loss_internal.h: helpers shared by engine/src/loss/loss_*.c (not public). */
#ifndef LPOSE_LOSS_INTERNAL_H
#define LPOSE_LOSS_INTERNAL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lpose.h"
#include "tensor/nn_util.h"

/* "(2, 17, 64, 64)" into buf, for error messages; "NULL" for a NULL handle. */
static inline const char *loss_shape_str(const lp_tensor *t, char *buf, size_t n) {
    int64_t s[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(t, s);
    if (nd < 0) {
        snprintf(buf, n, "NULL");
        return buf;
    }
    size_t at = 0;
    at += (size_t)snprintf(buf + at, n - at, "(");
    for (int32_t i = 0; i < nd && at < n; ++i)
        at += (size_t)snprintf(buf + at, n - at, i ? ", %lld" : "%lld", (long long)s[i]);
    if (at < n) snprintf(buf + at, n - at, nd == 1 ? ",)" : ")");
    return buf;
}

static inline int loss_is_float(const lp_tensor *t) {
    int32_t d = lp_tensor_dtype(t);
    return d == LP_DTYPE_F32 || d == LP_DTYPE_F64 || d == LP_DTYPE_F16 || d == LP_DTYPE_BF16;
}

/* A 0-d zero of `like`'s dtype and device (the value of an empty mean). */
static inline lp_status loss_zero_scalar(const lp_tensor *like, lp_tensor **out) {
    return lp_tensor_zeros(NULL, 0, (lp_dtype)lp_tensor_dtype(like), lp_tensor_device(like), out);
}

/* Keypoints (M, K, 2) or (M, 2K) -> a (M, K, 2) view; BAD_ARG naming fn otherwise. */
lp_status loss_keypoints_mk2(const char *fn, const lp_tensor *keypoints, lp_tensor **out);

#endif
