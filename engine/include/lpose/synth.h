/* lpose/synth.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_SYNTH_H
#define LPOSE_SYNTH_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * PNG writer (FFmpeg's png encoder). pixels: height rows of `stride` bytes
 * (>= width*channels); channels 3 = RGB24, 1 = GRAY8. Writes
 * PATH.tmp-<pid> and renames it to PATH, so PATH is never half written.
 * Same pixels => same bytes.
 * ------------------------------------------------------------------------ */

lp_status lp_image_write_png(const char *path, const uint8_t *pixels, int32_t width,
                             int32_t height, int32_t channels, int64_t stride);

/* ------------------------------------------------------------------------
 * Synthetic Lightning Pose project (docs/guides/synthetic-data.md): a chain
 * of keypoints (an "animal" of capsules with fixed segment lengths) moving
 * smoothly over a textured, drifting background with pixel noise; now and
 * then an opaque textured blob passes over it for 3-8 frames. Fully
 * deterministic: same params => same bytes (its own PRNG, splitmix64).
 *
 * lp_synth_generate writes into out_dir (created with its parents):
 *   videos/synth_NN.mp4              every video: H.264 (libx264 crf 18, else
 *                                    mpeg4), yuv420p, single-threaded and
 *                                    bit-exact so the bytes repeat
 *   labeled-data/synth_NN/imgDDDD.png labeled frames and their +-context
 *                                    neighbours, decoded from the written
 *                                    video (what an LP user extracts)
 *   CollectedData.csv                DLC 3-row header, scorer lpose_synth
 *   videos_gt/synth_NN.csv           every frame, LP prediction layout
 *                                    (x, y, likelihood = 1)
 *   videos_gt/synth_NN_occluded.csv  per frame and keypoint 0/1 flags
 *   metadata.json, README.txt        what was generated, and the split
 * The first n_videos - n_test_videos videos get labeled frames; the last
 * n_test_videos are held out (no labeled frames) for testing prediction.
 * ------------------------------------------------------------------------ */

typedef struct lp_synth_params {
    int32_t n_videos;            /* default 4 */
    int32_t n_test_videos;       /* held-out videos without labels (the last ones), default 1 */
    int32_t n_frames;            /* frames per video, default 300 */
    int32_t n_keypoints;         /* chain length 2..16, default 6 */
    int32_t width;               /* even, >= 32, default 128 */
    int32_t height;              /* even, >= 32, default 128 */
    double fps;                  /* default 30 (motion frequencies are in Hz) */
    int32_t n_labeled_per_video; /* default 20, spread over frames [2, n_frames-3] */
    int32_t context;             /* neighbours written on each side of a labeled frame, default 2 */
    int32_t index_width;         /* digits of imgNNNN, default 4 */
    double occluder_rate;        /* mean occluder events per 100 frames, default 2.5; 0 = none */
    double noise_sigma;          /* pixel noise std in grey levels, default 4 */
    uint64_t seed;               /* default 0 */
} lp_synth_params;

lp_synth_params lp_synth_default_params(void); /* nothrow */

/* Check params; LP_STATUS_BAD_ARG names the bad field. */
lp_status lp_synth_check_params(const lp_synth_params *p);

/* The name of keypoint idx_keypoint of an n_keypoints chain into out
 * (capacity bytes): nose, head, neck, back, tail_base, tail_tip for 6,
 * otherwise nose, kp01, ..., kpNN, tail_tip. */
lp_status lp_synth_keypoint_name(int32_t n_keypoints, int32_t idx_keypoint, int64_t capacity,
                                 char *out);

/* Ground truth of video idx_video without rendering it: xy gets
 * (n_frames, n_keypoints, 2) floats in pixels (pixel centres at integer
 * coordinates, as the labels), occluded (may be NULL) gets
 * (n_frames, n_keypoints) bytes, 1 where an occluder hides the keypoint. */
lp_status lp_synth_keypoints(const lp_synth_params *p, int32_t idx_video, float *xy,
                             uint8_t *occluded);

/* Labeled frame indices of video idx_video (sorted, distinct) into out
 * (capacity entries); n_out gets their number (0 for held-out videos). */
lp_status lp_synth_labeled_frames(const lp_synth_params *p, int32_t idx_video, int64_t capacity,
                                  int64_t *out, int64_t *n_out);

/* Render frame idx_frame of video idx_video as RGB24 (height, width, 3)
 * into rgb (the frame before video encoding). */
lp_status lp_synth_render_frame(const lp_synth_params *p, int32_t idx_video, int64_t idx_frame,
                                uint8_t *rgb);

/* Write the whole project (layout above) into out_dir. */
lp_status lp_synth_generate(const lp_synth_params *p, const char *out_dir);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_SYNTH_H */
