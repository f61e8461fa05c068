/* lpose/model.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_MODEL_H
#define LPOSE_MODEL_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Models: Lightning Pose's heatmap trackers (docs/reference/lua/models.md).
 * A truncated torchvision ResNet (conv1..layer4) feeds a single-frame
 * heatmap head (model_type "heatmap") or, for the Temporal Context Network
 * (model_type "heatmap_mhcrnn"), that head on the centre frame plus the
 * bidirectional conv-RNN head over frames t-2..t+2. Every parameter and
 * buffer has a PyTorch-style name ("backbone.layer1.0.conv1.weight",
 * "head_sf.upsampling_layers.1.weight", "head_mf.W_pre.weight").
 * Shapes use LP's vocabulary: images (batch, 3, image_height, image_width),
 * heatmaps (batch, num_keypoints, heatmap_height, heatmap_width).
 * ------------------------------------------------------------------------ */

typedef struct lp_model lp_model;

typedef enum lp_model_type {
    LP_MODEL_TYPE_HEATMAP = 0,       /* single-frame baseline */
    LP_MODEL_TYPE_HEATMAP_MHCRNN = 1 /* Temporal Context Network */
} lp_model_type;

typedef enum lp_backbone {
    LP_BACKBONE_RESNET18 = 0,
    LP_BACKBONE_RESNET34 = 1,
    LP_BACKBONE_RESNET50 = 2,
    LP_BACKBONE_RESNET101 = 3,
    LP_BACKBONE_RESNET152 = 4
} lp_backbone;

typedef struct lp_model_params {
    int32_t model_type;        /* lp_model_type */
    int32_t backbone;          /* lp_backbone (architecture only) */
    int32_t num_keypoints;     /* K */
    int32_t downsample_factor; /* 2 (MHCRNN: only 2; heatmap: 1, 2 or 3) */
    int64_t image_height;      /* model input, multiple of 32 (MHCRNN: of 32 too) */
    int64_t image_width;
    int64_t seed;              /* >= 0: lp_manual_seed(seed) before init (LP's
                                  rng_seed_model_pt); < 0: global generator */
} lp_model_params;

/* resnet50, heatmap_mhcrnn, K = 17, ds = 2, 256x256, seed 0. nothrow */
lp_model_params lp_model_default_params(void);
/* "heatmap" / "heatmap_mhcrnn"; "resnet18".. ; NULL when out of range. nothrow */
const char *lp_model_type_name(int32_t model_type);
const char *lp_backbone_name(int32_t backbone);
/* Backbone output channels C (512 or 2048), 0 when out of range. nothrow */
int32_t lp_backbone_channels(int32_t backbone);

/* A new model on the CPU in training mode, initialised as LP does:
 * torchvision's ResNet init, xavier_uniform gain 0.01 for the SF head and
 * 1.0 for the MF head, zero biases. */
lp_status lp_model_init(const lp_model_params *params, lp_model **out);
void lp_model_free(lp_model *model); /* nothrow; NULL ignored */
lp_status lp_model_get_params(const lp_model *model, lp_model_params *out);

/* Named tensors (parameters then buffers, in PyTorch's state_dict order). */
int32_t lp_model_n_tensors(const lp_model *model);                 /* nothrow; -1 for NULL */
const char *lp_model_tensor_name(const lp_model *model, int32_t i); /* borrowed; nothrow */
/* 1 for a trainable parameter, 0 for a buffer (running stats). nothrow */
int32_t lp_model_tensor_is_param(const lp_model *model, int32_t i);
/* Index of `name`, or -1. nothrow */
int32_t lp_model_find_tensor(const lp_model *model, const char *name);
/* New reference to the i-th tensor (the live parameter: autograd leaf). */
lp_status lp_model_tensor(const lp_model *model, int32_t i, lp_tensor **out);
/* Number of parameter elements whose names start with `prefix` (NULL or
 * "": all). Buffers are not counted. */
lp_status lp_model_count_parameters(const lp_model *model, const char *prefix, int64_t *out);

/* BatchNorm mode of the backbone: training != 0 uses batch statistics and
 * updates running stats (and num_batches_tracked); 0 uses running stats. */
