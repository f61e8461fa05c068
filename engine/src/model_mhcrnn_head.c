/* model_mhcrnn_head.c: LP's UpsamplingCRNN, the multi-frame head of the
 * Temporal Context Network (lp-model.md §3.2-3.3), upsampling_factor 2:
 *   x_t = W_pre(PixelShuffle(F_t))                 shared by all 5 frames
 *   f = W_f(x_0); f = W_f(x_t) + H_f(f), t = 1..4   forward
 *   b = W_b(x_4); b = W_b(x_t) + H_b(b), t = 3..0   backward
 *   heatmaps = spatial_softmax((f + b) / 2)
 * H_* = Conv2d(K->16K, k2 s2, groups K) then ConvTranspose2d(16K->K, k2 s2,
 * groups K). Init: xavier_uniform(gain 1), zero bias. */
#include <stdio.h>

#include "model_internal.h"

enum { N_CONTEXT = 5, FILTERS_PER_KEYPOINT = 16 };

static lp_status add_init(lpm_params *reg, const char *name, int64_t w0, int64_t w1, int64_t k,
                          int64_t bias_ch, lpm_conv *out) {
    const int64_t w[4] = {w0, w1, k, k};
    lp_status st = lpm_add_conv(reg, name, w, bias_ch, out);
    if (st || !reg->init) return st;
    return nnu_xavier_uniform_(lpm_params_at(reg, out->w), 1.0);
}

lp_status lpm_crnn_head_init(lpm_crnn_head *head, lpm_params *reg, int64_t in_channels,
                             int64_t num_keypoints) {
    const int64_t K = num_keypoints, KF = num_keypoints * FILTERS_PER_KEYPOINT;
    lp_status st;
    head->num_keypoints = K;
    /* LP's construction order: W_pre, W_f, H_f, W_b, H_b */
    if ((st = add_init(reg, "head_mf.W_pre", in_channels / 4, K, 3, K, &head->w_pre))) return st;
    if ((st = add_init(reg, "head_mf.W_f", K, K, 3, K, &head->w_f))) return st;
    if ((st = add_init(reg, "head_mf.H_f.0", KF, 1, 2, KF, &head->h_f[0]))) return st;
    if ((st = add_init(reg, "head_mf.H_f.1", KF, 1, 2, K, &head->h_f[1]))) return st;
    if ((st = add_init(reg, "head_mf.W_b", K, K, 3, K, &head->w_b))) return st;
    if ((st = add_init(reg, "head_mf.H_b.0", KF, 1, 2, KF, &head->h_b[0]))) return st;
    return add_init(reg, "head_mf.H_b.1", KF, 1, 2, K, &head->h_b[1]);
}

static lp_status deconv3(const lpm_params *reg, const lpm_conv *c, const lp_tensor *x,
                         lp_tensor **out) {
    return nnu_conv_t2d(x, lpm_params_at(reg, c->w), lpm_params_at(reg, c->b), 2, 1, 1, 1, out);
}

/* H(h) = ConvT_k2s2(Conv_k2s2(h)), both grouped by keypoint */
static lp_status hidden(const lpm_params *reg, const lpm_conv h[2], int64_t K, const lp_tensor *x,
                        lp_tensor **out) {
    lp_tensor *mid = NULL;
    lp_status st = nnu_conv2d(x, lpm_params_at(reg, h[0].w), lpm_params_at(reg, h[0].b), 2, 0, K,
                              &mid);
    if (st) return st;
    st = nnu_conv_t2d(mid, lpm_params_at(reg, h[1].w), lpm_params_at(reg, h[1].b), 2, 0, 0, K, out);
    lp_tensor_free(mid);
    return st;
}

/* Per-frame input terms, computed once per frame (lp-model.md §3.6):
 * P = W_pre(PixelShuffle(F)), A = W_f(P), B = W_b(P). frames (M, C, h, w). */
static lp_status frame_terms(const lpm_crnn_head *head, const lpm_params *reg,
                             const lp_tensor *frames, lp_tensor **out_a, lp_tensor **out_b) {
    lp_tensor *ps = NULL, *p = NULL;
    lp_status st = lp_nn_pixel_shuffle(frames, 2, &ps);
    if (!st) st = deconv3(reg, &head->w_pre, ps, &p);
    if (!st) st = deconv3(reg, &head->w_f, p, out_a);
    if (!st && (st = deconv3(reg, &head->w_b, p, out_b))) {
        lp_tensor_free(*out_a);
        *out_a = NULL;
    }
    lp_tensor_free(ps);
    lp_tensor_free(p);
    return st;
}

/* Frame t of every sequence. Labeled terms are (N, 5, K, H, W); window terms
 * are (T, K, H, W) and sequence j is frames j..j+4. A view. */
