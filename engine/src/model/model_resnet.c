/* model_resnet.c: torchvision ResNet 18/34/50/101/152 truncated after layer4
 * (LP's grab_layers_sequential(..., -3)), with torchvision's parameter names
 * under "backbone." and its default init: kaiming_normal(fan_out, relu) for
 * convs, BN weight 1 and bias 0. ResNet-50+ is the v1.5 variant (stride on
 * the 3x3 conv). */
#include <stdio.h>
#include <stdlib.h>

#include "model_internal.h"

typedef struct arch_spec {
    int32_t bottleneck;
    int32_t blocks[4];
} arch_spec;

static const arch_spec ARCHS[5] = {
    {0, {2, 2, 2, 2}}, {0, {3, 4, 6, 3}}, {1, {3, 4, 6, 3}}, {1, {3, 4, 23, 3}}, {1, {3, 8, 36, 3}},
};

static lp_status add_conv_init(lpm_params *reg, const char *name, int64_t out_ch, int64_t in_ch,
                               int64_t k, lpm_conv *out) {
    const int64_t w[4] = {out_ch, in_ch, k, k};
    lp_status st = lpm_add_conv(reg, name, w, 0, out);
    if (st || !reg->init) return st;
    return nnu_kaiming_normal_fan_out_(lpm_params_at(reg, out->w));
}

static lp_status block_init(lpm_block *b, lpm_params *reg, const char *prefix, int32_t bottleneck,
                            int64_t inplanes, int64_t planes, int32_t stride) {
    char name[128];
    lp_status st;
    int64_t expansion = bottleneck ? 4 : 1;
    b->n_convs = bottleneck ? 3 : 2;
    b->stride = stride;
    b->has_downsample = stride != 1 || inplanes != planes * expansion;
    for (int32_t i = 0; i < b->n_convs; ++i) {
        int64_t in_ch, out_ch, k;
        if (!bottleneck) {
            in_ch = i == 0 ? inplanes : planes;
            out_ch = planes;
            k = 3;
        } else {
            in_ch = i == 0 ? inplanes : planes;
            out_ch = i == 2 ? planes * 4 : planes;
            k = i == 1 ? 3 : 1;
        }
        snprintf(name, sizeof name, "%s.conv%d", prefix, i + 1);
        if ((st = add_conv_init(reg, name, out_ch, in_ch, k, &b->conv[i]))) return st;
        snprintf(name, sizeof name, "%s.bn%d", prefix, i + 1);
        if ((st = lpm_add_bn(reg, name, out_ch, &b->bn[i]))) return st;
    }
    if (b->has_downsample) {
        snprintf(name, sizeof name, "%s.downsample.0", prefix);
        if ((st = add_conv_init(reg, name, planes * expansion, inplanes, 1, &b->ds_conv))) return st;
        snprintf(name, sizeof name, "%s.downsample.1", prefix);
        if ((st = lpm_add_bn(reg, name, planes * expansion, &b->ds_bn))) return st;
    }
    return LP_STATUS_OK;
}

lp_status lpm_resnet_init(lpm_resnet *net, lpm_params *reg, int32_t arch) {
    if (arch < 0 || arch > 4)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_resnet_init", "unknown backbone %d", arch);
    const arch_spec *spec = &ARCHS[arch];
    lp_status st;
    net->arch = arch;
    net->n_blocks = 0;
    for (int i = 0; i < 4; ++i) net->n_blocks += spec->blocks[i];
    net->blocks = calloc((size_t)net->n_blocks, sizeof *net->blocks);
    if (!net->blocks) return lp_errorf(LP_STATUS_OOM, "lpm_resnet_init", "out of memory");
    net->channels = spec->bottleneck ? 2048 : 512;

    if ((st = add_conv_init(reg, "backbone.conv1", 64, 3, 7, &net->conv1))) return st;
    if ((st = lpm_add_bn(reg, "backbone.bn1", 64, &net->bn1))) return st;
    int64_t inplanes = 64;
    int32_t ib = 0;
    for (int layer = 0; layer < 4; ++layer) {
        int64_t planes = 64 << layer;
        for (int j = 0; j < spec->blocks[layer]; ++j, ++ib) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "backbone.layer%d.%d", layer + 1, j);
            int32_t stride = (j == 0 && layer > 0) ? 2 : 1;
            st = block_init(&net->blocks[ib], reg, prefix, spec->bottleneck, inplanes, planes,
                            stride);
            if (st) return st;
            inplanes = planes * (spec->bottleneck ? 4 : 1);
        }
    }
    return LP_STATUS_OK;
}

void lpm_resnet_free(lpm_resnet *net) {
    free(net->blocks);
    net->blocks = NULL;
    net->n_blocks = 0;
}

