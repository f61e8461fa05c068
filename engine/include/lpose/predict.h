/* lpose/predict.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_PREDICT_H
#define LPOSE_PREDICT_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Streaming video prediction (docs/spec/lp-model.md §3.6, docs/spec/lp-data-train.md §3.4-3.5).
 * A background thread decodes windows (resized to the model input and
 * ImageNet-normalised) into a bounded queue of 2 windows; the first window
 * has T = sequence_length frames, later ones T-4 new frames (heatmap_mhcrnn)
 * or T (heatmap). The backbone runs exactly once per video frame: the TCN
 * keeps the features of the last 4 frames and carries them into the next
 * window, then runs the heads on the window's 5-frame context stacks (the
 * MF head's per-frame terms once per frame of the window), decodes both
 * heads, merges them (lp_keypoints_choose) and scales to frame pixels.
 * Edge frames (TCN):
 *  - LP_PREDICT_EDGE_LP: frame i gets the prediction of clamp(i, 2, N-3),
 *    Lightning Pose's rule without its tail bug;
 *  - LP_PREDICT_EDGE_PAD: the first and last frame's features are replicated
 *    twice, so frames 0, 1, N-2, N-1 are predicted from padded stacks.
 * Videos with fewer than 5 frames always use EDGE_PAD (LP cannot predict
 * them at all). Memory is bounded by the window, whatever the video length.
 * While a stream is open its model is in eval mode (restored by free) and
 * each call runs with grad mode off (restored on return).
 * ------------------------------------------------------------------------ */

typedef enum lp_predict_edge {
    LP_PREDICT_EDGE_LP = 0,
    LP_PREDICT_EDGE_PAD = 1
} lp_predict_edge;

typedef struct lp_predict_params {
    int64_t sequence_length; /* T: dali.context.predict.sequence_length (96); TCN >= 5 */
    int32_t edge;            /* lp_predict_edge */
    int32_t prefetch;        /* 1: decode on a background thread; 0: inline */
    int32_t n_decode_threads; /* FFmpeg decoder threads; <= 0 automatic: 1 for a model on the
                                 CPU (frame threading costs more CPU per frame, which the
                                 model needs), FFmpeg's choice on a GPU */
    int32_t precision;        /* lp_predict_precision */
} lp_predict_params;

typedef enum lp_predict_precision {
    LP_PREDICT_F32 = 0,
    /* the backbone in int8 (CPU only): calibrated on the stream's first
     * window (lp_model_quantize_int8), dropped when the stream is freed;
     * a model already quantized by the caller is used as it is */
    LP_PREDICT_INT8 = 1
} lp_predict_precision;

/* T = 96, EDGE_LP, prefetch on, automatic decoder threads, f32. nothrow */
lp_predict_params lp_predict_default_params(void);

typedef struct lp_predict_stream lp_predict_stream;

/* Stream over the frames of a video file. Missing file: LP_STATUS_IO; not a
 * video: LP_STATUS_UNSUPPORTED. The model is borrowed and must outlive the
 * stream; frames go to the model's device. */
lp_status lp_predict_stream_open(lp_model *model, const char *video_path,
                                 const lp_predict_params *params, lp_predict_stream **out);
/* Stream over pre-decoded frames: images (N, 3, H, W) f32 already resized
 * and normalised (model input size); keypoints are scaled to
 * frame_height x frame_width (<= 0: model-input pixels). Borrowed. */
lp_status lp_predict_stream_open_frames(lp_model *model, const lp_tensor *images,
                                        double frame_height, double frame_width,
                                        const lp_predict_params *params,
                                        lp_predict_stream **out);
/* Stops the decode thread; restores the model's training mode. nothrow */
void lp_predict_stream_free(lp_predict_stream *stream);

/* The next predictions, for frames *out_start .. *out_start + n - 1 in
 * order (each frame exactly once over the whole stream): keypoints
 * (n, K, 2) as (x, y) in frame pixels and confidences (n, K), f32 on the
 * CPU. n may be 0 for a window that only fills the context. LP_STATUS_EOF
 * after the last frame. A decode error of the worker thread is returned by
 * the next call. */
