/* model_crnn_recur.c: the multi-frame head's recurrence over a window of
 * frames, fused for inference on CPU float32 (the fast path of
 * lpm_crnn_head_forward_window; its libtorch path is the reference, and
 * LPOSE_CRNN_UNFUSED=1 forces it).
 *
 * Window terms A, B (T, K, H, W) stay in their own layout. For output frame
 * j (centre frame j+2), keypoint k and 2x2 patch p (4 values, row-major):
 *   f = A[j]_p;    f = (f mt_f[k] + c_f[k]) + A[j+t]_p,  t = 1..4
 *   b = B[j+4]_p;  b = (b mt_b[k] + c_b[k]) + B[j+t]_p,  t = 3..0
 *   out[j]_p = (f + b) / 2
 * mt and c are fold_h's folded H (K, 4, 4) and (K, 1, 4): a patch row times
 * mt. The libtorch path copies A and B into patch layout, runs eight
 * batched 4x4 matmuls and eight adds over the whole window and copies back;
 * here each output plane is made in one pass over the 5 planes it needs,
 * 8 patches per vector. Same operations in the same order per value; only
 * fused multiply-adds may round differently (tests/c/test_crnn_recur.c
 * bounds the difference from an f64 reference). */
#include <pthread.h>
#include <string.h>

#include "model_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
/* The vector helpers are always inlined: no vector ever crosses a call. */
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC optimize("fp-contract=fast")
#endif

enum { VW = 8, N_CONTEXT = 5, MAX_THREADS = 8 }; /* VW: patches per vector */
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));

/* Clone the kernel for AVX2 where the CPU has it (as decode_sparse.c). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CR_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CR_HOT
#endif
#define CR_INLINE static inline __attribute__((always_inline))

typedef struct cr_job {
    const float *a, *b, *mt_f, *c_f, *mt_b, *c_b;
    float *out;
    int64_t T, K, H, W;
    int64_t first, stride; /* this worker's units: first, first + stride, ... */
} cr_job;

/* Patch values of VW consecutive patches of one row pair: q[0..3] are the
 * patches' (0,0), (0,1), (1,0), (1,1) values. */
typedef struct quad {
    vf q[4];
} quad;