/* An optional look at every convolution's output (after its relu) and every
 * block's output, in forward order (model_int8.c calibrates on them). */
typedef struct observer {
    lpm_observe fn;
    void *ctx;
} observer;

static lp_status observe(const observer *ob, const lpm_conv_site *site, const lp_tensor *t) {
    return ob && ob->fn ? ob->fn(ob->ctx, site, t) : LP_STATUS_OK;
}

/* conv -> bn (-> relu when `relu`) */
static lp_status conv_bn(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn,
                         const lp_tensor *x, int64_t stride, int64_t pad, int32_t training,
                         int32_t relu, const observer *ob, lp_tensor **out) {
    lp_tensor *y = NULL;
    lp_status st = lpm_conv_bn_folded(reg, c, bn, x, stride, pad, training, out);
    if (st) return st;
    if (!*out) { /* not folded: training, grad mode on, or folding off */
        if ((st = nnu_conv2d(x, lpm_params_at(reg, c->w), NULL, stride, pad, 1, &y))) return st;
        st = lpm_bn_forward(reg, bn, y, training, out);
        lp_tensor_free(y);
    }
    if (!st && relu) st = nnu_relu_(*out);
    const lpm_conv_site site = {c, bn, stride, pad};
    if (!st) st = observe(ob, &site, *out);
    if (st) {
        lp_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

static lp_status block_forward(const lpm_block *b, const lpm_params *reg, const lp_tensor *x,
                               int32_t training, const observer *ob, lp_tensor **out) {
    lp_tensor *h = NULL, *next = NULL, *identity = NULL;
    lp_status st = LP_STATUS_OK;
    const lp_tensor *cur = x;
    for (int32_t i = 0; i < b->n_convs; ++i) {
        int64_t k = lp_tensor_size(lpm_params_at(reg, b->conv[i].w), 2);
        /* stride on conv1 (basic) or on the 3x3 conv2 (bottleneck v1.5) */
        int64_t stride = (b->n_convs == 2 ? i == 0 : i == 1) ? b->stride : 1;
        int32_t last = i == b->n_convs - 1;
        st = conv_bn(reg, &b->conv[i], &b->bn[i], cur, stride, k / 2, training, !last, ob, &next);
        if (st) goto fail;
        nnu_replace(&h, next);
        next = NULL;
        cur = h;
    }
    if (b->has_downsample) {
        st = conv_bn(reg, &b->ds_conv, &b->ds_bn, x, b->stride, 0, training, 0, ob, &identity);
        if (st) goto fail;
    }
    if ((st = lp_tensor_binary_(LP_BINARY_ADD_RELU, h, identity ? identity : x))) goto fail;
    if ((st = observe(ob, NULL, h))) goto fail;
    *out = h;
    h = NULL;
fail:
    lp_tensor_free(h);
    lp_tensor_free(identity);
    return st;
}

static lp_status resnet_forward(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *x,
                                int32_t training, const observer *ob, lp_tensor **out) {
    lp_tensor *h = NULL, *next = NULL, *x_cl = NULL;
    /* Folded inference runs in channels-last layout (model_fold.c); the
     * features go back to the standard layout at the end for the heads. */
    const int32_t channels_last = lpm_fold_active(reg, training);
    lp_status st = channels_last ? lp_tensor_channels_last(x, &x_cl) : LP_STATUS_OK;
    if (!st) st = conv_bn(reg, &net->conv1, &net->bn1, x_cl ? x_cl : x, 2, 3, training, 1, ob, &h);
    lp_tensor_free(x_cl);
    if (st) return st;
    const int64_t k[2] = {3, 3}, s[2] = {2, 2}, p[2] = {1, 1}, d[2] = {1, 1};
    if ((st = lp_nn_max_pool2d(h, k, s, p, d, 0, &next))) goto fail;
    nnu_replace(&h, next);
    for (int32_t i = 0; i < net->n_blocks; ++i) {
        if ((st = block_forward(&net->blocks[i], reg, h, training, ob, &next))) goto fail;
        nnu_replace(&h, next);
    }
    if (channels_last) {
        if ((st = lp_tensor_contiguous(h, &next))) goto fail;
        nnu_replace(&h, next);
    }
    *out = h;
    return LP_STATUS_OK;
fail:
    lp_tensor_free(h);
    return st;
}

lp_status lpm_resnet_forward(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *x,
                             int32_t training, lp_tensor **out) {
    return resnet_forward(net, reg, x, training, NULL, out);
}

lp_status lpm_resnet_forward_observed(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *x,
                                      lpm_observe fn, void *ctx, lp_tensor **out) {
    const observer ob = {fn, ctx};
    return resnet_forward(net, reg, x, 0, &ob, out);
}
