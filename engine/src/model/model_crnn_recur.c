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
 * copies back; here each output plane is made in one pass, 8 or 16 patches
 * per vector (crnn_recur_plane.h), straight from the phase channels, and
 * softmaxed while in cache. Same operations in the same order per value;
 * fused multiply-adds may round differently (tests/c/test_crnn_recur.c
 * bounds the difference from an f64 reference, and the softmax's from
 * libtorch's). */
#include <stdlib.h>
#include <string.h>

#include "core/fork_join.h"
#include "crnn_recur.h"
#include "model_internal.h"

enum { MAX_THREADS = 8 };

/* Each worker takes one contiguous run of units in keypoint-major order, so
 * consecutive planes of a keypoint share four of their five context frames
 * and read them from cache. */
static void *worker(void *arg) {
    const cr_job *jb = arg;
    const int64_t J = jb->n_out, n_units = J * jb->K;
    const int64_t u0 = n_units * jb->first / jb->stride, u1 = n_units * (jb->first + 1) / jb->stride;
    void (*plane)(const cr_job *, int64_t, int64_t) = jb->vw == 16 ? cr_plane_v16 : cr_plane_v8;
    for (int64_t u = u0; u < u1; ++u) plane(jb, u % J, u / J);
    return NULL;
}

/* 16 floats per vector where they may (lpm_simd_wide) and the rows of
 * patches are whole 16-patch vectors, else 8. */
static int32_t kernel_width(int64_t w) { return w % 16 == 0 && lpm_simd_wide() ? 16 : 8; }

lp_status lpm_crnn_recur_window(const float *ab, int64_t T, int64_t step, int64_t K, int64_t h, int64_t w,
                                const float *mt_f, const float *c_f, const float *mt_b, const float *c_b,
                                int32_t softmax, int32_t n_threads, float *out) {
    if (T < N_CONTEXT || step < 1 || K < 1 || h < 1 || w < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_crnn_recur_window",
                         "needs T >= 5 frames and step, K, h, w >= 1 (got T %lld, step %lld, K %lld, h %lld, w %lld)",
                         (long long)T, (long long)step, (long long)K, (long long)h, (long long)w);
    const int64_t n_out = (T - N_CONTEXT) / step + 1;
    int64_t n = n_threads < 1 ? 1 : n_threads > MAX_THREADS ? MAX_THREADS : n_threads;
    const int64_t n_units = n_out * K;
    if (n > n_units) n = n_units;
    cr_job jobs[MAX_THREADS];
    const int32_t vw = kernel_width(w);
    for (int64_t t = 0; t < n; ++t)
        jobs[t] = (cr_job){ab, mt_f, c_f, mt_b, c_b, out, n_out, step, K, h, w, t, n, vw, softmax != 0};
    lp_fork_join(worker, jobs, sizeof *jobs, n);
    return LP_STATUS_OK;
}
