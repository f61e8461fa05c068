/* model_mhcrnn_head.c: LP's UpsamplingCRNN, the multi-frame head of the
 * Temporal Context Network (docs/spec/lp-model.md §3.2-3.3), upsampling_factor 2:
 *   x_t = W_pre(PixelShuffle(F_t))                 shared by all 5 frames
 *   f = W_f(x_0); f = W_f(x_t) + H_f(f), t = 1..4   forward
 *   b = W_b(x_4); b = W_b(x_t) + H_b(b), t = 3..0   backward
 *   heatmaps = spatial_softmax((f + b) / 2)
 * H_* = Conv2d(K->16K, k2 s2, groups K) then ConvTranspose2d(16K->K, k2 s2,
 * groups K). Init: xavier_uniform(gain 1), zero bias. Labeled stacks (the
 * training path) run H as written; window features (streaming inference)
 * run it folded into a 4x4 map per 2x2 patch (fold_h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return lpm_deconv3(x, lpm_params_at(reg, c->w), lpm_params_at(reg, c->b), out);
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

/* Per-frame input terms, computed once per frame (docs/spec/lp-model.md §3.6):
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

/* Frame t of every sequence. Labeled terms are (N, 5, K, H, W); window
 * terms are in patch layout (K, T, Q, 4) and sequence j is frames j..j+4.
 * A view. */
static lp_status frame_at(const lp_tensor *terms, int32_t window, int t, lp_tensor **out) {
    if (window) return lp_tensor_narrow(terms, 1, t, lp_tensor_size(terms, 1) - (N_CONTEXT - 1), out);
    return lp_tensor_select(terms, 1, t, out);
}

/* H as recur applies it: the two grouped convolutions on (N, K, H, W)
 * states, or (mt set) its folded form on patch-layout states (K, N, Q, 4). */
typedef struct h_op {
    const lpm_params *reg;
    const lpm_conv *h;
    int64_t K;
    lp_tensor *mt, *c; /* folded: M_k^T (K, 4, 4) and c_k (K, 1, 4) */
} h_op;

/* Both of H's convolutions have stride == kernel size 2 and nothing
 * nonlinear sits between them, so H maps each disjoint 2x2 patch of
 * keypoint k's map on its own: 4 values -> 16 filters -> 4 values, i.e.
 * patch_out = M_k patch_in + c_k with M_k = W1_k^T W0_k (4x4) and
 * c_k = W1_k^T b0_k + b1_k. One small matmul replaces two grouped
 * convolutions, which are slow on the CPU. Computed per call from the
 * current parameters (tiny), so it never goes stale. */
static lp_status fold_h(h_op *op) {
    const int64_t K = op->K, sw[3] = {K, FILTERS_PER_KEYPOINT, 4};
    const int64_t sb0[3] = {K, 1, FILTERS_PER_KEYPOINT}, sb1[3] = {K, 1, 1};
    lp_tensor *w0 = NULL, *w0t = NULL, *w1 = NULL, *b0 = NULL, *b1 = NULL;
    lp_status st;
    if ((st = lp_tensor_reshape(lpm_params_at(op->reg, op->h[0].w), sw, 3, &w0))) goto fail;
    if ((st = lp_tensor_reshape(lpm_params_at(op->reg, op->h[1].w), sw, 3, &w1))) goto fail;
    if ((st = lp_tensor_reshape(lpm_params_at(op->reg, op->h[0].b), sb0, 3, &b0))) goto fail;
    if ((st = lp_tensor_reshape(lpm_params_at(op->reg, op->h[1].b), sb1, 3, &b1))) goto fail;
    if ((st = lp_tensor_transpose(w0, 1, 2, &w0t))) goto fail;
    if ((st = lp_tensor_bmm(w0t, w1, &op->mt))) goto fail;
    if ((st = lp_tensor_bmm(b0, w1, &op->c))) goto fail;
    st = lp_tensor_binary_(LP_BINARY_ADD, op->c, b1);
fail:
    lp_tensor_free(w0);
    lp_tensor_free(w0t);
    lp_tensor_free(w1);
    lp_tensor_free(b0);
    lp_tensor_free(b1);
    return st;
}

