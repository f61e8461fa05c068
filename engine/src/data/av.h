/* av.h: FFmpeg helpers (defined in image.c) shared by the image reader and
 * the video reader and writer (engine/src/video/) (internal). */
#ifndef LP_DATA_AV_H
#define LP_DATA_AV_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "core/error.h"

/* Once per process: quiet FFmpeg's stderr logging (see image.c). */
void lpi_av_init(void);

/* lp_set_error with FFmpeg's text for `averr`: "fn: path: what: <av text>". */
lp_status lpi_av_error(lp_status status, const char *fn, const char *path, const char *what,
                       int averr);
/* Status for an avformat_open_input failure (missing file -> IO, junk -> UNSUPPORTED). */
lp_status lpi_open_error(const char *fn, const char *path, int averr);

/* What a swscale context was made for (all ints: compared with memcmp). */
typedef struct lpi_scaler_key {
    int src_w, src_h, src_fmt, dst_w, dst_h, dst_fmt, flags, full_range, colorspace;
} lpi_scaler_key;

/* swscale context plus a padded scratch picture: swscale's SIMD paths may
 * write past the end of a row, so never scale into a tight caller buffer. */
typedef struct lpi_scaler {
    struct SwsContext *sws;
    lpi_scaler_key key; /* what sws was made for */
    int n_made;         /* contexts made so far (test_scaler checks the reuse) */
    uint8_t *buf;
    size_t size;
    uint8_t *planes[3]; /* RGB24: planes[0] only; GBRP: G, B, R */
    int stride;
} lpi_scaler;

/* Convert (and resize) `f` to dst_fmt (AV_PIX_FMT_RGB24 or AV_PIX_FMT_GBRP)
 * at dst_w x dst_h into the scratch planes. The context is reused while the
 * geometry stays the same; it honours the frame's colour range and matrix. */
lp_status lpi_scale(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h,
                    enum AVPixelFormat dst_fmt, int flags, const char *fn);
/* RGB24 conversion, then copy the rows into dst (dst_stride bytes apart). */
lp_status lpi_scale_copy(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h, int flags,
                         uint8_t *dst, int dst_stride, const char *fn);
/* GBRP conversion, then floats: /255 and ImageNet mean/std, as (3, h, w), or
 * with `hwc` as (h, w, 3) (channels-last, the layout the folded backbone runs
 * in; docs/design/decisions.md 17), the same values bit for bit. Planar
 * output is ~2x faster in swscale than packed RGB24. */
lp_status lpi_scale_floats(lpi_scaler *s, const AVFrame *f, int dst_w, int dst_h, int flags, int hwc,
                           float *out, const char *fn);
void lpi_scaler_free(lpi_scaler *s);

#endif
