/* augment_internal.h: helpers shared by augment.c, dataset.c and loader.c (internal). */
#ifndef LP_AUGMENT_INTERNAL_H
#define LP_AUGMENT_INTERNAL_H

#include <stdint.h>

/* xoshiro256** seeded through splitmix64: the augmentation's own PRNG. */
typedef struct lpa_rng {
    uint64_t s[4];
} lpa_rng;

void lpa_rng_seed(lpa_rng *r, uint64_t seed);
uint64_t lpa_rng_next(lpa_rng *r);
double lpa_rng_u01(lpa_rng *r); /* [0, 1) */
/* A well-mixed 64-bit hash of (a, b, c), for per-sample seeds. */
uint64_t lpa_mix(uint64_t a, uint64_t b, uint64_t c);

/* OpenCV INTER_CUBIC (a = -0.75, half-pixel centres, replicated border) on
 * uint8 HWC with 3 channels, rounded and clipped. */
void lpa_resize_cubic(const uint8_t *in, int ih, int iw, uint8_t *out, int oh, int ow);

#endif
