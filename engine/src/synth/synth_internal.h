/* synth_internal.h: shared by synth_motion.c, synth_render.c, synth_project.c (internal). */
#ifndef LP_SYNTH_INTERNAL_H
#define LP_SYNTH_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "lpose.h"

#define LPS_MAX_KEYPOINTS 16
#define LPS_N_WAVES 3
#define LPS_TAU 6.283185307179586

/* splitmix64: tiny, fast, and the same on every platform (never rand()). */
static inline uint64_t lps_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1) with 53 bits. */
static inline double lps_unif(uint64_t *state) {
    return (double)(lps_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
static inline double lps_range(uint64_t *state, double lo, double hi) {
    return lo + (hi - lo) * lps_unif(state);
}
/* A stream seed from a seed and up to three tags (video, frame, purpose). */
static inline uint64_t lps_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t s = seed ^ 0x5EED5EED5EED5EEDull;
    uint64_t h = lps_next(&s);
    s = h ^ (a * 0xD1B54A32D192ED03ull);
    h = lps_next(&s);
    s = h ^ (b * 0xABC98388FB8FAC03ull);
    h = lps_next(&s);
    s = h ^ (c * 0x8CB92BA72F3D8DD7ull);
    return lps_next(&s);
}

/* Sum of sinusoids: sum_i amp[i] * sin(TAU * freq[i] * t + phase[i]). */
typedef struct lps_wave {
    double amp[LPS_N_WAVES], freq[LPS_N_WAVES], phase[LPS_N_WAVES];
} lps_wave;

static inline double lps_wave_at(const lps_wave *w, double t) {
    double v = 0;
    for (int i = 0; i < LPS_N_WAVES; i++) v += w->amp[i] * sin(LPS_TAU * w->freq[i] * t + w->phase[i]);
    return v;
}

typedef struct lps_occluder {
    int64_t start, n_frames;  /* visible on frames start..start+n_frames-1 */
    double cx, cy, vx, vy;    /* centre at frame start + (n_frames-1)/2, pixels per frame */
    double radius, wobble, wobble_phase, tex_dx, tex_dy;
} lps_occluder;

/* Everything about one video that does not depend on the frame. */
typedef struct lps_video {
    const lp_synth_params *p;
    int32_t idx_video, n_kp, root;
    double seg_len[LPS_MAX_KEYPOINTS]; /* seg_len[k]: keypoint k to k+1 */
    double radius[LPS_MAX_KEYPOINTS];  /* body half-thickness at keypoint k */
    double tone[LPS_MAX_KEYPOINTS];    /* grey level of the capsule k..k+1 */
    double cx, cy, theta0;
    lps_wave root_x, root_y, heading, bend[LPS_MAX_KEYPOINTS];
    lps_wave bg_dx, bg_dy, bg_gain;
    lps_occluder *occ;
    int32_t n_occ;
} lps_video;

/* synth_motion.c */
lp_status lps_video_init(const lp_synth_params *p, int32_t idx_video, lps_video *v);
void lps_video_free(lps_video *v);
/* Keypoints (n_kp x 2, pixels) at frame f. */
void lps_pose(const lps_video *v, int64_t f, double *xy);
/* Occluder o's centre at frame f; returns 0 if it is not shown at f. */
int lps_occluder_at(const lps_occluder *o, int64_t f, double *cx, double *cy);
/* Is (x, y) covered by occluder o centred at (cx, cy)? coverage in [0, 1]. */
double lps_occluder_cover(const lps_occluder *o, double cx, double cy, double x, double y);

/* synth_render.c: background texture of a video (w x h values, padded). */
typedef struct lps_texture {
    int32_t w, h;
    float *v;
} lps_texture;
lp_status lps_texture_init(const lps_video *v, lps_texture *t);
void lps_texture_free(lps_texture *t);
/* Render frame f (pose xy from lps_pose) into rgb (height, width, 3). */
void lps_render(const lps_video *v, const lps_texture *t, int64_t f, const double *xy,
                uint8_t *rgb);

/* synth_encode.c: bit-exact single-threaded encoder for the synthetic videos. */
typedef struct lps_encoder lps_encoder;
lp_status lps_encoder_open(const char *path, int w, int h, double fps, lps_encoder **out);
lp_status lps_encoder_write(lps_encoder *e, const uint8_t *rgb); /* (h, w, 3) packed */
lp_status lps_encoder_close(lps_encoder *e);
void lps_encoder_free(lps_encoder *e);

#endif
