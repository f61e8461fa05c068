/* nn_util.h: small C helpers over the lp_* tensor API that keep model code
 * readable (internal to engine/src; not part of the public API). Every
 * helper returns lp_status, writes a new reference to *out only on success,
 * and frees its own temporaries. */
#ifndef LPOSE_NN_UTIL_H
#define LPOSE_NN_UTIL_H

#include "core/error.h" /* every user of these helpers reports errors */
#include "lpose.h"

/* Swap *slot for `fresh`, freeing the old tensor (pipeline helper). */
static inline void nnu_replace(lp_tensor **slot, lp_tensor *fresh) {
    lp_tensor_free(*slot);
    *slot = fresh;
}

/* Convolutions with square kernel settings. */
lp_status nnu_conv2d(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b, int64_t stride,
                     int64_t padding, int64_t groups, lp_tensor **out);
lp_status nnu_conv_t2d(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b,
                       int64_t stride, int64_t padding, int64_t output_padding, int64_t groups,
                       lp_tensor **out);

/* Softmax over the flattened last two dims (kornia spatial_softmax2d):
 * x (N, K, H, W) -> softmax(temperature * x) over H*W, same shape. */
lp_status nnu_spatial_softmax(const lp_tensor *x, double temperature, lp_tensor **out);

/* In-place relu. */
lp_status nnu_relu_(lp_tensor *x);

/* Fill `t` with xavier_uniform(gain) using PyTorch's fan rule for a conv
 * weight: fan_in = size(1)*k*k, fan_out = size(0)*k*k. */
lp_status nnu_xavier_uniform_(lp_tensor *t, double gain);
/* kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2/fan_out). */
lp_status nnu_kaiming_normal_fan_out_(lp_tensor *t);

#endif
