/* dataset_internal.h: what loader.c needs from dataset.c (internal). */
#ifndef LP_DATASET_INTERNAL_H
#define LP_DATASET_INTERNAL_H

#include <stdint.h>

#include "lpose.h"

/* Per-thread buffers for loading one sample (grown on demand). */
typedef struct lpd_scratch {
    uint8_t *raw;
    int64_t raw_cap;
    uint8_t *rgb;
    int64_t rgb_cap;
} lpd_scratch;

void lpd_scratch_free(lpd_scratch *s);

/* Number of frames per sample (5 or 1) and the heatmap size. */
int32_t lpd_n_frames(const lp_dataset *ds);
void lpd_heatmap_size(const lp_dataset *ds, int32_t *hh, int32_t *wh);

/* Load row `index` into img (F*3*H*W floats), kp (K*2) and hm (K*hh*wh);
 * size_out (may be NULL) gets the original {height, width}. */
lp_status lpd_load_sample(const lp_dataset *ds, int64_t index, int32_t augment, uint64_t seed, lpd_scratch *s,
                          float *img, float *kp, float *hm, int64_t size_out[2]);

#endif
