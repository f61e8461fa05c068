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

lp_status lpm_hm_head_forward(const lpm_hm_head *head, const lpm_params *reg,
                              const lp_tensor *features, lp_tensor **out) {
    lp_tensor *h = NULL, *next = NULL;
    lp_status st = lp_nn_pixel_shuffle(features, 2, &h);
    if (st) return st;
    for (int32_t i = 0; i < head->n_layers; ++i) {
        st = lpm_deconv3(h, lpm_params_at(reg, head->deconv[i].w), lpm_params_at(reg, head->deconv[i].b),
                         &next);
        if (st) goto fail;
        nnu_replace(&h, next);
    }
    st = nnu_spatial_softmax(h, 1.0, out);
fail:
    lp_tensor_free(h);
    return st;
}