/* Folded: per keypoint k, (N*Q, 4) patch rows times M_k^T, one bmm. */
static lp_status apply_h(const h_op *op, const lp_tensor *s, lp_tensor **out) {
    if (!op->mt) return hidden(op->reg, op->h, op->K, s, out);
    int64_t shape[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(s, shape);
    const int64_t rows[3] = {shape[0], shape[1] * shape[2], 4};
    lp_tensor *s3 = NULL, *h3 = NULL;
    lp_status st = lp_tensor_reshape(s, rows, 3, &s3);
    if (!st) st = lp_tensor_bmm(s3, op->mt, &h3);
    if (!st) st = lp_tensor_binary_(LP_BINARY_ADD, h3, op->c);
    if (!st) st = lp_tensor_reshape(h3, shape, nd, out);
    lp_tensor_free(s3);
    lp_tensor_free(h3);
    return st;
}

/* (N, K, H, W) maps <-> (K, N, H/2 * W/2, 4) patch layout: row q of a
 * map's patch matrix is its q-th 2x2 patch, row-major inside the patch.
 * Keypoint-major, so H is one bmm over K and a window's frames are a
 * narrow of dim 1. */
static lp_status to_patches(const lp_tensor *x, lp_tensor **out) {
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(x, s);
    const int64_t split[6] = {s[0], s[1], s[2] / 2, 2, s[3] / 2, 2}, perm[6] = {1, 0, 2, 4, 3, 5};
    const int64_t rows[4] = {s[1], s[0], (s[2] / 2) * (s[3] / 2), 4};
    lp_tensor *v = NULL, *p = NULL;
    lp_status st = lp_tensor_view(x, split, 6, &v);
    if (!st) st = lp_tensor_permute(v, perm, 6, &p);
    if (!st) st = lp_tensor_reshape(p, rows, 4, out);
    lp_tensor_free(v);
    lp_tensor_free(p);
    return st;
}

static lp_status from_patches(const lp_tensor *x, int64_t H, int64_t W, lp_tensor **out) {
    const int64_t K = lp_tensor_size(x, 0), N = lp_tensor_size(x, 1);
    const int64_t split[6] = {K, N, H / 2, W / 2, 2, 2}, perm[6] = {1, 0, 2, 4, 3, 5};
    const int64_t maps[4] = {N, K, H, W};
    lp_tensor *v = NULL, *p = NULL;
    lp_status st = lp_tensor_view(x, split, 6, &v);
    if (!st) st = lp_tensor_permute(v, perm, 6, &p);
    if (!st) st = lp_tensor_reshape(p, maps, 4, out);
    lp_tensor_free(v);
    lp_tensor_free(p);
    return st;
}

/* One direction: s = T[order[0]]; s = T[order[t]] + H(s), t = 1..4 */
static lp_status recur(const h_op *op, const lp_tensor *terms, int32_t window,
                       const int order[N_CONTEXT], lp_tensor **out) {
    lp_tensor *state = NULL, *a = NULL, *hs = NULL, *next = NULL;
    lp_status st = frame_at(terms, window, order[0], &state);
    for (int t = 1; t < N_CONTEXT && !st; ++t) {
        if ((st = frame_at(terms, window, order[t], &a))) break;
        if ((st = apply_h(op, state, &hs))) break;
        if (op->mt) { /* inference: add in place, one allocation less per step */
            if ((st = lp_tensor_binary_(LP_BINARY_ADD, hs, a))) break;
            next = hs;
            hs = NULL;
        } else if ((st = lp_tensor_binary(LP_BINARY_ADD, a, hs, &next))) {
            break;
        }
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

/* (forward + backward) / 2, in the layout of ta and tb */
static lp_status both_directions(const h_op *hf, const h_op *hb, const lp_tensor *ta,
                                 const lp_tensor *tb, int32_t window, lp_tensor **out) {
    static const int fwd[N_CONTEXT] = {0, 1, 2, 3, 4}, bwd[N_CONTEXT] = {4, 3, 2, 1, 0};
    lp_tensor *f = NULL, *b = NULL;
    lp_status st = recur(hf, ta, window, fwd, &f);
    if (!st) st = recur(hb, tb, window, bwd, &b);
    if (!st) st = lp_tensor_binary(LP_BINARY_ADD, f, b, out);
    if (!st && (st = lp_tensor_binary_scalar_(LP_BINARY_DIV, *out, 2.0))) nnu_replace(out, NULL);
    lp_tensor_free(f);
    lp_tensor_free(b);
    return st;
}

/* The inference fast path (model_deconv.c, model_crnn_recur.c) of both
 * forwards, from W_pre's phase channels pre (T, 4K, h, w) on: W_f and W_b
 * as one 2x2 convolution into phase channels, which are the recurrence's
 * patches, and the fused recurrence writing the maps. Output j's context
 * starts at frame j * step (1: a window; 5: stacks end to end). */
lp_status lpm_crnn_head_forward_phases(const lpm_crnn_head *head, const lpm_params *reg, const lp_tensor *pre,
                                       int64_t step, lp_tensor **out) {
    const int64_t T = lp_tensor_size(pre, 0), K = head->num_keypoints;
    h_op hfo = {reg, head->h_f, head->num_keypoints, NULL, NULL}, *hf = &hfo;
    h_op hbo = {reg, head->h_b, head->num_keypoints, NULL, NULL}, *hb = &hbo;
    const lp_tensor *w[2] = {lpm_params_at(reg, head->w_f.w), lpm_params_at(reg, head->w_b.w)};
    const lp_tensor *b[2] = {lpm_params_at(reg, head->w_f.b), lpm_params_at(reg, head->w_b.b)};
    lp_tensor *ab = NULL, *mf = NULL, *cf = NULL, *mb = NULL, *cb = NULL, *maps = NULL;
    const float *pab, *pmf, *pcf, *pmb, *pcb;
    float *pout;
    lp_status st;
    if ((st = lpm_phase_conv_shuffled(pre, w, b, 2, &ab)) || (st = fold_h(hf)) || (st = fold_h(hb)) ||
        (st = lp_tensor_contiguous(hf->mt, &mf)) || (st = lp_tensor_contiguous(hf->c, &cf)) ||
        (st = lp_tensor_contiguous(hb->mt, &mb)) || (st = lp_tensor_contiguous(hb->c, &cb)))
        goto fail;
    const int64_t h = lp_tensor_size(ab, 2), wd = lp_tensor_size(ab, 3);
    const int64_t so[4] = {(T - N_CONTEXT) / step + 1, K, 2 * h, 2 * wd};
    if ((st = lp_tensor_empty(so, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &maps)) ||
        (st = lp_tensor_data_ptr(ab, (void **)&pab)) || (st = lp_tensor_data_ptr(mf, (void **)&pmf)) ||
        (st = lp_tensor_data_ptr(cf, (void **)&pcf)) || (st = lp_tensor_data_ptr(mb, (void **)&pmb)) ||
        (st = lp_tensor_data_ptr(cb, (void **)&pcb)) || (st = lp_tensor_data_ptr(maps, (void **)&pout)))
        goto fail;
    if ((st = lpm_crnn_recur_window(pab, T, step, K, h, wd, pmf, pcf, pmb, pcb, 1, lp_get_num_threads(), pout)))
        goto fail;
    *out = maps; /* softmaxed in the recurrence's pass */
    maps = NULL;
fail:
    lp_tensor_free(ab);
    lp_tensor_free(mf);
    lp_tensor_free(cf);
    lp_tensor_free(mb);
    lp_tensor_free(cb);
    lp_tensor_free(maps);
    lp_tensor_free(hf->mt);
    lp_tensor_free(hf->c);
    lp_tensor_free(hb->mt);
    lp_tensor_free(hb->c);
    return st;
}

/* The fast path from the features: W_pre in sub-pixel form, then the above. */
static lp_status fused(const lpm_crnn_head *head, const lpm_params *reg, const lp_tensor *features,
                       int64_t step, lp_tensor **out) {
    const lp_tensor *w_pre = lpm_params_at(reg, head->w_pre.w), *b_pre = lpm_params_at(reg, head->w_pre.b);
    lp_tensor *pre = NULL;
    lp_status st = lpm_phase_conv_shuffled(features, &w_pre, &b_pre, 1, &pre);
    if (!st) st = lpm_crnn_head_forward_phases(head, reg, pre, step, out);
    lp_tensor_free(pre);
    return st;
}

/* The fast paths need CPU float32 features and weights and grad off. */
int lpm_crnn_head_fast(const lpm_crnn_head *head, const lpm_params *reg, const lp_tensor *features) {
    return lpm_heads_fast(features) && lp_tensor_dtype(lpm_params_at(reg, head->w_f.w)) == LP_DTYPE_F32;
}

lp_status lpm_crnn_head_forward(const lpm_crnn_head *head, const lpm_params *reg,
                                const lp_tensor *stacks, lp_tensor **out) {
    int64_t s[LP_MAX_DIMS];
    if (lp_tensor_shape(stacks, s) != 5 || s[1] != N_CONTEXT)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_crnn_head_forward",
                         "expected context stacks (N, 5, C, h, w)");
    lp_tensor *flat = NULL, *a = NULL, *b = NULL, *a5 = NULL, *b5 = NULL, *avg = NULL;
    const int64_t fshape[4] = {s[0] * N_CONTEXT, s[2], s[3], s[4]};
    lp_status st = lp_tensor_reshape(stacks, fshape, 4, &flat);
    if (!st && lpm_crnn_head_fast(head, reg, flat)) { /* the stacks end to end, 5 frames per output */
        st = fused(head, reg, flat, N_CONTEXT, out);
        lp_tensor_free(flat);
        return st;
    }
    if (!st) st = frame_terms(head, reg, flat, &a, &b);
    if (!st) {
        const int64_t ts[5] = {s[0], N_CONTEXT, lp_tensor_size(a, 1), lp_tensor_size(a, 2),
                               lp_tensor_size(a, 3)};
        st = lp_tensor_reshape(a, ts, 5, &a5);
        if (!st) st = lp_tensor_reshape(b, ts, 5, &b5);
    }
    if (!st) {
        const h_op hf = {reg, head->h_f, head->num_keypoints, NULL, NULL};
        const h_op hb = {reg, head->h_b, head->num_keypoints, NULL, NULL};
        st = both_directions(&hf, &hb, a5, b5, 0, &avg);
    }
    if (!st) st = nnu_spatial_softmax(avg, 1.0, out);
    lp_tensor_free(flat);
    lp_tensor_free(avg);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(a5);
    lp_tensor_free(b5);
    return st;
}

lp_status lpm_crnn_head_forward_window(const lpm_crnn_head *head, const lpm_params *reg,
                                       const lp_tensor *features, lp_tensor **out) {
    if (lp_tensor_dim(features) != 4 || lp_tensor_size(features, 0) < N_CONTEXT)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_crnn_head_forward_window",
                         "expected window features (T, C, h, w) with T >= 5");
    if (lpm_crnn_head_fast(head, reg, features)) return fused(head, reg, features, 1, out);
    h_op hf = {reg, head->h_f, head->num_keypoints, NULL, NULL};
    h_op hb = {reg, head->h_b, head->num_keypoints, NULL, NULL};
    lp_tensor *a = NULL, *b = NULL, *pa = NULL, *pb = NULL, *avg = NULL, *maps = NULL;
    lp_status st = frame_terms(head, reg, features, &a, &b);
    /* the recurrence runs on patch rows, where H is one matmul */
    if (!st) st = fold_h(&hf);
    if (!st) st = fold_h(&hb);
    if (!st) st = to_patches(a, &pa);
    if (!st) st = to_patches(b, &pb);
    if (!st) st = both_directions(&hf, &hb, pa, pb, 1, &avg);
    if (!st) st = from_patches(avg, lp_tensor_size(a, 2), lp_tensor_size(a, 3), &maps);
    if (!st) st = nnu_spatial_softmax(maps, 1.0, out);
    lp_tensor_free(hf.mt);
    lp_tensor_free(hf.c);
    lp_tensor_free(hb.mt);
    lp_tensor_free(hb.c);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(pa);
    lp_tensor_free(pb);
    lp_tensor_free(avg);
    lp_tensor_free(maps);
    return st;
}
