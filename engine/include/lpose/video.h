/* lpose/video.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_VIDEO_H
#define LPOSE_VIDEO_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Video reader (FFmpeg: any container and codec it decodes). Frames are
 * numbered 0..n_frames-1 in presentation order. Reads that continue where
 * the last one stopped decode on without seeking; other reads seek to the
 * keyframe before the target and decode forward (frame-exact). Memory is
 * bounded: one decoded frame plus a table of 8 bytes per frame. One thread
 * at a time per lp_video.
 * ------------------------------------------------------------------------ */

typedef struct lp_video lp_video;

/* Open `path` and count its frames: mp4/mov take the sample table's count
 * (LP's CAP_PROP_FRAME_COUNT); other containers get one demux pass over
 * the packets (mp4 does that pass at the first random access).
 * n_threads: decoder threads, <= 0 for FFmpeg's automatic choice.
 * Missing file: LP_STATUS_IO; not a video or undecodable codec:
 * LP_STATUS_UNSUPPORTED. */
lp_status lp_video_open(const char *path, int32_t n_threads, lp_video **out);
void lp_video_free(lp_video *video); /* nothrow; NULL ignored */

/* Accessors: nothrow; -1 for a NULL handle. */
int64_t lp_video_n_frames(const lp_video *video);
double lp_video_fps(const lp_video *video); /* average frame rate */
int32_t lp_video_width(const lp_video *video);
int32_t lp_video_height(const lp_video *video);
const char *lp_video_codec_name(const lp_video *video); /* borrowed, "" for NULL */
/* Seeks done so far (sequential reads do none): a performance check. */
int64_t lp_video_n_seeks(const lp_video *video);

/* frames: T RGB height width, f32: frames start..start+T-1 resized
 * (bilinear) and ImageNet-normalised; height/width <= 0 keep the native
 * size. start == n_frames gives LP_STATUS_EOF (end of stream); start < 0
 * or start + T > n_frames gives LP_STATUS_BAD_ARG naming the frames.
 * New reference. */
lp_status lp_video_read_batch(lp_video *video, int64_t start, int64_t n, int32_t height,
                              int32_t width, lp_tensor **out);
/* The same into a caller buffer of n*3*height*width floats (height and
 * width must be > 0 here). */
lp_status lp_video_read_batch_into(lp_video *video, int64_t start, int64_t n, int32_t height,
                                   int32_t width, float *out);
/* Frame `index` as uint8 RGB (height, width, 3) at native size, for checks
 * and labeled videos. New reference. */
lp_status lp_video_read_frame_rgb(lp_video *video, int64_t index, lp_tensor **out);
/* The same into a caller buffer of height*width*3 bytes. */
lp_status lp_video_read_frame_rgb_into(lp_video *video, int64_t index, uint8_t *out);

/* ------------------------------------------------------------------------
 * Video writer: uint8 RGB frames -> libx264 (mpeg4 when libx264 is
 * missing), yuv420p, container from the file extension. Writes
 * PATH.tmp-<pid> and renames it to PATH on close, so PATH is never half
 * written. width and height must be even.
 * ------------------------------------------------------------------------ */

typedef struct lp_video_writer lp_video_writer;

lp_status lp_video_writer_open(const char *path, int32_t width, int32_t height, double fps,
                               lp_video_writer **out);
/* One frame: a (height, width, 3) u8 CPU tensor. */
lp_status lp_video_writer_write(lp_video_writer *writer, const lp_tensor *rgb);
/* One frame from a buffer of height rows of `stride` bytes (>= width*3). */
lp_status lp_video_writer_write_rgb(lp_video_writer *writer, const uint8_t *rgb, int64_t stride);
/* Flush the encoder, finish the file and rename it into place. */
lp_status lp_video_writer_close(lp_video_writer *writer);
/* Release; an unclosed writer deletes its temporary file. nothrow */
void lp_video_writer_free(lp_video_writer *writer);
int64_t lp_video_writer_n_frames(const lp_video_writer *writer); /* nothrow */

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_VIDEO_H */
