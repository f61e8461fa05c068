/* model_crnn_recur.c: the multi-frame head's recurrence over a window of
 * frames or over context stacks, fused for inference on CPU float32 (the
 * fast path of lpm_crnn_head_forward_window and lpm_crnn_head_forward; their
 * libtorch paths are the reference, and LPOSE_HEADS_REFERENCE=1 forces them).
 *
 * The window terms arrive as model_deconv.c's phase channels: one 2x2
 * convolution gives both W_f and W_b, (T, 8K, h, w), where channel 4k + q
 * (q = 2 dy + dx) holds value q of every 2x2 patch of keypoint k's A map and
 * channel 4K + 4k + q the same of B. For output j, whose context frames
 * start at frame s = j * step (step 1 in a window, 5 for stacks), keypoint
 * k and patch p (4 values):
 *   f = A[s]_p;    f = (f mt_f[k] + c_f[k]) + A[s+t]_p,  t = 1..4
 *   b = B[s+4]_p;  b = (b mt_b[k] + c_b[k]) + B[s+t]_p,  t = 3..0
 *   out[j]_p = (f + b) / 2,   written as maps (n_out, K, 2h, 2w)
 * mt and c are fold_h's folded H (K, 4, 4) and (K, 1, 4): a patch row times
 * mt. The libtorch path pixel-shuffles A and B, copies them into patch
 * layout, runs eight batched 4x4 matmuls and eight adds over the window and
 * copies back; here each output plane is made in one pass, 8 patches per
 * vector, straight from the phase channels. Same operations in the same
 * order per value; fused multiply-adds may round differently
 * (tests/c/test_crnn_recur.c bounds the difference from an f64 reference). */
#include <string.h>

#include "core/fork_join.h"
#include "model_internal.h"
#include "simd.h"

enum { N_CONTEXT = 5, MAX_THREADS = 8 };

typedef struct cr_job {
    const float *ab, *mt_f, *c_f, *mt_b, *c_b;
    float *out;
    int64_t n_out, step, K, h, w;
    int64_t first, stride; /* this worker is number first of stride */
} cr_job;

/* Values q = 0..3 of VW consecutive patches. */
typedef struct quad {
    vf q[4];
} quad;

/* the 4 phase planes of one keypoint start at p, hw apart */
SIMD_INLINE quad load_quad(const float *p, int64_t hw) {
    quad r = {{vf_load(p), vf_load(p + hw), vf_load(p + 2 * hw), vf_load(p + 3 * hw)}};
    return r;
}

/* patches back into two map rows: (0,0) (0,1) on row0, (1,0) (1,1) on row1 */
SIMD_INLINE void store_quad(float *row0, float *row1, quad v) {
    const vi lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
    vf_store(row0, __builtin_shuffle(v.q[0], v.q[1], lo));
    vf_store(row0 + VW, __builtin_shuffle(v.q[0], v.q[1], hi));
    vf_store(row1, __builtin_shuffle(v.q[2], v.q[3], lo));
    vf_store(row1 + VW, __builtin_shuffle(v.q[2], v.q[3], hi));
}

/* s <- (s mt + c) + x, per patch */
SIMD_INLINE quad step(quad s, const float *mt, const float *c, quad x) {
    quad r;
    for (int o = 0; o < 4; ++o)
        r.q[o] = (((s.q[0] * mt[o] + s.q[1] * mt[4 + o]) + s.q[2] * mt[8 + o]) + s.q[3] * mt[12 + o] + c[o]) +
                 x.q[o];
    return r;
}

/* step for one patch whose values sit at p[0], p[hw], p[2 hw], p[3 hw] */
static void step1(float s[4], const float *mt, const float *c, const float *p, int64_t hw) {
    float h[4];
    for (int o = 0; o < 4; ++o)
        h[o] =
            (((s[0] * mt[o] + s[1] * mt[4 + o]) + s[2] * mt[8 + o]) + s[3] * mt[12 + o] + c[o]) + p[o * hw];
    memcpy(s, h, sizeof h);
}

