/* video_internal.h: what the engine's other layers read from the video reader
 * beyond the public lpose/video.h (internal). */
#ifndef LP_VIDEO_INTERNAL_H
#define LP_VIDEO_INTERNAL_H

#include "lpose.h"

/* lp_video_read_batch_into's floats, bit for bit, as (n, height, width, 3):
 * channels-last, the layout the folded backbone runs in, so the prediction
 * prefetcher's windows reach it without a copy (predict_prefetch.c). */
lp_status lpv_read_batch_hwc_into(lp_video *v, int64_t start, int64_t n, int32_t height,
                                  int32_t width, float *out);

#endif
