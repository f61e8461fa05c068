/* test_crnn_recur.c: the multi-frame head's fused window recurrence
 * (engine/src/model/model_crnn_recur.c) against an f64 reference with a
 * bound from the arithmetic (docs/developer/numerical-tests.md). Each output
 * is (f + b) / 2 after four steps per direction of s <- (s M + c) + x, a
 * chain of at most 4 * 6 + 2 float roundings (a 4-term dot product, + c,
 * + x per step; the sum and the halving), so
 *   |float - exact| <= gamma_26 * (|f| + |b|)~ / 2
 * where (.)~ runs the same recurrence on absolute values (|s| |M| + |c| + |x|).
 * W = 36 gives two whole 8-patch vectors and two single patches per row. */
#include "lp_test.h"
#include "model/model_internal.h"

#include <stdint.h>

static const double U = 0x1p-24;

static double gamma_n(double n) { return n * U / (1 - n * U); }

enum { T = 7, K = 3, H = 6, W = 36, NC = 5 };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static float uniform(void) { /* [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 40) / (double)(1 << 23) - 1.0);
}

/* One direction, in f64: frames order[0..4] of terms x at (k, y, xx);
 * abs_run: the same on absolute values. */
static void direction(const float *x, const float *mt, const float *c, const int order[NC], int64_t j,
                      int64_t k, int64_t y, int64_t xx, int abs_run, double out[4]) {
    const int64_t y0 = y & ~1, x0 = xx & ~1;
    double s[4], h[4];
    for (int t = 0; t < NC; ++t) {
        const float *plane = x + ((j + order[t]) * K + k) * H * W;
        const double v[4] = {plane[y0 * W + x0], plane[y0 * W + x0 + 1], plane[(y0 + 1) * W + x0],
                             plane[(y0 + 1) * W + x0 + 1]};
        for (int o = 0; o < 4; ++o) {
            double acc = 0;
            if (t > 0)
                for (int i = 0; i < 4; ++i)
                    acc += abs_run ? fabs(s[i] * mt[16 * k + 4 * i + o]) : s[i] * mt[16 * k + 4 * i + o];
            h[o] = t == 0 ? (abs_run ? fabs(v[o]) : v[o])
                          : acc + (abs_run ? fabs(c[4 * k + o]) + fabs(v[o]) : c[4 * k + o] + v[o]);
        }
        memcpy(s, h, sizeof s);
    }
    memcpy(out, s, sizeof s);
}

static void test_against_f64(void) {
    static float a[T * K * H * W], b[T * K * H * W], out[(T - 4) * K * H * W], out1[(T - 4) * K * H * W];
    float mt_f[K * 16], c_f[K * 4], mt_b[K * 16], c_b[K * 4];
    for (size_t i = 0; i < sizeof a / sizeof *a; ++i) a[i] = uniform(), b[i] = uniform();
    for (int i = 0; i < K * 16; ++i) mt_f[i] = 0.5f * uniform(), mt_b[i] = 0.5f * uniform();
    for (int i = 0; i < K * 4; ++i) c_f[i] = uniform(), c_b[i] = uniform();
    LP_CHECK_OK(lpm_crnn_recur_window(a, b, T, K, H, W, mt_f, c_f, mt_b, c_b, 3, out));
    LP_CHECK_OK(lpm_crnn_recur_window(a, b, T, K, H, W, mt_f, c_f, mt_b, c_b, 1, out1));
    LP_CHECK(memcmp(out, out1, sizeof out) == 0); /* threads split planes, not sums */
    static const int fwd[NC] = {0, 1, 2, 3, 4}, bwd[NC] = {4, 3, 2, 1, 0};
    const double g = gamma_n(4 * 6 + 2);
    double worst = -INFINITY, max_err = 0;
    for (int64_t j = 0; j < T - 4; ++j)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t y = 0; y < H; ++y)
                for (int64_t x = 0; x < W; ++x) {
                    double f[4], bb[4], fa[4], ba[4];
                    direction(a, mt_f, c_f, fwd, j, k, y, x, 0, f);
                    direction(b, mt_b, c_b, bwd, j, k, y, x, 0, bb);
                    direction(a, mt_f, c_f, fwd, j, k, y, x, 1, fa);
                    direction(b, mt_b, c_b, bwd, j, k, y, x, 1, ba);
                    const int q = (int)((y & 1) * 2 + (x & 1));
                    const double exact = (f[q] + bb[q]) / 2, bound = g * (fa[q] + ba[q]) / 2;
                    const double err = fabs(out[((j * K + k) * H + y) * W + x] - exact);
                    if (err - bound > worst) worst = err - bound;
                    if (err > max_err) max_err = err;
                }
    printf("# fused recurrence: max |float - f64| %.3g, worst (error - bound) "
           "%.3g\n",
           max_err, worst);
    LP_CHECK(worst <= 0);
}

static void test_bad_sizes(void) {
    float buf[T * K * 6 * 6] = {0}, m[K * 16] = {0}, c[K * 4] = {0};
    LP_CHECK_FAILS(lpm_crnn_recur_window(buf, buf, T, K, 5, 6, m, c, m, c, 1, buf), LP_STATUS_BAD_ARG,
                   "lpm_crnn_recur_window");
    LP_CHECK_FAILS(lpm_crnn_recur_window(buf, buf, 4, K, 6, 6, m, c, m, c, 1, buf), LP_STATUS_BAD_ARG,
                   "lpm_crnn_recur_window");
}

int main(void) {
    lp_runtime_init(2);
    test_against_f64();
    test_bad_sizes();
    LP_DONE();
}
