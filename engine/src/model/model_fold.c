/* model_fold.c: batch norm folded into the convolution before it, for
 * inference. In eval mode batch norm is an affine map per channel,
 * y = (z - mean) * s + beta with s = gamma / sqrt(var + eps), so
 * bn(conv(x, W) + c) = conv(x, W * s) + (c - mean) * s + beta: one pass over
 * the activations instead of two. The folded weight and bias are computed
 * in f64 (one rounding to f32 at the end) and cached per convolution, in
 * channels-last layout: the backbone runs its folded inference on
 * channels-last activations (model_resnet.c), where oneDNN's convolutions
 * are fastest.
 *
 * Folding only happens with grad mode off: a folded weight is a constant,
 * so gradients must keep flowing through the unfolded layers. The cache is
 * checked at every use against the registry's generation (bumped when the
 * tensors are replaced, e.g. moved to another device) and the sum of the
 * five tensors' in-place version counters (bumped by optimizer steps,
 * weight loading, any in-place op from C or Lua), so a changed model is
 * refolded, never served stale weights. */
#include <stdlib.h>

#include "model_internal.h"

static const double BN_EPS = 1e-5; /* torchvision's BatchNorm2d default, as lpm_bn_forward */

typedef struct fold_entry {
    lp_tensor *w, *b;       /* folded weight (out, in, k, k) and bias (out) */
    uint64_t generation;
    int64_t versions;
} fold_entry;

struct lpm_fold_cache {
    fold_entry *v; /* indexed by the convolution weight's registry id */
    int32_t n;
};

void lpm_fold_cache_free(lpm_fold_cache *cache) {
    if (!cache) return;
    for (int32_t i = 0; i < cache->n; ++i) {
        lp_tensor_free(cache->v[i].w);
        lp_tensor_free(cache->v[i].b);
    }
    free(cache->v);
    free(cache);
}

static int64_t versions_of(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn) {
    const int32_t ids[6] = {c->w, c->b, bn->w, bn->b, bn->mean, bn->var};
    return lpm_params_versions(reg, ids, 6);
}

static lp_status to_f64(const lp_tensor *t, lp_tensor **out) {
    return lp_tensor_to(t, LP_DTYPE_F64, lp_tensor_device(t), out);
}

/* s = gamma / sqrt(var + eps); w = W * s (per output channel);
 * b = (conv bias - mean) * s + beta, all in f64, stored as f32. */
static lp_status fold(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn, fold_entry *e) {
    lp_tensor *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL, *w = NULL, *cb = NULL;
    lp_tensor *s = NULL, *s4 = NULL, *tmp = NULL, *w64 = NULL, *b64 = NULL;
    lp_tensor *wf = NULL, *bf = NULL, *tmp2 = NULL;
    const lp_tensor *w32 = lpm_params_at(reg, c->w);
    const lp_device dev = lp_tensor_device(w32);
    lp_status st;
    if ((st = to_f64(lpm_params_at(reg, bn->w), &gamma)) || (st = to_f64(lpm_params_at(reg, bn->b), &beta)) ||
        (st = to_f64(lpm_params_at(reg, bn->mean), &mean)) ||
        (st = to_f64(lpm_params_at(reg, bn->var), &var)) || (st = to_f64(w32, &w)))
        goto done;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_ADD, var, BN_EPS, 0, &tmp))) goto done;
    if ((st = lp_tensor_unary(LP_UNARY_RSQRT, tmp, &s))) goto done;
    if ((st = lp_tensor_binary_(LP_BINARY_MUL, s, gamma))) goto done;
    const int64_t shape4[4] = {lp_tensor_size(s, 0), 1, 1, 1};
    if ((st = lp_tensor_view(s, shape4, 4, &s4))) goto done;
    if ((st = lp_tensor_binary(LP_BINARY_MUL, w, s4, &w64))) goto done;
    /* bias: (c - mean) * s + beta, with c = 0 when the conv has none */
    if (c->b >= 0) {
        if ((st = to_f64(lpm_params_at(reg, c->b), &cb))) goto done;
        if ((st = lp_tensor_binary_(LP_BINARY_SUB, cb, mean))) goto done;
    } else if ((st = lp_tensor_unary(LP_UNARY_NEG, mean, &cb))) {
        goto done;
    }
    if ((st = lp_tensor_binary_(LP_BINARY_MUL, cb, s))) goto done;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, cb, beta, &b64))) goto done;
    if ((st = lp_tensor_to(w64, LP_DTYPE_F32, dev, &tmp2))) goto done;
    if ((st = lp_tensor_channels_last(tmp2, &wf))) goto done; /* as the activations */
    if ((st = lp_tensor_to(b64, LP_DTYPE_F32, dev, &bf))) goto done;
    nnu_replace(&e->w, wf);
    nnu_replace(&e->b, bf);
    wf = bf = NULL;
