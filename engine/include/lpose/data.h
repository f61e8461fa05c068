/* lpose/data.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_DATA_H
#define LPOSE_DATA_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Labeled data: Lightning Pose / DLC label CSVs (docs/spec/lp-data-train.md §1.1).
 * Header rows: "scorer,...", "bodyparts,kp0,kp0,kp1,kp1,...",
 * "coords,x,y,x,y,..."; then one row per image: path (relative to the data
 * dir), then x,y per keypoint in original pixels. Empty cells and "NaN"
 * are missing keypoints (NaN). LP's optional form "coords,x,y,visible,..."
 * (for every keypoint) adds a flag per keypoint: 0, 1 or 2.
 * ------------------------------------------------------------------------ */

typedef struct lp_labels lp_labels;

/* Parse `csv_path`. When `data_dir` is non-NULL and non-empty, every image
 * path is checked to exist as data_dir/path (LP joins them the same way);
 * NULL or "" skips the check. Errors name the file, line and column. */
lp_status lp_labels_read(const char *csv_path, const char *data_dir, lp_labels **out);
void lp_labels_free(lp_labels *labels); /* nothrow; NULL ignored */

/* Accessors: nothrow; -1 / NULL for a NULL handle or an index out of range. */
int64_t lp_labels_n_frames(const lp_labels *labels);
int32_t lp_labels_n_keypoints(const lp_labels *labels);
const char *lp_labels_keypoint_name(const lp_labels *labels, int32_t idx_keypoint); /* borrowed */
const char *lp_labels_image_path(const lp_labels *labels, int64_t idx_frame);      /* borrowed, as in the CSV */
const char *lp_labels_scorer(const lp_labels *labels);                            /* borrowed */
/* Borrowed (n_frames, n_keypoints, 2) row-major floats, NaN = missing. */
const float *lp_labels_keypoints_data(const lp_labels *labels);

/* keypoints: n_frames num_keypoints 2 (x, y), f32 CPU, NaN = missing.
 * New reference. */
lp_status lp_labels_keypoints(const lp_labels *labels, lp_tensor **out);
/* 1 when the CSV has the `visible` coords, else 0. nothrow */
int32_t lp_labels_has_visibility(const lp_labels *labels);
/* visibility: n_frames num_keypoints, i64 flags from the CSV (LP: 0 zero
 * heatmap, 1 uniform, 2 labeled); LP_STATUS_BAD_ARG when the CSV has none.
 * New reference. */
lp_status lp_labels_visibility(const lp_labels *labels, lp_tensor **out);

/* ------------------------------------------------------------------------
 * Images (PNG, JPEG, BMP, TIFF; gray or colour) decoded with FFmpeg.
 * size_out receives the ORIGINAL size {height, width}; keypoints scale as
 * x * width / orig_width, y * height / orig_height (no half-pixel shift,
 * as LP/imgaug).
 * ------------------------------------------------------------------------ */

/* The image as uint8 RGB (height, width, 3) at native size (gray is
 * replicated to 3 channels). New reference. */
lp_status lp_image_read_rgb(const char *path, lp_tensor **out);
/* The same into a caller buffer of capacity bytes; size_out = {h, w}.
 * Returns LP_STATUS_BAD_ARG (naming the needed size) if it does not fit;
 * pass capacity 0 and buf NULL to only query the size. */
lp_status lp_image_read_rgb_into(const char *path, int64_t capacity, uint8_t *buf,
                                 int64_t size_out[2]);
/* image: RGB height width, f32: decoded, resized to height x width with
 * bicubic interpolation (height or width <= 0: native size), /255 and
 * ImageNet-normalised (mean 0.485,0.456,0.406, std 0.229,0.224,0.225).
 * size_out (may be NULL) gets the original {height, width}. New reference. */
lp_status lp_image_load(const char *path, int32_t height, int32_t width, int64_t size_out[2],
                        lp_tensor **out);
/* The same into a caller buffer of 3*height*width floats (height, width > 0). */
lp_status lp_image_load_into(const char *path, int32_t height, int32_t width,
                             int64_t size_out[2], float *out);

/* ------------------------------------------------------------------------
 * Context frames of a labeled image (docs/spec/lp-data-train.md §1.3): the first
 * digit run of the file stem is the frame index n; frames n-2..n+2 keep
 * its zero-padding width, negative indices clamp to 0, and every
 * occurrence of the digit run in the stem is replaced.
 * ------------------------------------------------------------------------ */

enum { LP_CONTEXT_FRAMES = 5 };

/* The path of context frame `offset` (-2..2) of `path` into out (capacity
 * bytes, NUL-terminated). With `fallback` nonzero a path that does not
 * exist is replaced by `path` itself (LP's loader does this). */
lp_status lp_context_path(const char *path, int32_t offset, int32_t fallback, int64_t capacity,
                          char *out);
/* images: context RGB height width = (5, 3, H, W) f32, frames n-2..n+2 with
 * missing neighbours replaced by the centre, each as lp_image_load.
 * height/width <= 0 keep the native size (all 5 must then agree).
 * size_out (may be NULL) gets the centre frame's original {h, w}. */
lp_status lp_context_load_stack(const char *path, int32_t height, int32_t width,
                                int64_t size_out[2], lp_tensor **out);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_DATA_H */