lp_status lp_predict_stream_next(lp_predict_stream *stream, int64_t *out_start,
                                 lp_tensor **out_keypoints, lp_tensor **out_confidences);

/* Accessors: nothrow; -1 for NULL. */
int64_t lp_predict_stream_n_frames(const lp_predict_stream *stream);
/* Frames passed through the backbone so far (== n_frames at the end). */
int64_t lp_predict_stream_n_backbone_frames(const lp_predict_stream *stream);
/* Backbone calls (one per window) and head calls so far. */
int64_t lp_predict_stream_n_backbone_calls(const lp_predict_stream *stream);
int32_t lp_predict_stream_width(const lp_predict_stream *stream);  /* frame size */
int32_t lp_predict_stream_height(const lp_predict_stream *stream);
double lp_predict_stream_fps(const lp_predict_stream *stream);     /* 0 for frames */
/* Seconds spent in the model (backbone, heads, decode) and waiting for frames. */
double lp_predict_stream_seconds_model(const lp_predict_stream *stream);
double lp_predict_stream_seconds_wait(const lp_predict_stream *stream);
/* The parts of seconds_model: the backbone, the heads' forward pass and the
 * heatmap decode (what is left is the TCN's window bookkeeping). */
double lp_predict_stream_seconds_backbone(const lp_predict_stream *stream);
double lp_predict_stream_seconds_heads(const lp_predict_stream *stream);
double lp_predict_stream_seconds_decode(const lp_predict_stream *stream);

/* ------------------------------------------------------------------------
 * Lightning Pose output CSVs (docs/spec/lp-data-train.md §3.6), written to
 * PATH.tmp-<pid> and renamed into place on close. Numbers are float32
 * values promoted to double in Python's shortest round-trip repr
 * (0.8999999761581421, 1.0, 1e-05, 3.4e+38); NaN is an empty field.
 * ------------------------------------------------------------------------ */

typedef enum lp_csv_kind {
    LP_CSV_PREDICTIONS = 0, /* header rows scorer/bodyparts/coords; x,y,likelihood per keypoint */
    LP_CSV_METRIC = 1       /* one header row: "" then keypoint names; one value per keypoint */
} lp_csv_kind;

typedef struct lp_csv_writer lp_csv_writer;

/* scorer: e.g. "heatmap_mhcrnn_tracker" (ignored for METRIC). with_set != 0
 * adds LP's final `set` column. */
lp_status lp_csv_writer_open(const char *path, int32_t kind, const char *scorer,
                             int32_t n_keypoints, const char *const *keypoint_names,
                             int32_t with_set, lp_csv_writer **out);
/* One row: index (NULL: the row number 0, 1, ...), n_keypoints*3 (PREDICTIONS)
 * or n_keypoints (METRIC) floats, and the set value (NULL: empty). */
lp_status lp_csv_writer_write_row(lp_csv_writer *writer, const char *index, const float *values,
                                  const char *set);
lp_status lp_csv_writer_close(lp_csv_writer *writer);
/* An unclosed writer deletes its temporary file. nothrow */
void lp_csv_writer_free(lp_csv_writer *writer);

/* Python's repr of a double into out (capacity >= 32). nothrow for valid args. */
lp_status lp_format_double(double value, int64_t capacity, char *out);

