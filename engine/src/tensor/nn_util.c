/* nn_util.c: see nn_util.h. */
#include "nn_util.h"

#include <math.h>

lp_status nnu_conv2d(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b, int64_t stride,
                     int64_t padding, int64_t groups, lp_tensor **out) {
    const int64_t s[2] = {stride, stride}, p[2] = {padding, padding}, d[2] = {1, 1};
    return lp_nn_conv2d(x, w, b, s, p, d, groups, out);
}

lp_status nnu_conv_t2d(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b,
                       int64_t stride, int64_t padding, int64_t output_padding, int64_t groups,
                       lp_tensor **out) {
    const int64_t s[2] = {stride, stride}, p[2] = {padding, padding};
    const int64_t op[2] = {output_padding, output_padding}, d[2] = {1, 1};
    return lp_nn_conv_transpose2d(x, w, b, s, p, op, groups, d, out);
}

lp_status nnu_spatial_softmax(const lp_tensor *x, double temperature, lp_tensor **out) {
    int64_t shape[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(x, shape);
    if (nd != 4) return lp_errorf(LP_STATUS_BAD_ARG, "nnu_spatial_softmax", "expected 4 dims, got %d", nd);
    lp_tensor *flat = NULL, *scaled = NULL, *soft = NULL;
    lp_status st;
    const int64_t fshape[3] = {shape[0], shape[1], shape[2] * shape[3]};
    if ((st = lp_tensor_reshape(x, fshape, 3, &flat))) goto fail;
    if (temperature != 1.0) {
        if ((st = lp_tensor_binary_scalar(LP_BINARY_MUL, flat, temperature, 0, &scaled))) goto fail;
    }
    if ((st = lp_nn_softmax(scaled ? scaled : flat, -1, &soft))) goto fail;
    st = lp_tensor_reshape(soft, shape, 4, out);
fail:
    lp_tensor_free(flat);
    lp_tensor_free(scaled);
    lp_tensor_free(soft);
    return st;
}

lp_status nnu_relu_(lp_tensor *x) { return lp_tensor_unary_(LP_UNARY_RELU, x); }

static int64_t receptive(const lp_tensor *t) {
    int64_t r = 1;
    for (int32_t i = 2; i < lp_tensor_dim(t); ++i) r *= lp_tensor_size(t, i);
    return r;
}

lp_status nnu_xavier_uniform_(lp_tensor *t, double gain) {
    double fan_in = (double)(lp_tensor_size(t, 1) * receptive(t));
    double fan_out = (double)(lp_tensor_size(t, 0) * receptive(t));
    double bound = gain * sqrt(6.0 / (fan_in + fan_out));
    return lp_tensor_uniform_(t, -bound, bound, -1);
}

lp_status nnu_kaiming_normal_fan_out_(lp_tensor *t) {
    double fan_out = (double)(lp_tensor_size(t, 0) * receptive(t));
    return lp_tensor_normal_(t, 0.0, sqrt(2.0 / fan_out), -1);
}
