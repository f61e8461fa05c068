/* test_crnn_recur.c: the multi-frame head's fused window recurrence
 * (engine/src/model/model_crnn_recur.c) against an f64 reference with a
 * bound from the arithmetic (docs/developer/numerical-tests.md). Each output
 * is (f + b) / 2 after four steps per direction of s <- (s M + c) + x, a
 * chain of at most 4 * 6 + 2 float roundings (a 4-term dot product, + c,
 * + x per step; the sum and the halving), so
 *   |float - exact| <= gamma_26 * (|f| + |b|)~ / 2
 * where (.)~ runs the same recurrence on absolute values (|s| |M| + |c| + |x|).
 * The terms come as phase channels (T, 8K, h, w), A's value q of keypoint
 * k's patches in channel 4k + q and B's in 4K + 4k + q; the output is maps
 * (T-4, K, 2h, 2w). w = 18 gives two whole 8-patch vectors and two single
 * patches per row; w = 32 two whole 16-patch vectors, which the AVX-512
 * kernel takes where the CPU has it (and the 8-float one with
 * LPOSE_SIMD_WIDTH=8). */
#include "lp_test.h"
#include "model/model_internal.h"

#include <stdint.h>

static const double U = 0x1p-24;

static double gamma_n(double n) { return n * U / (1 - n * U); }

enum { T = 7, K = 3, h = 3, W_MAX = 32, NC = 5 };
static int64_t w; /* patches per row of this run */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static float uniform(void) { /* [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 40) / (double)(1 << 23) - 1.0);
}

/* One direction in f64 for patch (py, px) of keypoint k: frames first + order[t]
 * of the terms whose phase channels start at channel c0 (0: A, 4K: B);
 * abs_run: the same on absolute values. */
static void direction(const float *ab, int64_t c0, const float *mt, const float *c, const int order[NC],
                      int64_t first, int64_t k, int64_t py, int64_t px, int abs_run, double out[4]) {
    double s[4], nx[4];
    for (int t = 0; t < NC; ++t) {
        double v[4];
        for (int q = 0; q < 4; ++q) {
            v[q] = ab[((((first + order[t]) * 8 * K) + c0 + 4 * k + q) * h + py) * w + px];
            if (abs_run) v[q] = fabs(v[q]);
        }
        for (int o = 0; o < 4; ++o) {
            double acc = 0;
            for (int i = 0; t > 0 && i < 4; ++i) {
                const double m = mt[16 * k + 4 * i + o];
                acc += abs_run ? s[i] * fabs(m) : s[i] * m;
            }
            nx[o] = t == 0 ? v[o] : acc + (abs_run ? fabs(c[4 * k + o]) : c[4 * k + o]) + v[o];
        }
        memcpy(s, nx, sizeof s);
    }
    memcpy(out, s, sizeof s);
}

/* The maps softmaxed in the recurrence's pass against libtorch's softmax
 * of the plain maps (out): both are e^(x - max) (about 1 ulp each) times
 * 1 / sum over n = 4hw terms, so |p - p_torch| <= p_torch (2 gamma_n + 8u). */
static void check_softmax(const float *ab, int64_t step, const float *mt_f, const float *c_f, const float *mt_b,
                          const float *c_b, const float *out, int64_t n_out) {
    static float sm[(T - 4) * K * 4 * h * W_MAX], ref[(T - 4) * K * 4 * h * W_MAX];
    const int64_t n = 4 * h * w, shape[2] = {n_out * K, n};
    LP_CHECK_OK(lpm_crnn_recur_window(ab, T, step, K, h, w, mt_f, c_f, mt_b, c_b, 1, 2, sm));
    lp_tensor *plain = NULL, *soft = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(out, LP_DTYPE_F32, shape, 2, &plain));
    LP_CHECK_OK(lp_nn_softmax(plain, -1, &soft));
    if (soft) LP_CHECK_OK(lp_tensor_to_buffer(soft, ref, (int64_t)sizeof(float) * n_out * K * n));
    const double tol = 2 * gamma_n((double)n) + 8 * U;
    double worst = 0;
    for (int64_t i = 0; i < n_out * K * n; ++i) {
        const double rel = fabs((double)sm[i] - ref[i]) / ref[i];
        worst = isnan(rel) ? INFINITY : fmax(worst, rel);
    }
    printf("# softmax in the pass, step %lld, w %lld: max relative difference from libtorch's %.3g (bound %.3g)\n",
           (long long)step, (long long)w, worst, tol);
    LP_CHECK(worst <= tol);
    lp_tensor_free(plain);
    lp_tensor_free(soft);
}

/* step 1: a window of T frames, T-4 outputs; step 5: stacks end to end
 * (T = 7 holds one whole stack and two frames that no output uses). */
