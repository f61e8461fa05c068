/* predict_internal.h: helpers shared by the predict_*.c files (internal). */
#ifndef LP_PREDICT_INTERNAL_H
#define LP_PREDICT_INTERNAL_H

#include <stdio.h>
#include <time.h>

#include "core/error.h" /* lp_errorf */
#include "lpose.h"

/* The decoder threads for params->n_decode_threads (params may be NULL)
 * and a model on `device`: automatic is one thread on the CPU, where the
 * decoder competes with the model for the cores (frame threading cost ~20 %
 * more CPU time per frame here, and 1280x1024 videos predicted as fast
 * with one thread), and FFmpeg's choice on a GPU, where the decoder may be
 * the bottleneck. */
int32_t lp_pred_decode_threads(const lp_predict_params *params, lp_device device);

static inline double lp_pred_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Line-by-line reader of our CSVs (predict_csv.c), for streaming consumers. */
typedef struct lp_csv_rows lp_csv_rows;
/* Opens and parses the header; n_values per row: K*3 or K. */
lp_status lp_csv_rows_open(const char *path, lp_csv_rows **out);
/* Next row: values (n_values doubles, NaN for empty) into out_values;
 * LP_STATUS_EOF at the end. */
lp_status lp_csv_rows_next(lp_csv_rows *rows, double *out_values);
int32_t lp_csv_rows_n_keypoints(const lp_csv_rows *rows);
int32_t lp_csv_rows_kind(const lp_csv_rows *rows);
/* The header's name of keypoint k ("" outside 0..K-1). */
const char *lp_csv_rows_name(const lp_csv_rows *rows, int32_t k);
void lp_csv_rows_free(lp_csv_rows *rows);

/* A predictions CSV writer with n_coords named values per keypoint (EKS's
 * nine) instead of x, y, likelihood; fn names the caller in errors. */
lp_status lp_csv_writer_open_coords(const char *path, const char *fn, int32_t kind,
                                    const char *scorer, int32_t n_keypoints,
                                    const char *const *names, int32_t n_coords,
                                    const char *const *coords, int32_t with_set,
                                    lp_csv_writer **out);
/* n_rows rows of doubles (row-major, n_keypoints * n_coords each), index
 * labels (NULL: the row numbers), formatted by up to 8 threads; no set
 * column. Polls the interrupt flag every few thousand rows. */
lp_status lp_csv_writer_write_rows_f64(lp_csv_writer *w, int64_t n_rows, const char *const *index,
                                       const double *values);

/* Background decode of windows (predict_prefetch.c). */
typedef struct lp_prefetch lp_prefetch;
/* Decodes frames [0, n_frames) of `video` in chunks: first `first` frames,
 * then `step` at a time, resized to height x width. The video is owned by
 * the prefetcher from now on. threaded == 0 decodes on the caller's thread. */
lp_status lp_prefetch_start(lp_video *video, int64_t first, int64_t step, int32_t height,
                            int32_t width, int32_t threaded, lp_prefetch **out);
/* Next chunk: *out_n frames as a borrowed (n, 3, h, w) f32 CPU tensor in
 * channels-last layout, valid until the next call (a view of it taken with
 * lp_tensor_ref or narrow stays valid, frames and all, for as long as it is
 * kept); *out_n == 0 at the end (LP_STATUS_EOF). */
lp_status lp_prefetch_next(lp_prefetch *pf, int64_t *out_start, int64_t *out_n,
                           const lp_tensor **out_window);
void lp_prefetch_free(lp_prefetch *pf);

/* A stream whose windows the caller decodes and feeds (predict_video.c: one
 * decode shared by every member of an ensemble). Before each
 * lp_predict_stream_next, feed the next window of the stream's schedule
 * (first `first` frames, then `step` at a time: lp_predict_stream_schedule),
 * (n, 3, height, width) f32 on any device, borrowed until that call; feed
 * NULL once the video has ended. */
lp_status lp_predict_stream_open_fed(lp_model *model, int64_t n_frames, double frame_height,
                                     double frame_width, double fps,
                                     const lp_predict_params *params, lp_predict_stream **out);
void lp_predict_stream_feed(lp_predict_stream *s, int64_t start, const lp_tensor *window);
void lp_predict_stream_schedule(const lp_predict_stream *s, int64_t *first, int64_t *step,
                                int64_t *height, int64_t *width);

#endif