lp_status lp_model_set_training(lp_model *model, int32_t training);
int32_t lp_model_is_training(const lp_model *model); /* nothrow */
/* Inference (eval mode with grad off) folds each batch norm into the
 * convolution before it (on by default; docs/design/decisions.md): the same
 * function within float rounding, one pass less over the activations. The
 * folded weights are cached and refolded whenever a parameter or buffer
 * changes. on = 0 runs conv and batch norm separately (benchmarks, checks). */
lp_status lp_model_set_fold_batch_norm(lp_model *model, int32_t on);
/* int8 inference of the backbone (CPU, eval mode): calibrate on images
 * (N, 3, H, W), normalized as the model's input, and from then on run the
 * backbone in int8 (docs/reference/int8.md) whenever grad is off and the
 * model is in eval mode; the heads stay f32. Calibrating again replaces
 * it. If the weights change afterwards (training, loading, lp_model_to),
 * the forwards fail until it is calibrated again or dropped. */
lp_status lp_model_quantize_int8(lp_model *model, const lp_tensor *images);
void lp_model_drop_int8(lp_model *model);          /* back to f32; nothrow */
int32_t lp_model_is_int8(const lp_model *model); /* nothrow */
/* Move every parameter and buffer (parameters stay leaves requiring grad). */
lp_status lp_model_to(lp_model *model, lp_device device);
lp_device lp_model_device(const lp_model *model); /* nothrow */

/* Labeled forward. heatmap: images (batch, 3, H, W); heatmap_mhcrnn:
 * (batch, 5, 3, H, W) with frames t-2..t+2, one backbone call over 5*batch
 * frames. out_sf: single-frame heatmaps (batch, K, Hh, Wh), softmaxed;
 * out_mf: multi-frame heatmaps, same shape (NULL out ok; set to NULL for the
 * heatmap model). Images must be f32 on the model's device. */
lp_status lp_model_forward(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                           lp_tensor **out_mf);
/* Backbone only: images (N, 3, H, W) -> features (N, C, H/32, W/32). */
lp_status lp_model_forward_backbone(lp_model *model, const lp_tensor *images,
                                    lp_tensor **out);
/* Heads only. heatmap: features (N, C, h, w); heatmap_mhcrnn: context
 * stacks (N, 5, C, h, w), or the features of a contiguous window (T, C, h, w),
 * T >= 5, giving T-4 outputs (centre frames 2..T-3) with every frame's
 * per-frame head terms computed once. Outputs as lp_model_forward. */
lp_status lp_model_forward_heads(lp_model *model, const lp_tensor *features, lp_tensor **out_sf,
                                 lp_tensor **out_mf);
/* Contiguous window features (T, C, h, w), T >= 5 -> stacks (T-4, 5, C, h, w);
 * row j holds frames j..j+4 (centre j+2). Each frame's features are shared. */
lp_status lp_model_context_stack(const lp_tensor *features, lp_tensor **out);
/* Window forward: images (T, 3, H, W) through the backbone once. MHCRNN gives
 * T-4 outputs for centre frames 2..T-3; the heatmap model gives T outputs. */
lp_status lp_model_forward_window(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                                  lp_tensor **out_mf);

/* ------------------------------------------------------------------------
 * Decoding (LP's run_subpixelmaxima): downsample_factor times (bicubic x2,
 * align_corners=False, then the zero-padded 5x5 binomial blur), softmax at
 * temperature 1000, soft-argmax, confidence = 5x5 window sum at the
 * truncated prediction, then the offset 2^(ds-1) - 0.5 is subtracted.
 * heatmaps (N, K, Hh, Wh) -> keypoints (N, K, 2) as (x, y) in model-input
 * pixels, confidences (N, K). Runs on the heatmaps' device, without grad.
 * ------------------------------------------------------------------------ */
lp_status lp_heatmaps_decode(const lp_tensor *heatmaps, int32_t downsample_factor,
                             lp_tensor **out_keypoints, lp_tensor **out_confidences);