done:
    lp_tensor_free(gamma);
    lp_tensor_free(beta);
    lp_tensor_free(mean);
    lp_tensor_free(var);
    lp_tensor_free(w);
    lp_tensor_free(cb);
    lp_tensor_free(s);
    lp_tensor_free(s4);
    lp_tensor_free(tmp);
    lp_tensor_free(w64);
    lp_tensor_free(b64);
    lp_tensor_free(wf);
    lp_tensor_free(bf);
    lp_tensor_free(tmp2);
    return st;
}

/* The cache entry of convolution c, created and sized on first use. */
static lp_status entry_of(const lpm_params *reg, const lpm_conv *c, fold_entry **out) {
    lpm_params *mreg = (lpm_params *)reg; /* the cache is derived state, not the model's */
    if (!mreg->fold) {
        mreg->fold = calloc(1, sizeof *mreg->fold);
        if (!mreg->fold) return lp_errorf(LP_STATUS_OOM, "lpm_conv_bn_folded", "out of memory");
    }
    lpm_fold_cache *cache = mreg->fold;
    if (c->w >= cache->n) {
        int32_t n = reg->n;
        fold_entry *v = realloc(cache->v, sizeof *v * (size_t)n);
        if (!v) return lp_errorf(LP_STATUS_OOM, "lpm_conv_bn_folded", "out of memory");
        for (int32_t i = cache->n; i < n; ++i) v[i] = (fold_entry){0};
        cache->v = v;
        cache->n = n;
    }
    *out = &cache->v[c->w];
    return LP_STATUS_OK;
}

int32_t lpm_fold_active(const lpm_params *reg, int32_t training) {
    return !training && !reg->no_fold && !lp_grad_is_enabled();
}

lp_status lpm_conv_bn_folded(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn,
                             const lp_tensor *x, int64_t stride, int64_t pad, int32_t training,
                             lp_tensor **out) {
    *out = NULL;
    if (!lpm_fold_active(reg, training)) return LP_STATUS_OK;
    const lp_tensor *w = NULL, *b = NULL;
    lp_status st = lpm_fold_weights(reg, c, bn, &w, &b);
    return st ? st : nnu_conv2d(x, w, b, stride, pad, 1, out);
}

lp_status lpm_fold_weights(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn, const lp_tensor **w,
                           const lp_tensor **b) {
    fold_entry *e = NULL;
    lp_status st = entry_of(reg, c, &e);
    if (st) return st;
    const int64_t versions = versions_of(reg, c, bn);
    if (!e->w || e->generation != reg->generation || e->versions != versions) {
        if ((st = fold(reg, c, bn, e))) return st;
        e->generation = reg->generation;
        e->versions = versions;
    }
    *w = e->w;
    *b = e->b;
    return LP_STATUS_OK;
}

lp_status lp_model_set_fold_batch_norm(lp_model *model, int32_t on) {
    if (!model) return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_set_fold_batch_norm", "NULL model");
    model->reg.no_fold = !on;
    return LP_STATUS_OK;
}