static lp_status frame_at(const lp_tensor *terms, int32_t window, int t, lp_tensor **out) {
    if (window) return lp_tensor_narrow(terms, 0, t, lp_tensor_size(terms, 0) - (N_CONTEXT - 1), out);
    return lp_tensor_select(terms, 1, t, out);
}

/* One direction: s = T[order[0]]; s = T[order[t]] + H(s), t = 1..4 */
static lp_status recur(const lpm_params *reg, const lpm_conv h[2], int64_t K, const lp_tensor *terms,
                       int32_t window, const int order[N_CONTEXT], lp_tensor **out) {
    lp_tensor *state = NULL, *a = NULL, *hs = NULL, *next = NULL;
    lp_status st = frame_at(terms, window, order[0], &state);
    for (int t = 1; t < N_CONTEXT && !st; ++t) {
        if ((st = frame_at(terms, window, order[t], &a))) break;
        if ((st = hidden(reg, h, K, state, &hs))) break;
        if ((st = lp_tensor_binary(LP_BINARY_ADD, a, hs, &next))) break;
        nnu_replace(&state, next);
        nnu_replace(&a, NULL);
        nnu_replace(&hs, NULL);
        next = NULL;
    }
    if (!st) {
        *out = state;
        state = NULL;
    }
    lp_tensor_free(state);
    lp_tensor_free(a);
    lp_tensor_free(hs);
    return st;
}

/* spatial_softmax((forward + backward) / 2) */
static lp_status both_directions(const lpm_crnn_head *head, const lpm_params *reg,
                                 const lp_tensor *ta, const lp_tensor *tb, int32_t window,
                                 lp_tensor **out) {
    static const int fwd[N_CONTEXT] = {0, 1, 2, 3, 4}, bwd[N_CONTEXT] = {4, 3, 2, 1, 0};
    lp_tensor *f = NULL, *b = NULL, *avg = NULL;
    lp_status st = recur(reg, head->h_f, head->num_keypoints, ta, window, fwd, &f);
    if (!st) st = recur(reg, head->h_b, head->num_keypoints, tb, window, bwd, &b);
    if (!st) st = lp_tensor_binary(LP_BINARY_ADD, f, b, &avg);
    if (!st) st = lp_tensor_binary_scalar_(LP_BINARY_DIV, avg, 2.0);
    if (!st) st = nnu_spatial_softmax(avg, 1.0, out);
    lp_tensor_free(f);
    lp_tensor_free(b);
    lp_tensor_free(avg);
    return st;
}

lp_status lpm_crnn_head_forward(const lpm_crnn_head *head, const lpm_params *reg,
                                const lp_tensor *stacks, lp_tensor **out) {
    int64_t s[LP_MAX_DIMS];
    if (lp_tensor_shape(stacks, s) != 5 || s[1] != N_CONTEXT)
        return nnu_error(LP_STATUS_BAD_ARG, "lpm_crnn_head_forward",
                         "expected context stacks (N, 5, C, h, w)");
    lp_tensor *flat = NULL, *a = NULL, *b = NULL, *a5 = NULL, *b5 = NULL;
    const int64_t fshape[4] = {s[0] * N_CONTEXT, s[2], s[3], s[4]};
    lp_status st = lp_tensor_reshape(stacks, fshape, 4, &flat);
    if (!st) st = frame_terms(head, reg, flat, &a, &b);
    if (!st) {
        const int64_t ts[5] = {s[0], N_CONTEXT, lp_tensor_size(a, 1), lp_tensor_size(a, 2),
                               lp_tensor_size(a, 3)};
        st = lp_tensor_reshape(a, ts, 5, &a5);
        if (!st) st = lp_tensor_reshape(b, ts, 5, &b5);
    }
    if (!st) st = both_directions(head, reg, a5, b5, 0, out);
    lp_tensor_free(flat);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(a5);
    lp_tensor_free(b5);
    return st;
}

lp_status lpm_crnn_head_forward_window(const lpm_crnn_head *head, const lpm_params *reg,
                                       const lp_tensor *features, lp_tensor **out) {
    if (lp_tensor_dim(features) != 4 || lp_tensor_size(features, 0) < N_CONTEXT)
        return nnu_error(LP_STATUS_BAD_ARG, "lpm_crnn_head_forward_window",
                         "expected window features (T, C, h, w) with T >= 5");
    lp_tensor *a = NULL, *b = NULL;
    lp_status st = frame_terms(head, reg, features, &a, &b);
    if (!st) st = both_directions(head, reg, a, b, 1, out);
    lp_tensor_free(a);
    lp_tensor_free(b);
    return st;
}
