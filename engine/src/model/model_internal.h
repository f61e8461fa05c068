/* model_internal.h: the model's parts (internal to engine/src/model/model_*.c).
 * Layers refer to their tensors by index into the parameter registry, so
 * moving the model to a device or loading weights only touches the
 * registry. */
#ifndef LPOSE_MODEL_INTERNAL_H
#define LPOSE_MODEL_INTERNAL_H

#include "lpose.h"
#include "tensor/nn_util.h"

/* ---------------------------------------------------------------- registry
 * model_params.c: named parameters and buffers, PyTorch names, owned here. */
typedef struct lpm_entry {
    char *name;
    lp_tensor *t;
    int32_t is_param;
} lpm_entry;

typedef struct lpm_fold_cache lpm_fold_cache;

typedef struct lpm_params {
    lpm_entry *v;
    int32_t n, cap;
    int32_t init; /* draw random init values (0 when the weights will be loaded) */
    lp_dist *sync_bn; /* non-NULL: batch norm in training mode uses this group's statistics */
    uint64_t generation;  /* bumped whenever entries are replaced (lpm_params_to) */
    int32_t no_fold;      /* 1: inference keeps batch norm separate (lp_model_set_fold_batch_norm) */
    lpm_fold_cache *fold; /* model_fold.c; NULL until the first folded inference */
} lpm_params;

