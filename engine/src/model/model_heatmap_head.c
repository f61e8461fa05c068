/* model_heatmap_head.c: LP's single-frame HeatmapHead (docs/spec/lp-model.md §2):
 * PixelShuffle(2), then n = 4 - downsample_factor ConvTranspose2d(3x3, s2,
 * p1, op1) whose intermediate width is K (no tracker passes
 * deconv_out_channels), then a spatial softmax at temperature 1. No
 * nonlinearity. Init: xavier_uniform(gain 0.01), zero bias. */
#include <stdio.h>

#include "model_internal.h"

lp_status lpm_hm_head_init(lpm_hm_head *head, lpm_params *reg, int64_t in_channels,
                           int64_t num_keypoints, int32_t downsample_factor) {
    int32_t n = 4 - downsample_factor;
    if (n < 1 || n > LPM_MAX_DECONV)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_hm_head_init", "downsample_factor %d not in 1..3",
                         downsample_factor);
    head->n_layers = n;
    for (int32_t i = 0; i < n; ++i) {
        int64_t in = i == 0 ? in_channels / 4 : num_keypoints;
        const int64_t w[4] = {in, num_keypoints, 3, 3};
        char name[96];
        /* index 0 of LP's Sequential is the PixelShuffle */
        snprintf(name, sizeof name, "head_sf.upsampling_layers.%d", i + 1);
        lp_status st = lpm_add_conv(reg, name, w, num_keypoints, &head->deconv[i]);
        if (st) return st;
        if (reg->init && (st = nnu_xavier_uniform_(lpm_params_at(reg, head->deconv[i].w), 0.01)))
            return st;
    }
    return LP_STATUS_OK;
}

/* The inference fast path: the maps stay as phase channels between layers
 * (model_deconv.c), each layer's input shuffled and padded in one copy. */
lp_status lpm_hm_head_forward_phases(const lpm_hm_head *head, const lpm_params *reg, const lp_tensor *phases,
                                     lp_tensor **out) {
    lp_tensor *owned = NULL, *next = NULL, *maps = NULL;
    const lp_tensor *cur = phases; /* layer i - 1's phase channels */
    lp_status st = LP_STATUS_OK;
    for (int32_t i = 1; i < head->n_layers && !st; ++i) {
        const lp_tensor *w = lpm_params_at(reg, head->deconv[i].w), *b = lpm_params_at(reg, head->deconv[i].b);
        if ((st = lpm_phase_conv_shuffled(cur, &w, &b, 1, &next))) break;
        nnu_replace(&owned, next);
        cur = owned;
        next = NULL;
    }
    if (!st) st = lpm_shuffle2(cur, 0, &maps);
    if (!st) st = nnu_spatial_softmax(maps, 1.0, out);
    lp_tensor_free(owned);
    lp_tensor_free(maps);
    return st;
}

static lp_status forward_fast(const lpm_hm_head *head, const lpm_params *reg, const lp_tensor *features,
                              lp_tensor **out) {
    const lp_tensor *w = lpm_params_at(reg, head->deconv[0].w), *b = lpm_params_at(reg, head->deconv[0].b);
    lp_tensor *phases = NULL;
    lp_status st = lpm_phase_conv_shuffled(features, &w, &b, 1, &phases);
    if (!st) st = lpm_hm_head_forward_phases(head, reg, phases, out);
    lp_tensor_free(phases);
    return st;
}

int lpm_hm_head_fast(const lpm_hm_head *head, const lpm_params *reg, const lp_tensor *features) {
    if (!lpm_heads_fast(features)) return 0;
    for (int32_t i = 0; i < head->n_layers; ++i)
        if (lp_tensor_dtype(lpm_params_at(reg, head->deconv[i].w)) != LP_DTYPE_F32 ||
            lp_tensor_dtype(lpm_params_at(reg, head->deconv[i].b)) != LP_DTYPE_F32)
            return 0;
    return 1;
}

lp_status lpm_hm_head_forward(const lpm_hm_head *head, const lpm_params *reg,
                              const lp_tensor *features, lp_tensor **out) {
    if (lpm_hm_head_fast(head, reg, features)) return forward_fast(head, reg, features, out);
    lp_tensor *h = NULL, *next = NULL;
    lp_status st = lp_nn_pixel_shuffle(features, 2, &h);
    if (st) return st;
    for (int32_t i = 0; i < head->n_layers; ++i) {
        st = nnu_conv_t2d(h, lpm_params_at(reg, head->deconv[i].w), lpm_params_at(reg, head->deconv[i].b), 2, 1,
                          1, 1, &next);
        if (st) goto fail;
        nnu_replace(&h, next);
    }
    st = nnu_spatial_softmax(h, 1.0, out);
fail:
    lp_tensor_free(h);
    return st;
}