CR_INLINE vf load(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

CR_INLINE void store(float *p, vf v) { memcpy(p, &v, sizeof v); }

CR_INLINE quad load_quad(const float *row0, const float *row1) {
    const vi even = {0, 2, 4, 6, 8, 10, 12, 14}, odd = {1, 3, 5, 7, 9, 11, 13, 15};
    vf a0 = load(row0), a1 = load(row0 + VW), b0 = load(row1), b1 = load(row1 + VW);
    quad r = {{__builtin_shuffle(a0, a1, even), __builtin_shuffle(a0, a1, odd),
               __builtin_shuffle(b0, b1, even), __builtin_shuffle(b0, b1, odd)}};
    return r;
}

CR_INLINE void store_quad(float *row0, float *row1, quad v) {
    const vi lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
    store(row0, __builtin_shuffle(v.q[0], v.q[1], lo));
    store(row0 + VW, __builtin_shuffle(v.q[0], v.q[1], hi));
    store(row1, __builtin_shuffle(v.q[2], v.q[3], lo));
    store(row1 + VW, __builtin_shuffle(v.q[2], v.q[3], hi));
}

/* s <- (s mt + c) + x, per patch */
CR_INLINE quad step(quad s, const float *mt, const float *c, quad x) {
    quad r;
    for (int o = 0; o < 4; ++o)
        r.q[o] = (((s.q[0] * mt[o] + s.q[1] * mt[4 + o]) + s.q[2] * mt[8 + o]) + s.q[3] * mt[12 + o] + c[o]) +
                 x.q[o];
    return r;
}

/* step for one patch whose values sit at plane[at[0..3]] */
static void step1(float s[4], const float *mt, const float *c, const float *plane, const int64_t at[4]) {
    float h[4];
    for (int o = 0; o < 4; ++o)
        h[o] = (((s[0] * mt[o] + s[1] * mt[4 + o]) + s[2] * mt[8 + o]) + s[3] * mt[12 + o] + c[o]) +
               plane[at[o]];
    memcpy(s, h, sizeof h);
}

/* The same for one patch (the columns a whole vector does not cover). */
static void patch_scalar(const float *const pa[N_CONTEXT], const float *const pb[N_CONTEXT],
                         const float *mt_f, const float *c_f, const float *mt_b, const float *c_b,
                         int64_t off0, int64_t off1, float *out) {
    const int64_t at[4] = {off0, off0 + 1, off1, off1 + 1};
    float f[4], b[4];
    for (int i = 0; i < 4; ++i) f[i] = pa[0][at[i]], b[i] = pb[N_CONTEXT - 1][at[i]];
    for (int t = 1; t < N_CONTEXT; ++t) step1(f, mt_f, c_f, pa[t], at);
    for (int t = N_CONTEXT - 2; t >= 0; --t) step1(b, mt_b, c_b, pb[t], at);
    for (int i = 0; i < 4; ++i) out[at[i]] = (f[i] + b[i]) * 0.5f;
}

/* One output plane: frame j, keypoint k. */
CR_HOT static void plane(const cr_job *jb, int64_t j, int64_t k) {
    const int64_t K = jb->K, H = jb->H, W = jb->W, hw = H * W;
    const float *mt_f = jb->mt_f + 16 * k, *c_f = jb->c_f + 4 * k;
    const float *mt_b = jb->mt_b + 16 * k, *c_b = jb->c_b + 4 * k;
    const float *pa[N_CONTEXT], *pb[N_CONTEXT];
    for (int t = 0; t < N_CONTEXT; ++t) {
        pa[t] = jb->a + ((j + t) * K + k) * hw;
        pb[t] = jb->b + ((j + t) * K + k) * hw;
    }
    float *out = jb->out + (j * K + k) * hw;
    const int64_t full = (W / 2) / VW * VW; /* patches per row in whole vectors */
    for (int64_t y = 0; y < H; y += 2) {
        const int64_t r0 = y * W, r1 = r0 + W;
        for (int64_t px = 0; px < full; px += VW) {
            const int64_t o0 = r0 + 2 * px, o1 = r1 + 2 * px;
            quad f = load_quad(pa[0] + o0, pa[0] + o1);
            quad b = load_quad(pb[N_CONTEXT - 1] + o0, pb[N_CONTEXT - 1] + o1);
            for (int t = 1; t < N_CONTEXT; ++t) f = step(f, mt_f, c_f, load_quad(pa[t] + o0, pa[t] + o1));
            for (int t = N_CONTEXT - 2; t >= 0; --t)
                b = step(b, mt_b, c_b, load_quad(pb[t] + o0, pb[t] + o1));
            quad avg;
            for (int i = 0; i < 4; ++i) avg.q[i] = (f.q[i] + b.q[i]) * 0.5f;
            store_quad(out + o0, out + o1, avg);
        }
        for (int64_t px = full; px < W / 2; ++px)
            patch_scalar(pa, pb, mt_f, c_f, mt_b, c_b, r0 + 2 * px, r1 + 2 * px, out);
    }
}

static void *worker(void *arg) {
    const cr_job *jb = arg;
    const int64_t n_units = (jb->T - (N_CONTEXT - 1)) * jb->K;
    for (int64_t u = jb->first; u < n_units; u += jb->stride) plane(jb, u / jb->K, u % jb->K);
    return NULL;
}

lp_status lpm_crnn_recur_window(const float *a, const float *b, int64_t T, int64_t K, int64_t H, int64_t W,
                                const float *mt_f, const float *c_f, const float *mt_b, const float *c_b,
                                int32_t n_threads, float *out) {
    if (T < N_CONTEXT || K < 1 || H < 2 || W < 2 || H % 2 || W % 2)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_crnn_recur_window",
                         "needs T >= 5 and even H, W (got T %lld, H %lld, W %lld)", (long long)T,
                         (long long)H, (long long)W);
    int64_t n = n_threads < 1 ? 1 : n_threads > MAX_THREADS ? MAX_THREADS : n_threads;
    const int64_t n_units = (T - (N_CONTEXT - 1)) * K;
    if (n > n_units) n = n_units;
    cr_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int64_t t = 0; t < n; ++t) jobs[t] = (cr_job){a, b, mt_f, c_f, mt_b, c_b, out, T, K, H, W, t, n};
    for (int64_t t = 1; t < n; ++t) started[t] = pthread_create(&tid[t], NULL, worker, &jobs[t]) == 0;
    worker(&jobs[0]);
    /* units of a thread that could not start are done here */
    for (int64_t t = 1; t < n; ++t) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            worker(&jobs[t]);
    }
    return LP_STATUS_OK;
}