/* Add a zero tensor (f32, CPU) called printf(fmt, ...); *out_id = its index. */
lp_status lpm_params_add(lpm_params *reg, int32_t is_param, const int64_t *shape, int32_t ndim,
                         int32_t *out_id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Borrowed tensor of entry `id` (NULL for id < 0). */
lp_tensor *lpm_params_at(const lpm_params *reg, int32_t id);
int32_t lpm_params_find(const lpm_params *reg, const char *name);
/* The sum of the in-place version counters of entries ids[0..n-1] (ids NULL:
 * every entry; negative ids are skipped). With reg->generation it tells a
 * derived cache (folded batch norms, the int8 backbone) that a tensor changed. */
int64_t lpm_params_versions(const lpm_params *reg, const int32_t *ids, int32_t n);
/* Make every parameter a leaf that requires grad. */
lp_status lpm_params_require_grad(lpm_params *reg);
/* Move every tensor to `device` (parameters stay leaves requiring grad). */
lp_status lpm_params_to(lpm_params *reg, lp_device device);
void lpm_params_clear(lpm_params *reg);

/* A convolution (bias id -1 when absent) and a batch norm. */
typedef struct lpm_conv {
    int32_t w, b;
} lpm_conv;
typedef struct lpm_bn {
    int32_t w, b, mean, var, nbt;
} lpm_bn;

/* wshape is the weight's shape (Conv2d: out, in/groups, k, k; ConvTranspose2d:
 * in, out/groups, k, k); bias_ch 0 means no bias. Zero-filled. */
lp_status lpm_add_conv(lpm_params *reg, const char *prefix, const int64_t wshape[4],
                       int64_t bias_ch, lpm_conv *out);
lp_status lpm_add_bn(lpm_params *reg, const char *prefix, int64_t ch, lpm_bn *out);
/* Inference (eval mode, grad off, reg->no_fold == 0): conv(x) with the batch
 * norm after it folded into its weight and bias (model_fold.c), cached and
 * refolded when any of the tensors changed. *out NULL with LP_STATUS_OK means
 * "not folded here": the caller runs conv and batch norm. */
lp_status lpm_conv_bn_folded(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn,
                             const lp_tensor *x, int64_t stride, int64_t pad, int32_t training,
                             lp_tensor **out);
void lpm_fold_cache_free(lpm_fold_cache *cache);
/* The folded weight (channels-last) and bias of lpm_conv_bn_folded,
 * borrowed from the cache (valid until the next fold of that conv). */
lp_status lpm_fold_weights(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn, const lp_tensor **w,
                           const lp_tensor **b);
/* 1 when lpm_conv_bn_folded folds (eval mode, grad off, folding on). */
int32_t lpm_fold_active(const lpm_params *reg, int32_t training);
/* x -> batch_norm(x) (+ num_batches_tracked += 1 when training). */
lp_status lpm_bn_forward(const lpm_params *reg, const lpm_bn *bn, const lp_tensor *x,
                         int32_t training, lp_tensor **out);

/* ---------------------------------------------------------------- ResNet
 * model_resnet.c: torchvision ResNet conv1..layer4 under prefix "backbone.". */
typedef struct lpm_block {
    lpm_conv conv[3];
    lpm_bn bn[3];
    int32_t n_convs; /* 2 basic, 3 bottleneck */
    int32_t stride;
    int32_t has_downsample;
    lpm_conv ds_conv;
    lpm_bn ds_bn;
} lpm_block;

typedef struct lpm_resnet {
    int32_t arch; /* lp_backbone */
    lpm_conv conv1;
    lpm_bn bn1;
    lpm_block *blocks;
    int32_t n_blocks;
    int32_t channels; /* C */
} lpm_resnet;

lp_status lpm_resnet_init(lpm_resnet *net, lpm_params *reg, int32_t arch);
lp_status lpm_resnet_forward(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *x,
                             int32_t training, lp_tensor **out);
/* A convolution (with its batch norm) as the forward runs it. */
typedef struct lpm_conv_site {
    const lpm_conv *c;
    const lpm_bn *bn;
    int64_t stride, pad;
} lpm_conv_site;
/* The eval forward, calling fn(ctx, site, t) on conv1's output (after its
 * relu), then per block on each conv's output (after its relu, when it has
 * one) and the downsample conv's, with the conv that made it, and on the
 * block's output with site NULL; an error from fn stops the forward. */
typedef lp_status (*lpm_observe)(void *ctx, const lpm_conv_site *site, const lp_tensor *t);
lp_status lpm_resnet_forward_observed(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *x,
                                      lpm_observe fn, void *ctx, lp_tensor **out);
void lpm_resnet_free(lpm_resnet *net);

/* ---------------------------------------------------------------- heads
 * model_heatmap_head.c: PixelShuffle(2) + n ConvTranspose2d, under
 * "head_sf.upsampling_layers.{1..n}". */
enum { LPM_MAX_DECONV = 3 };
typedef struct lpm_hm_head {
    lpm_conv deconv[LPM_MAX_DECONV];
    int32_t n_layers;
} lpm_hm_head;

lp_status lpm_hm_head_init(lpm_hm_head *head, lpm_params *reg, int64_t in_channels,
                           int64_t num_keypoints, int32_t downsample_factor);
/* features (N, C, h, w) -> softmaxed heatmaps (N, K, Hh, Wh). */
lp_status lpm_hm_head_forward(const lpm_hm_head *head, const lpm_params *reg,
                              const lp_tensor *features, lp_tensor **out);
/* Whether the inference fast path (phase channels between layers) takes
 * features; then lpm_hm_head_forward_phases continues from the first
 * layer's phase channels (N, 4K, h', w'), which a caller may have computed
 * together with another layer on the same input (lpm_phase_conv_shuffled). */
int lpm_hm_head_fast(const lpm_hm_head *head, const lpm_params *reg, const lp_tensor *features);
lp_status lpm_hm_head_forward_phases(const lpm_hm_head *head, const lpm_params *reg, const lp_tensor *phases,
                                     lp_tensor **out);

/* model_mhcrnn_head.c: UpsamplingCRNN (upsampling_factor 2) under "head_mf.". */
typedef struct lpm_crnn_head {
    lpm_conv w_pre, w_f, h_f[2], w_b, h_b[2];
    int64_t num_keypoints;
} lpm_crnn_head;

lp_status lpm_crnn_head_init(lpm_crnn_head *head, lpm_params *reg, int64_t in_channels,
                             int64_t num_keypoints);
/* stacks (N, 5, C, h, w) -> softmaxed heatmaps (N, K, Hh, Wh). */
lp_status lpm_crnn_head_forward(const lpm_crnn_head *head, const lpm_params *reg,
                                const lp_tensor *stacks, lp_tensor **out);
/* window features (T, C, h, w) -> heatmaps (T-4, K, Hh, Wh) for centre frames
 * 2..T-3. Each frame's W_pre, W_f and W_b terms are computed once, and H
 * runs folded into one 4x4 map per keypoint and 2x2 patch (equal to
 * lpm_crnn_head_forward's two grouped convolutions up to rounding). */
lp_status lpm_crnn_head_forward_window(const lpm_crnn_head *head, const lpm_params *reg,
                                       const lp_tensor *features, lp_tensor **out);
/* Whether the inference fast path takes features; then
 * lpm_crnn_head_forward_phases continues from W_pre's phase channels
 * (T, 4K, h', w') of T frames, output j's context starting at frame
 * j * step (1: a window, T - 4 outputs; 5: stacks end to end). */
int lpm_crnn_head_fast(const lpm_crnn_head *head, const lpm_params *reg, const lp_tensor *features);
lp_status lpm_crnn_head_forward_phases(const lpm_crnn_head *head, const lpm_params *reg, const lp_tensor *pre,
                                       int64_t step, lp_tensor **out);
/* model_crnn_recur.c: the recurrence of the MF head's inference fast paths
 * fused on raw CPU float32. ab: W_f and W_b's phase channels (T, 8K, h, w)
 * (lpm_deconv3_phases of both) of T frames; output j has frames j * step ..
 * j * step + 4 as its context: step 1 for a window (T-4 outputs), step 5
 * for context stacks laid end to end (T/5 outputs). mt_*: (K, 4, 4) and
 * c_*: (K, 4), the folded H; out: maps (n_out, K, 2h, 2w), (forward +
 * backward) / 2, n_out = (T - 5) / step + 1. T >= 5. softmax: then each map
 * through the head's spatial softmax, in place (else: before it). */
lp_status lpm_crnn_recur_window(const float *ab, int64_t T, int64_t step, int64_t K, int64_t h, int64_t w,
                                const float *mt_f, const float *c_f, const float *mt_b, const float *c_b,
                                int32_t softmax, int32_t n_threads, float *out);

/* model_deconv.c: ConvTranspose2d(3x3, s2, p1, op1) of the heads. Whether the
 * inference fast paths apply to x: grad off, CPU float32, and
 * LPOSE_HEADS_REFERENCE unset. */
int lpm_heads_fast(const lp_tensor *x);
/* x (N, Cin, h, w), w (Cin, Cout, 3, 3), b (Cout) -> (N, Cout, 2h, 2w): the
 * sub-pixel form when lpm_heads_fast(x), else the transposed convolution. */
lp_status lpm_deconv3(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b, lp_tensor **out);
/* n layers on the same x, CPU float32 only -> (N, 4 sum(Cout_i), h, w): the
 * phase channels, 4 co + 2 ry + rx holding output pixel (2m + ry, 2l + rx). */
lp_status lpm_deconv3_phases(const lp_tensor *x, const lp_tensor *const *w, const lp_tensor *const *b,
                             int n, lp_tensor **out);
/* The same on PixelShuffle(2) of x (N, 4 Cin, h/2, w/2): the layer after
 * a layer's phase channels, or the heads' first layer on the backbone's
 * features (shuffled and padded in one copy, lpm_shuffle2). */
lp_status lpm_phase_conv_shuffled(const lp_tensor *x, const lp_tensor *const *w, const lp_tensor *const *b, int n,
                                  lp_tensor **out);
/* PixelShuffle(2) of CPU float32 x (N, 4C, h, w) -> (N, C, 2h + pad, 2w + pad),
 * with pad (0 or 1) zero rows below and columns right: the heads' fast
 * paths go from phase channels to maps, or to the next layer's padded
 * input, in one copy (libtorch's pixel_shuffle is a 6-d permute, then a pad
 * copies again). */
lp_status lpm_shuffle2(const lp_tensor *x, int32_t pad, lp_tensor **out);
/* phase_conv.c: the sub-pixel layers' direct kernel on raw CPU float32: xp
 * (N, cin, h + 1, w + 1) padded input, pw (4 cout, cin, 2, 2) and pb
 * (4 cout) the 2x2 form's weights and bias, y (N, 4 cout, h, w) out. Only
 * where lpm_phase_conv_direct_width(cin, h, w) is nonzero: the floats per
 * vector it would use, 0 where the layer stays with oneDNN. */
int32_t lpm_phase_conv_direct_width(int64_t cin, int64_t h, int64_t w);
lp_status lpm_phase_conv_direct(const float *xp, int64_t N, int64_t cin, int64_t h, int64_t w, const float *pw,
                                const float *pb, int64_t cout, float *y);

/* ---------------------------------------------------------------- int8
 * model_int8.c: the backbone quantized for inference. */
typedef struct lpm_int8 lpm_int8;
/* Calibrate on images (the f32 eval forward's activation ranges) and
 * prepack the folded convolutions. Needs grad off, CPU. */
lp_status lpm_int8_new(const lpm_resnet *net, const lpm_params *reg, const lp_tensor *images, lpm_int8 **out);
/* images -> f32 features (N, C, H/32, W/32); refuses when the weights
 * changed since lpm_int8_new. */
lp_status lpm_int8_forward(const lpm_int8 *q, const lpm_resnet *net, const lpm_params *reg, const lp_tensor *images,
                           lp_tensor **out);
void lpm_int8_free(lpm_int8 *q);

/* ---------------------------------------------------------------- tracker */
struct lp_model {
    lp_model_params cfg;
    lpm_params reg;
    lpm_resnet backbone;
    lpm_hm_head head_sf;
    lpm_crnn_head head_mf;
    int32_t training;
    lp_device device;
    lpm_int8 *int8; /* lp_model_quantize_int8; NULL: f32 */
    char *report_keys[3]; /* missing, unexpected, skipped (model_weights.c) */
};

/* Check the config; fn names the caller in the message. */
lp_status lpm_check_params(const lp_model_params *p, const char *fn);
/* Decode SF (and MF, may be NULL) heatmaps, merge the TCN's heads by
 * confidence, and scale model-input pixels by (sx, sy) (not when either is
 * <= 0): the end of lp_model_predict, shared with streaming prediction. */
lp_status lpm_decode_heads(const lp_tensor *sf, const lp_tensor *mf, int32_t ds, double sx, double sy,
                           lp_tensor **out_kp, lp_tensor **out_conf);
/* decode_sparse.c: LP's subpixel maxima of M maps x (M, h, w), float32,
 * with ah (h << ds, h) = 1000 x the chain matrix and aw (w << ds, w) the
 * chain matrix (model_decode.c), computing the upsampled map only where its
 * softmax weight is visible in float32. Needs ds >= 1 and w % 16 == 0.
 * Writes keypoints out_kp (M, 2) (LP's offset subtracted) and out_conf (M). */
lp_status lpm_decode_sparse(const float *x, int64_t M, int64_t h, int64_t w, int32_t ds,
                            const float *ah, const float *aw, int32_t n_threads, float *out_kp,
                            float *out_conf);
/* The floats per vector lpm_decode_sparse's kernels use for maps w wide
 * here: 16 (AVX-512), 8, or 0 where it does not take them. */
int32_t lpm_decode_sparse_width(int64_t w);
/* simd_width.c: whether the CPU float32 kernels (decoder, recurrence) may
 * run their 16-float AVX-512 variants: built for them (GCC, x86-64), the CPU
 * has x86-64-v4, and LPOSE_SIMD_WIDTH is not 8 (which forces the 8-float
 * variants, for tests and benchmarks). */
int lpm_simd_wide(void);
/* Build a model; init_weights == 0 leaves zeros (BN weight and running_var
 * ones) and draws no random numbers (for loading). */
lp_status lpm_model_create(const lp_model_params *p, int32_t init_weights, lp_model **out);
/* Config as JSON. */
int lpm_model_json(const lp_model_params *p, char *buf, size_t size);
lp_status lpm_model_parse_json(const char *json, lp_model_params *out);

#endif