/* TCN merge: per (frame, keypoint) take MF where conf_mf > conf_sf, else SF. */
lp_status lp_keypoints_choose(const lp_tensor *keypoints_sf, const lp_tensor *confidences_sf,
                              const lp_tensor *keypoints_mf, const lp_tensor *confidences_mf,
                              lp_tensor **out_keypoints, lp_tensor **out_confidences);
/* Inference: forward in eval mode (batch norm on its running statistics,
 * which it leaves untouched) and without grad, decode both heads, merge,
 * then scale x by frame_width / W and y by frame_height / H, where H x W is
 * the input images' size (<= 0: keep model-input pixels). The model's
 * training mode is restored before returning. images as lp_model_forward,
 * or (T, 3, H, W) windows when `window` != 0. */
lp_status lp_model_predict(lp_model *model, const lp_tensor *images, int32_t window,
                           double frame_height, double frame_width, lp_tensor **out_keypoints,
                           lp_tensor **out_confidences);

/* ------------------------------------------------------------------------
 * Weights. lp_pickle_load reads a zip-format torch.save file (state dicts,
 * Lightning checkpoints, MMPose checkpoints) into a flat list whose names
 * join dict keys and list indices with '/', e.g.
 * "state_dict/backbone.0.weight". Non-tensor values are skipped; their
 * names, one per line, are the list's meta. A checkpoint is data: only the
 * opcodes and globals of docs/spec/checkpoint-files.md are read, anything
 * else (e.g. the global os.system) is LP_STATUS_UNSUPPORTED naming it, and
 * sizes are checked before any allocation. Legacy (pre-1.6, non-zip) files
 * are rejected with LP_STATUS_UNSUPPORTED.
 * ------------------------------------------------------------------------ */
lp_status lp_pickle_load(const char *path, lp_tensor_list **out);

typedef enum lp_weights_format {
    LP_WEIGHTS_LPOSE = 0,     /* our own names ("backbone.conv1.weight") */
    LP_WEIGHTS_BACKBONE = 1,  /* torchvision ResNet or MMPose state dict, backbone only */
    LP_WEIGHTS_LIGHTNING = 2  /* Lightning Pose .ckpt ("state_dict/backbone.0.weight") */
} lp_weights_format;

typedef struct lp_load_report {
    int32_t n_loaded;     /* model tensors written */
    int32_t n_missing;    /* needed model tensors the file lacked (see below) */
    int32_t n_unexpected; /* file tensors with no place in the model */
    int32_t n_skipped;    /* non-tensor values among the weights (lp_pickle_load's meta) */
} lp_load_report;

/* Copy matching tensors into the model (dtype/device converted). The model
 * needs every registry tensor (BACKBONE: every backbone tensor) except BN's
 * num_batches_tracked. With strict != 0, a missing needed tensor is
 * LP_STATUS_BAD_ARG naming how many and the first ones; a shape mismatch
 * always is, naming the key. Either way nothing is changed. */
lp_status lp_model_load_weights(lp_model *model, const lp_tensor_list *weights,
                                lp_weights_format format, int32_t strict, lp_load_report *out);
/* lp_pickle_load(path) then lp_model_load_weights. */
lp_status lp_model_load_weights_file(lp_model *model, const char *path,
                                     lp_weights_format format, int32_t strict, lp_load_report *out);
/* Names from the last load, '\n'-separated; which: 0 missing, 1 unexpected,
 * 2 skipped (non-tensor values). Borrowed, valid until the next load on this
 * model; "" if none. nothrow */
const char *lp_model_load_report_keys(const lp_model *model, int32_t which);

/* All parameters and buffers plus the config as JSON meta, in one .lpt file
 * (atomic write). lp_model_load rebuilds the model on the CPU. */
lp_status lp_model_state(const lp_model *model, lp_tensor_list **out);
lp_status lp_model_save(const lp_model *model, const char *path);
lp_status lp_model_load(const char *path, lp_model **out);
/* The config as JSON, as stored in the meta; copied into out[0..size-1]
 * (LP_STATUS_BAD_ARG when it does not fit; always NUL-terminated). */
lp_status lp_model_config_json(const lp_model *model, int64_t size, char *out);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_MODEL_H */