static void test_against_f64(int64_t step, int64_t width, int simd8) {
    const int64_t n_out = (T - NC) / step + 1;
    static float ab[T * 8 * K * h * W_MAX], out[(T - 4) * K * 4 * h * W_MAX], out1[(T - 4) * K * 4 * h * W_MAX];
    w = width;
    setenv("LPOSE_SIMD_WIDTH", simd8 ? "8" : "", 1);
    float mt_f[K * 16], c_f[K * 4], mt_b[K * 16], c_b[K * 4];
    for (int64_t i = 0; i < T * 8 * K * h * w; ++i) ab[i] = uniform();
    for (int i = 0; i < K * 16; ++i) mt_f[i] = 0.5f * uniform(), mt_b[i] = 0.5f * uniform();
    for (int i = 0; i < K * 4; ++i) c_f[i] = uniform(), c_b[i] = uniform();
    LP_CHECK_OK(lpm_crnn_recur_window(ab, T, step, K, h, w, mt_f, c_f, mt_b, c_b, 0, 3, out));
    LP_CHECK_OK(lpm_crnn_recur_window(ab, T, step, K, h, w, mt_f, c_f, mt_b, c_b, 0, 1, out1));
    LP_CHECK(memcmp(out, out1, sizeof(float) * (size_t)(n_out * K * 4 * h * w)) == 0); /* threads split planes, not sums */
    static const int fwd[NC] = {0, 1, 2, 3, 4}, bwd[NC] = {4, 3, 2, 1, 0};
    const double g = gamma_n(4 * 6 + 2);
    double worst = -INFINITY, max_err = 0;
    for (int64_t j = 0; j < n_out; ++j)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t py = 0; py < h; ++py)
                for (int64_t px = 0; px < w; ++px) {
                    double f[4], b[4], fa[4], ba[4];
                    direction(ab, 0, mt_f, c_f, fwd, j * step, k, py, px, 0, f);
                    direction(ab, 4 * K, mt_b, c_b, bwd, j * step, k, py, px, 0, b);
                    direction(ab, 0, mt_f, c_f, fwd, j * step, k, py, px, 1, fa);
                    direction(ab, 4 * K, mt_b, c_b, bwd, j * step, k, py, px, 1, ba);
                    for (int q = 0; q < 4; ++q) {
                        const double exact = (f[q] + b[q]) / 2, bound = g * (fa[q] + ba[q]) / 2;
                        const int64_t y = 2 * py + q / 2, x = 2 * px + q % 2;
                        const double err = fabs(out[((j * K + k) * 2 * h + y) * 2 * w + x] - exact);
                        if (err - bound > worst) worst = err - bound;
                        if (err > max_err) max_err = err;
                    }
                }
    check_softmax(ab, step, mt_f, c_f, mt_b, c_b, out, n_out); /* at the same width */
    const int vw = w % 16 == 0 && lpm_simd_wide() ? 16 : 8; /* as model_crnn_recur.c picks it */
    unsetenv("LPOSE_SIMD_WIDTH");
    printf("# fused recurrence, step %lld, w %lld, %d-float kernel%s: max |float - f64| %.3g, worst (error - "
           "bound) %.3g\n", (long long)step, (long long)w, vw, simd8 ? " (forced)" : "", max_err, worst);
    LP_CHECK(worst <= 0);
}

/* A NaN in a frame's terms makes each map it reaches NaN, all of it,
 * through the softmax as through libtorch's (not 0, as the vector e^x would
 * make it). */
static void test_nan(void) {
    enum { HW = 2 * 16 };
    static float ab[NC * 8 * K * HW], out[K * 4 * HW];
    float m[K * 16], c[K * 4];
    for (size_t i = 0; i < sizeof ab / sizeof *ab; ++i) ab[i] = uniform();
    for (int i = 0; i < K * 16; ++i) m[i] = 0.5f * uniform();
    for (int i = 0; i < K * 4; ++i) c[i] = uniform();
    ab[(2 * 8 * K + 4 * 1) * HW + 5] = NAN; /* frame 2, A of keypoint 1, one patch value */
    LP_CHECK_OK(lpm_crnn_recur_window(ab, NC, 1, K, 2, 16, m, c, m, c, 1, 1, out));
    int nan_maps = 0, finite_maps = 0;
    for (int k = 0; k < K; ++k) {
        int all_nan = 1, all_finite = 1;
        for (int i = 0; i < 4 * HW; ++i) {
            all_nan &= isnan(out[k * 4 * HW + i]);
            all_finite &= isfinite(out[k * 4 * HW + i]);
        }
        nan_maps += all_nan;
        finite_maps += all_finite;
    }
    LP_CHECK(nan_maps == 1 && finite_maps == K - 1);
}

static void test_bad_sizes(void) {
    float buf[8 * K * 4] = {0}, m[K * 16] = {0}, c[K * 4] = {0};
    LP_CHECK_FAILS(lpm_crnn_recur_window(buf, 4, 1, K, 2, 2, m, c, m, c, 0, 1, buf), LP_STATUS_BAD_ARG,
                   "lpm_crnn_recur_window");
    LP_CHECK_FAILS(lpm_crnn_recur_window(buf, T, 1, K, 0, 2, m, c, m, c, 0, 1, buf), LP_STATUS_BAD_ARG,
                   "lpm_crnn_recur_window");
}

int main(void) {
    lp_runtime_init(2);
    for (int simd8 = 0; simd8 < 2; ++simd8)
        for (int64_t width = 18; width <= W_MAX; width += W_MAX - 18) {
            test_against_f64(1, width, simd8);
            test_against_f64(NC, width, simd8);
        }
    test_nan();
    test_bad_sizes();
    LP_DONE();
}