/* Reader for the CSVs above (kind detected from the header). */
typedef struct lp_csv_table lp_csv_table;
lp_status lp_csv_table_read(const char *path, lp_csv_table **out);
void lp_csv_table_free(lp_csv_table *table); /* nothrow */
/* Accessors: nothrow; -1 / NULL when out of range. */
int32_t lp_csv_table_kind(const lp_csv_table *table);
int64_t lp_csv_table_n_rows(const lp_csv_table *table);
int32_t lp_csv_table_n_keypoints(const lp_csv_table *table);
int32_t lp_csv_table_has_set(const lp_csv_table *table);
const char *lp_csv_table_scorer(const lp_csv_table *table);                    /* borrowed */
const char *lp_csv_table_keypoint_name(const lp_csv_table *table, int32_t i); /* borrowed */
const char *lp_csv_table_index(const lp_csv_table *table, int64_t row);       /* borrowed */
const char *lp_csv_table_set(const lp_csv_table *table, int64_t row);         /* borrowed */
/* Borrowed (n_rows, n_values) row-major doubles, NaN for empty fields. */
const double *lp_csv_table_values(const lp_csv_table *table);

/* ------------------------------------------------------------------------
 * Whole-video prediction: stream -> <csv_path> (LP's format, rows written
 * as they come) and, when temporal_norm_path is non-NULL, the temporal norm
 * metric CSV (row 0 NaN). keypoint_names: K names (NULL: "bodypart<i>").
 * scorer: NULL -> "<model_type>_tracker".
 * ------------------------------------------------------------------------ */
typedef struct lp_predict_stats {
    int64_t n_frames;
    int64_t n_backbone_frames;
    double seconds_total;
    double seconds_model;
    double seconds_wait;
    double seconds_backbone; /* parts of seconds_model (lp_predict_stream_seconds_*) */
    double seconds_heads;
    double seconds_decode;
    int32_t width; /* frame size */
    int32_t height;
    double fps;    /* the video's */
} lp_predict_stats;

lp_status lp_predict_video(lp_model *model, const char *video_path,
                           const lp_predict_params *params, const char *const *keypoint_names,
                           const char *scorer, const char *csv_path,
                           const char *temporal_norm_path, lp_predict_stats *out);

/* The same for the n_models members of an ensemble, decoding each frame
 * once for all of them: every window is decoded once and run through each
 * member in turn, so memory stays bounded by one window per member. The
 * members must share model type and input size (LP_STATUS_BAD_ARG naming
 * the first that differs: predict those one by one). csv_paths and
 * temporal_norm_paths hold one path per member (temporal_norm_paths NULL:
 * none); out (NULL or n_models entries) gets each member's stats, with the
 * decode wait shared out evenly. lp_predict_video is this with one model. */
lp_status lp_predict_video_ensemble(lp_model *const *models, int32_t n_models,
                                    const char *video_path, const lp_predict_params *params,
                                    const char *const *keypoint_names, const char *scorer,
                                    const char *const *csv_paths,
                                    const char *const *temporal_norm_paths,
                                    lp_predict_stats *out);

/* ------------------------------------------------------------------------
 * Labeled video (docs/spec/lp-data-train.md §3.7): every frame of video_path with the
 * keypoints of csv_path (a predictions CSV with one row per frame) drawn as
 * circles of radius 4, one colour per keypoint; a keypoint whose likelihood
 * is below confidence_thresh is drawn hollow (LP hides it). Frames with a
 * side <= 100 are upsampled x2.5, <= 192 x2 (bilinear), as LP. A legend
 * panel at the right of the frame names the keypoints and says what hollow
 * means ("hollow: likelihood < 0.90"); the frame number is written at the
 * top left. The output is the frame's height and the frame plus the legend
 * wide (even sizes, for yuv420p).
 * ------------------------------------------------------------------------ */
lp_status lp_predict_draw_video(const char *video_path, const char *csv_path,
                                const char *out_path, double confidence_thresh);

typedef struct lp_label_video_options {
    double confidence_thresh;
    /* n_edges pairs of keypoint names (the CSV header's), drawn as lines
     * (lpose's data.skeleton); an unknown name is LP_STATUS_BAD_ARG. */
    const char *const *skeleton;
    int32_t n_edges;
} lp_label_video_options;
/* lp_predict_draw_video with a skeleton. */
lp_status lp_predict_draw_video_opts(const char *video_path, const char *csv_path,
                                     const char *out_path, const lp_label_video_options *options);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_PREDICT_H */
