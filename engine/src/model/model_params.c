/* model_params.c: the parameter registry (named parameters and buffers with
 * PyTorch names) plus the conv / batch-norm building blocks on top of it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

lp_status lpm_params_add(lpm_params *reg, int32_t is_param, const int64_t *shape, int32_t ndim,
                         int32_t *out_id, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (reg->n == reg->cap) {
        int32_t cap = reg->cap ? reg->cap * 2 : 64;
        lpm_entry *v = realloc(reg->v, (size_t)cap * sizeof *v);
        if (!v) return lp_errorf(LP_STATUS_OOM, "lpm_params_add", "out of memory");
        reg->v = v;
        reg->cap = cap;
    }
    lp_tensor *t = NULL;
    /* num_batches_tracked is i64 as in PyTorch; everything else f32 */
    lp_dtype dt = (ndim == 0 && !is_param) ? LP_DTYPE_I64 : LP_DTYPE_F32;
    lp_status st = lp_tensor_zeros(shape, ndim, dt, LP_DEVICE_CPU, &t);
    if (st) return st;
    char *copy = strdup(name);
    if (!copy) {
        lp_tensor_free(t);
        return lp_errorf(LP_STATUS_OOM, "lpm_params_add", "out of memory");
    }
    reg->v[reg->n].name = copy;
    reg->v[reg->n].t = t;
    reg->v[reg->n].is_param = is_param;
    if (out_id) *out_id = reg->n;
    reg->n++;
    return LP_STATUS_OK;
}

lp_tensor *lpm_params_at(const lpm_params *reg, int32_t id) {
    return (id >= 0 && id < reg->n) ? reg->v[id].t : NULL;
}

int64_t lpm_params_versions(const lpm_params *reg, const int32_t *ids, int32_t n) {
    int64_t sum = 0;
    for (int32_t i = 0; i < (ids ? n : reg->n); ++i) {
        const int32_t id = ids ? ids[i] : i;
        if (id >= 0) sum += lp_tensor_version(lpm_params_at(reg, id));
    }
    return sum;
}

int32_t lpm_params_find(const lpm_params *reg, const char *name) {
    for (int32_t i = 0; i < reg->n; ++i)
        if (strcmp(reg->v[i].name, name) == 0) return i;
    return -1;
}

lp_status lpm_params_require_grad(lpm_params *reg) {
    for (int32_t i = 0; i < reg->n; ++i) {
        if (!reg->v[i].is_param) continue;
        lp_status st = lp_tensor_set_requires_grad(reg->v[i].t, 1);
        if (st) return st;
    }
    return LP_STATUS_OK;
}

lp_status lpm_params_to(lpm_params *reg, lp_device device) {
    /* Build all moved tensors first so a failure leaves the model intact. */
    lp_tensor **fresh = calloc((size_t)(reg->n ? reg->n : 1), sizeof *fresh);
    if (!fresh) return lp_errorf(LP_STATUS_OOM, "lpm_params_to", "out of memory");
    lp_status st = LP_STATUS_OK;
    for (int32_t i = 0; i < reg->n && !st; ++i) {
        lp_tensor *moved = NULL;
        st = lp_tensor_to(reg->v[i].t, (lp_dtype)lp_tensor_dtype(reg->v[i].t), device, &moved);
        if (st) break;
        st = lp_tensor_detach(moved, &fresh[i]);
        lp_tensor_free(moved);
        if (!st && reg->v[i].is_param) st = lp_tensor_set_requires_grad(fresh[i], 1);
    }
    if (st) {
        for (int32_t i = 0; i < reg->n; ++i) lp_tensor_free(fresh[i]);
    } else {
        for (int32_t i = 0; i < reg->n; ++i) nnu_replace(&reg->v[i].t, fresh[i]);
        reg->generation++; /* derived caches (folded batch norms) are stale */
    }
    free(fresh);
    return st;
}

void lpm_params_clear(lpm_params *reg) {
    for (int32_t i = 0; i < reg->n; ++i) {
        free(reg->v[i].name);
        lp_tensor_free(reg->v[i].t);
    }
    free(reg->v);
    reg->v = NULL;
    reg->n = reg->cap = 0;
    lpm_fold_cache_free(reg->fold);
    reg->fold = NULL;
    reg->generation++;
}

lp_status lpm_add_conv(lpm_params *reg, const char *prefix, const int64_t wshape[4],
                       int64_t bias_ch, lpm_conv *out) {
    const int64_t bshape[1] = {bias_ch};
    out->b = -1;
    lp_status st = lpm_params_add(reg, 1, wshape, 4, &out->w, "%s.weight", prefix);
    if (!st && bias_ch > 0) st = lpm_params_add(reg, 1, bshape, 1, &out->b, "%s.bias", prefix);
    return st;
}

lp_status lpm_add_bn(lpm_params *reg, const char *prefix, int64_t ch, lpm_bn *out) {
    const int64_t s[1] = {ch};
    lp_status st;
    if ((st = lpm_params_add(reg, 1, s, 1, &out->w, "%s.weight", prefix))) return st;
    if ((st = lpm_params_add(reg, 1, s, 1, &out->b, "%s.bias", prefix))) return st;
    if ((st = lpm_params_add(reg, 0, s, 1, &out->mean, "%s.running_mean", prefix))) return st;
    if ((st = lpm_params_add(reg, 0, s, 1, &out->var, "%s.running_var", prefix))) return st;
    if ((st = lpm_params_add(reg, 0, NULL, 0, &out->nbt, "%s.num_batches_tracked", prefix)))
        return st;
    /* torchvision: weight 1, bias 0; running_var starts at 1 */
    if ((st = lp_tensor_fill_(lpm_params_at(reg, out->w), 1.0))) return st;
    return lp_tensor_fill_(lpm_params_at(reg, out->var), 1.0);
}

lp_status lpm_bn_forward(const lpm_params *reg, const lpm_bn *bn, const lp_tensor *x,
                         int32_t training, lp_tensor **out) {
    lp_status st = training && reg->sync_bn
                       ? lp_nn_sync_batch_norm(reg->sync_bn, x, lpm_params_at(reg, bn->w),
                                               lpm_params_at(reg, bn->b), lpm_params_at(reg, bn->mean),
                                               lpm_params_at(reg, bn->var), 0.1, 1e-5, out)
                       : lp_nn_batch_norm(x, lpm_params_at(reg, bn->w), lpm_params_at(reg, bn->b),
                                          lpm_params_at(reg, bn->mean), lpm_params_at(reg, bn->var),
                                          training, 0.1, 1e-5, out);
    if (st || !training) return st;
    /* num_batches_tracked += 1 on an i64 tensor (a double scalar would make
     * the shim's in-place add Float -> Long, which libtorch rejects) */
    lp_tensor *nbt = lpm_params_at(reg, bn->nbt), *one = NULL;
    st = lp_tensor_full(NULL, 0, 1.0, LP_DTYPE_I64, lp_tensor_device(nbt), &one);
    if (!st) st = lp_tensor_binary_(LP_BINARY_ADD, nbt, one);
    lp_tensor_free(one);
    if (st) {
        lp_tensor_free(*out);
        *out = NULL;
    }
    return st;
}