/* One output plane: frame j, keypoint k. */
SIMD_HOT static void plane(const cr_job *jb, int64_t j, int64_t k) {
    const int64_t K = jb->K, h = jb->h, w = jb->w, hw = h * w, W = 2 * w;
    const float *mt_f = jb->mt_f + 16 * k, *c_f = jb->c_f + 4 * k;
    const float *mt_b = jb->mt_b + 16 * k, *c_b = jb->c_b + 4 * k;
    const float *pa[N_CONTEXT], *pb[N_CONTEXT];
    for (int t = 0; t < N_CONTEXT; ++t) {
        pa[t] = jb->ab + ((j * jb->step + t) * 8 * K + 4 * k) * hw;
        pb[t] = pa[t] + 4 * K * hw;
    }
    float *out = jb->out + (j * K + k) * 4 * hw;
    const int64_t full = w / VW * VW; /* patches per row in whole vectors */
    for (int64_t py = 0; py < h; ++py) {
        float *row0 = out + 2 * py * W, *row1 = row0 + W;
        int64_t px = 0;
        for (; px < full; px += VW) {
            const int64_t at = py * w + px;
            quad f = load_quad(pa[0] + at, hw), b = load_quad(pb[N_CONTEXT - 1] + at, hw);
            for (int t = 1; t < N_CONTEXT; ++t) f = step(f, mt_f, c_f, load_quad(pa[t] + at, hw));
            for (int t = N_CONTEXT - 2; t >= 0; --t) b = step(b, mt_b, c_b, load_quad(pb[t] + at, hw));
            quad avg;
            for (int i = 0; i < 4; ++i) avg.q[i] = (f.q[i] + b.q[i]) * 0.5f;
            store_quad(row0 + 2 * px, row1 + 2 * px, avg);
        }
        for (; px < w; ++px) { /* the patches a whole vector does not cover */
            const int64_t at = py * w + px;
            float f[4], b[4];
            for (int q = 0; q < 4; ++q) f[q] = pa[0][at + q * hw], b[q] = pb[N_CONTEXT - 1][at + q * hw];
            for (int t = 1; t < N_CONTEXT; ++t) step1(f, mt_f, c_f, pa[t] + at, hw);
            for (int t = N_CONTEXT - 2; t >= 0; --t) step1(b, mt_b, c_b, pb[t] + at, hw);
            for (int q = 0; q < 4; ++q) (q < 2 ? row0 : row1)[2 * px + q % 2] = (f[q] + b[q]) * 0.5f;
        }
    }
}

/* Each worker takes one contiguous run of units in keypoint-major order, so
 * consecutive planes of a keypoint share four of their five context frames
 * and read them from cache. */
static void *worker(void *arg) {
    const cr_job *jb = arg;
    const int64_t J = jb->n_out, n_units = J * jb->K;
    const int64_t u0 = n_units * jb->first / jb->stride, u1 = n_units * (jb->first + 1) / jb->stride;
    for (int64_t u = u0; u < u1; ++u) plane(jb, u % J, u / J);
    return NULL;
}

lp_status lpm_crnn_recur_window(const float *ab, int64_t T, int64_t step, int64_t K, int64_t h, int64_t w,
                                const float *mt_f, const float *c_f, const float *mt_b, const float *c_b,
                                int32_t n_threads, float *out) {
    if (T < N_CONTEXT || step < 1 || K < 1 || h < 1 || w < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_crnn_recur_window",
                         "needs T >= 5 frames and step, K, h, w >= 1 (got T %lld, step %lld, K %lld, h %lld, w %lld)",
                         (long long)T, (long long)step, (long long)K, (long long)h, (long long)w);
    const int64_t n_out = (T - N_CONTEXT) / step + 1;
    int64_t n = n_threads < 1 ? 1 : n_threads > MAX_THREADS ? MAX_THREADS : n_threads;
    const int64_t n_units = n_out * K;
    if (n > n_units) n = n_units;
    cr_job jobs[MAX_THREADS];
    for (int64_t t = 0; t < n; ++t) jobs[t] = (cr_job){ab, mt_f, c_f, mt_b, c_b, out, n_out, step, K, h, w, t, n};
    lp_fork_join(worker, jobs, sizeof *jobs, n);
    return LP_STATUS_OK;
}
