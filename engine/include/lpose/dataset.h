/* lpose/dataset.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_DATASET_H
#define LPOSE_DATASET_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Gaussian target heatmaps (docs/spec/lp-model.md §5). Keypoints are in resized-image
 * pixels (x, y); heatmaps are (Hh, Wh) = (height >> ds, width >> ds).
 * visibility per keypoint: 0 all-zero map, 1 uniform 1/(Hh*Wh), 2 Gaussian
 * (sigma heatmap px, sum 1); a vis-2 keypoint that is NaN or outside the
 * image (x < 0, y < 0, x >= width, y >= height) gets an all-zero map, and is
 * set to NaN in `keypoints` (in place, as LP does).
 * ------------------------------------------------------------------------ */

enum { LP_HEATMAP_ZERO = 0, LP_HEATMAP_UNIFORM = 1, LP_HEATMAP_GAUSSIAN = 2 };

/* keypoints: (n, K, 2) floats, modified in place; visibility: (n, K) bytes
 * or NULL, which means LP's synthesized flags: NaN keypoints get 1 when
 * uniform_heatmaps is nonzero, else 0, all others 2. out: n*K*Hh*Wh floats.
 * sigma <= 0 means LP's 1.25. */
lp_status lp_heatmaps_fill(float *keypoints, const uint8_t *visibility, int64_t n, int32_t n_keypoints,
                           int32_t height, int32_t width, int32_t downsample_factor, double sigma,
                           int32_t uniform_heatmaps, float *out);
/* keypoints: batch num_keypoints 2, f32 CPU contiguous (NaN-ed in place
 * when out of frame) -> heatmaps: batch num_keypoints heatmap_height
 * heatmap_width, f32 (sigma 1.25). New reference. */
lp_status lp_heatmaps_generate(lp_tensor *keypoints, int32_t height, int32_t width,
                               int32_t downsample_factor, int32_t uniform_heatmaps, lp_tensor **out);

/* ------------------------------------------------------------------------
 * Train / val / test split (docs/spec/lp-data-train.md §1.6): LP's seeded rule.
 * ------------------------------------------------------------------------ */

/* torch.randperm(n, generator=torch.Generator().manual_seed(seed)), i64.
 * New reference. */
lp_status lp_tensor_randperm(int64_t n, int64_t seed, lp_tensor **out);

/* sizes_out = {n_train, n_val, n_test}: floor(p*n) each, a leftover below
 * 5 goes to train (else it is the test set), n_val == 0 takes one frame
 * from train. test_prob = 1 - train_prob - val_prob. */
lp_status lp_split_sizes(int64_t n, double train_prob, double val_prob, int64_t sizes_out[3]);
/* perm_out (n i64): randperm(n, seed) cut as train | val | test;
 * sizes_out = {n_train, n_val, n_test} after train_frames subsampling
 * (LP's rule: 1 or >= n_train keeps all, (0, 1) a fraction, > 1 a count,
 * <= 0 is an error), which keeps the FIRST train indices; the dropped ones
 * stay in perm_out between train and val, so val starts at
 * perm_out[n_train_before] = perm_out[n - n_test - n_val]. */
lp_status lp_split_indices(int64_t n, double train_prob, double val_prob, int64_t seed,
                           double train_frames, int64_t *perm_out, int64_t sizes_out[3]);

/* ------------------------------------------------------------------------
 * Augmentation (docs/spec/lp-data-train.md §2) on uint8 RGB frames (HWC). One
 * parameter draw per call (per sample) is applied identically to every
 * frame of the stack and to the keypoints. Presets: "none"/"default"
 * (resize only), "dlc", "dlc-lr", "dlc-top-down", or a custom list
 * "Name[=p],..." of the same imgaug class names with LP's preset
 * arguments (p defaults to 0.5; Rot90 picks k in 0..3). The pipeline ends with a
 * bicubic resize (OpenCV INTER_CUBIC on uint8) to (out_h, out_w);
 * keypoints scale by the size ratio (no half-pixel shift). With hflip, a
 * flip with p = 0.5 follows: x' = out_w - x and keypoints k, kp_swap[k]
 * trade places (kp_swap may be NULL: no swap). Keypoints are NOT NaN-ed
 * here (lp_heatmaps_fill does it).
 * ------------------------------------------------------------------------ */

typedef struct lp_augment lp_augment;

lp_status lp_augment_open(const char *preset, lp_augment **out);
void lp_augment_free(lp_augment *aug); /* nothrow; NULL ignored */
/* Names of the ops of the pipeline, joined by ","; "" for none. nothrow */
const char *lp_augment_describe(const lp_augment *aug);

/* frames: n_frames * in_h * in_w * 3 bytes; out: n_frames * out_h * out_w * 3
 * bytes; keypoints: (n_keypoints, 2) floats in input pixels on entry, in
 * output pixels on return. Same seed, same result. */
lp_status lp_augment_apply(const lp_augment *aug, uint64_t seed, int32_t n_frames, const uint8_t *frames,
                           int32_t in_h, int32_t in_w, float *keypoints, int32_t n_keypoints,
                           int32_t hflip, const int32_t *kp_swap, int32_t out_h, int32_t out_w,
                           uint8_t *out);
/* Tensor form: images: frames height width 3 (u8) and keypoints:
 * num_keypoints 2 (f32) -> new references of frames out_h out_w 3 (u8) and
 * num_keypoints 2 (f32). */
lp_status lp_augment_images(const lp_augment *aug, uint64_t seed, const lp_tensor *images,
                            const lp_tensor *keypoints, int32_t hflip, int32_t out_h, int32_t out_w,
                            lp_tensor **images_out, lp_tensor **keypoints_out);
