/* model_int8.c: the backbone in int8 for inference (lp_model_quantize_int8;
 * lpose predict --precision int8). Static post-training quantization:
 * every convolution with its batch norm folded (model_fold.c) becomes a
 * prepacked int8 convolution (weights per output channel, symmetric), and
 * every activation a quint8 tensor whose scale and zero point come from the
 * range the f32 backbone showed on calibration images (min and max, zero
 * included). ReLUs and the residual additions run on the int8 values;
 * the features go back to f32 for the heads, which stay f32. Weights that
 * change after the quantization (training, loading, moving) make the int8
 * backbone refuse to run instead of serving stale weights. */
#include <math.h>
#include <stdlib.h>

#include "model_internal.h"

typedef struct qparams {
    double scale;
    int64_t zero_point;
} qparams;

/* A range of values seen by the f32 forward. */
typedef struct range {
    double lo, hi;
} range;

/* In the order lpm_resnet_forward_observed observes: conv1, then per block
 * its convs, the downsample conv and the block's end. */
struct lpm_int8 {
    lp_qconv **convs; /* per observation: the conv that makes it, NULL for a block's end */
    qparams *q;       /* per observation: its activation's quint8 parameters */
    int32_t n, cap;
    qparams input;
    uint64_t generation;
    int64_t versions;
};

/* min and max of t */
static lp_status extrema(const lp_tensor *t, range *out) {
    lp_tensor *lo = NULL, *hi = NULL;
    lp_status st = lp_tensor_reduce(LP_REDUCE_AMIN, t, NULL, 0, 0, &lo);
    if (!st) st = lp_tensor_reduce(LP_REDUCE_AMAX, t, NULL, 0, 0, &hi);
    if (!st) st = lp_tensor_item(lo, &out->lo);
    if (!st) st = lp_tensor_item(hi, &out->hi);
    lp_tensor_free(lo);
    lp_tensor_free(hi);
    return st;
}

/* quint8 parameters covering [lo, hi] and 0 (exactly representable, as the
 * zero padding and the ReLUs need). */
static qparams params_of(range r) {
    double lo = fmin(r.lo, 0), hi = fmax(r.hi, 0);
    if (!(hi > lo)) hi = lo + 1e-6; /* an all-zero activation */
    qparams q;
    q.scale = (hi - lo) / 255.0;
    q.zero_point = (int64_t)llround(-lo / q.scale);
    if (q.zero_point < 0) q.zero_point = 0;
    if (q.zero_point > 255) q.zero_point = 255;
    return q;
}

void lpm_int8_free(lpm_int8 *q) {
    if (!q) return;
    for (int32_t i = 0; q->convs && i < q->n; ++i) lp_qconv_free(q->convs[i]);
    free(q->convs);
    free(q->q);
    free(q);
}

typedef struct calib {
    lpm_int8 *q;
    const lpm_params *reg;
} calib;

/* One observation of the calibration forward: the activation's parameters
 * from its range and, for a convolution's output, that convolution in int8
 * (the same folded weights as the f32 forward). */
static lp_status record(void *ctx, const lpm_conv_site *site, const lp_tensor *t) {
    calib *c = ctx;
    lpm_int8 *q = c->q;
    if (q->n == q->cap) {
        const int32_t cap = q->cap ? 2 * q->cap : 64;
        lp_qconv **convs = realloc(q->convs, sizeof *convs * (size_t)cap);
        if (convs) q->convs = convs;
        qparams *qp = convs ? realloc(q->q, sizeof *qp * (size_t)cap) : NULL;
        if (!qp) return lp_errorf(LP_STATUS_OOM, "lp_model_quantize_int8", "out of memory");
        q->q = qp;
        q->cap = cap;
    }
    range r;
    lp_status st = extrema(t, &r);
    if (st) return st;
    q->q[q->n] = params_of(r);
    q->convs[q->n] = NULL;
    q->n += 1; /* counted before the conv is made, so lpm_int8_free frees it */
    if (!site) return LP_STATUS_OK;
    const lp_tensor *w = NULL, *b = NULL;
    st = lpm_fold_weights(c->reg, site->c, site->bn, &w, &b);
    return st ? st : lp_qconv_new(w, b, site->stride, site->pad, &q->convs[q->n - 1]);
}

lp_status lpm_int8_new(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *images, lpm_int8 **out) {
    lp_tensor *feat = NULL;
    lpm_int8 *q = calloc(1, sizeof *q);
    lp_status st = q ? LP_STATUS_OK : lp_errorf(LP_STATUS_OOM, "lp_model_quantize_int8", "out of memory");
    range in = {0, 0};
    if (!st) st = extrema(images, &in);
    calib c = {q, reg};
    if (!st) st = lpm_resnet_forward_observed(net, reg, images, record, &c, &feat);
    if (!st) {
        q->input = params_of(in);
        q->generation = reg->generation;
        q->versions = lpm_params_versions(reg, NULL, 0);
        *out = q;
        q = NULL;
    }
    lp_tensor_free(feat);
    lpm_int8_free(q);
    return st;
}

static lp_status qconv(const lpm_int8 *q, int32_t *at, const lp_tensor *x, int32_t relu, lp_tensor **out) {
    const qparams p = q->q[*at];
    lp_status st = lp_qconv_forward(q->convs[*at], x, p.scale, p.zero_point, relu, out);
    *at += 1;
    return st;
}

lp_status lpm_int8_forward(const lpm_int8 *q, const lpm_resnet *net, const lpm_params *reg, const lp_tensor *images,
                           lp_tensor **out) {
    if (q->generation != reg->generation || q->versions != lpm_params_versions(reg, NULL, 0))
        return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_forward_backbone",
                         "the weights changed since lp_model_quantize_int8: quantize again, or drop int8");
    static const int64_t k3[2] = {3, 3}, s2[2] = {2, 2}, p1[2] = {1, 1}, d1[2] = {1, 1};
    lp_tensor *h = NULL, *xq = NULL, *cur = NULL, *next = NULL, *identity = NULL;
    int32_t at = 0;
    lp_status st = lp_tensor_quantize(images, q->input.scale, q->input.zero_point, &xq);
    if (!st) st = qconv(q, &at, xq, 1, &cur);
    if (!st) st = lp_nn_max_pool2d(cur, k3, s2, p1, d1, 0, &h);
    nnu_replace(&cur, NULL);
    for (int32_t i = 0; i < net->n_blocks && !st; ++i) {
        const lpm_block *b = &net->blocks[i];
        const lp_tensor *in = h;
        for (int32_t k = 0; k < b->n_convs && !st; ++k) {
            st = qconv(q, &at, in, k < b->n_convs - 1, &next);
            nnu_replace(&cur, next);
            next = NULL;
            in = cur;
        }
        if (!st && b->has_downsample) st = qconv(q, &at, h, 0, &identity);
        if (!st) st = lp_tensor_qadd_relu(cur, identity ? identity : h, q->q[at].scale, q->q[at].zero_point, &next);
        at += 1;
        nnu_replace(&identity, NULL);
        nnu_replace(&cur, NULL);
        if (!st) nnu_replace(&h, next);
        next = NULL;
    }
    if (!st) st = lp_tensor_dequantize(h, out);
    lp_tensor_free(h);
    lp_tensor_free(xq);
    lp_tensor_free(cur);
    lp_tensor_free(next);
    lp_tensor_free(identity);
    return st;
}