/* uint8 HWC image -> ImageNet-normalised CHW floats (x/255 - mean)/std. */
void lp_image_normalize_chw(const uint8_t *rgb, int32_t height, int32_t width, float *out); /* nothrow */

/* ------------------------------------------------------------------------
 * Labeled dataset (a label CSV + images) and a threaded batch loader.
 * ------------------------------------------------------------------------ */

typedef struct lp_dataset lp_dataset;

typedef struct lp_dataset_params {
    int32_t height;            /* image_resize_dims (model input) */
    int32_t width;
    int32_t downsample_factor; /* heatmaps are (height >> ds, width >> ds) */
    int32_t context;           /* 1: 5-frame stacks (B,5,3,H,W); 0: (B,3,H,W) */
    const char *imgaug;        /* preset name; NULL = "default" (copied) */
    int32_t hflip;             /* training.imgaug_hflip */
    int32_t uniform_heatmaps;  /* training.uniform_heatmaps_for_nan_keypoints */
    int64_t seed;              /* base seed of the augmentation draws */
    int64_t cache_bytes;       /* decoded frames kept in memory (shared by the
                                  context stacks that reuse them): 0 = 512 MiB,
                                  < 0 = no cache. Files are read once. */
} lp_dataset_params;

/* 256x256, ds 2, context 1, "default", no hflip, no uniform, seed 0. nothrow */
lp_dataset_params lp_dataset_default_params(void);

/* Read the CSV (a path that exists is used as is, else data_dir/csv) and
 * check every image exists. A "_left"/"_right" name without its partner is
 * an error when hflip is on. */
lp_status lp_dataset_open(const char *csv_path, const char *data_dir, const lp_dataset_params *params,
                          lp_dataset **out);
void lp_dataset_free(lp_dataset *ds); /* nothrow; NULL ignored */
int64_t lp_dataset_n_frames(const lp_dataset *ds);    /* nothrow; -1 for NULL */
int32_t lp_dataset_n_keypoints(const lp_dataset *ds); /* nothrow; -1 for NULL */
const lp_labels *lp_dataset_labels(const lp_dataset *ds); /* borrowed; nothrow */
lp_status lp_dataset_get_params(const lp_dataset *ds, lp_dataset_params *out); /* imgaug borrowed */

/* One example (row `index`): images (5,3,H,W) or (3,H,W), keypoints (K,2)
 * in resized pixels (NaN missing or out of frame), heatmaps (K,h,w).
 * augment nonzero applies the dataset's pipeline (and hflip) with the draw
 * `seed`; zero is resize only. New references. */
lp_status lp_dataset_get(const lp_dataset *ds, int64_t index, int32_t augment, uint64_t seed,
                         lp_tensor **images, lp_tensor **keypoints, lp_tensor **heatmaps);

typedef struct lp_loader lp_loader;

typedef struct lp_loader_params {
    int64_t batch_size;
    int32_t shuffle;   /* reshuffle every epoch (seeded) */
    int32_t augment;   /* 1: dataset pipeline (train); 0: resize only (val/test) */
    int32_t n_workers; /* threads; <= 0 means 2 */
    int32_t prefetch;  /* batches queued ahead; <= 0 means 2 * n_workers */
    int32_t drop_last;
    int64_t seed;      /* shuffle order and augmentation draws */
    /* Data-parallel sharding: shard_count ranks share each epoch's order
     * (same seed everywhere); global batch b is the next shard_count *
     * batch_size positions and shard shard_index takes its contiguous part,
     * so the ranks' batches together are one process's batch of that size.
     * A short last batch is split evenly; a shard left empty repeats one
     * sample (every rank must take the step). Augmentation draws depend on
     * the position, not the shard: any sharding sees the same samples. */
    int32_t shard_index; /* 0 .. shard_count-1 */
    int32_t shard_count; /* <= 1: no sharding */
} lp_loader_params;

/* batch 16, shuffle, augment, 2 workers, prefetch 4, keep last, seed 0, no sharding. nothrow */
lp_loader_params lp_loader_default_params(void);

/* A loader over rows indices[0..n-1] of ds (copied); ds must outlive it.
 * Workers start at once. */
lp_status lp_loader_open(lp_dataset *ds, const int64_t *indices, int64_t n, const lp_loader_params *params,
                         lp_loader **out);
/* The next batch of the epoch: images (B,5,3,H,W) or (B,3,H,W) f32,
 * keypoints (B,K,2) f32, heatmaps (B,K,h,w) f32, indices (B,) i64 (rows),
 * bbox (B,4) f32 = LP's default x, y, h, w = 0, 0, original height, original
 * width (model pixels -> frame pixels: x * w / W + x0, docs/spec/lp-data-train.md §1.5).
 * LP_STATUS_EOF ends an epoch (outputs NULL); the next call starts the
 * next one. An error in a worker (unreadable image...) is returned by the
 * call that reaches its batch, with the worker's message. New references. */
lp_status lp_loader_next(lp_loader *loader, lp_tensor **images, lp_tensor **keypoints, lp_tensor **heatmaps,
                         lp_tensor **indices, lp_tensor **bbox);
int64_t lp_loader_n_batches(const lp_loader *loader); /* per epoch; nothrow */
int64_t lp_loader_epoch(const lp_loader *loader);     /* 0-based; nothrow */
void lp_loader_free(lp_loader *loader);               /* joins the workers; nothrow */

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_DATASET_H */
