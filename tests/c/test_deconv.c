/* test_deconv.c: the heads' ConvTranspose2d(3x3, s2, p1, op1) in sub-pixel
 * form (engine/src/model/model_deconv.c) against the transposed
 * convolution in f64, with a bound from the arithmetic
 * (docs/developer/numerical-tests.md): each output sums at most 4 Cin
 * products (the 2x2 kernel over Cin channels, some of them exact zeros)
 * and the bias, so |float - exact| <= gamma_{4 Cin + 1} (convT(|x|, |w|) + |b|).
 * Also: phase channels of two layers at once, the reference path
 * (grad on, or LPOSE_HEADS_REFERENCE=1) is the transposed convolution,
 * phase_conv.c's direct kernel (few input channels, rows of whole vectors)
 * keeps the same bound at both vector widths, and lpm_shuffle2 (a copy) is
 * exactly libtorch's pixel shuffle, then pad. */
#include "lp_test.h"
#include "model/model_internal.h"

static const double U = 0x1p-24;

static double gamma_n(double n) { return n * U / (1 - n * U); }

/* A step of the helpers below: reported only when it fails. */
#define MUST(call)                                                                                           \
    do {                                                                                                     \
        if ((call) != LP_STATUS_OK) lp_test_report(0, __FILE__, __LINE__, #call);                            \
    } while (0)

static lp_tensor *uniform(const int64_t *shape, int32_t nd, uint64_t seed) {
    lp_tensor *t = NULL;
    MUST(lp_tensor_rand(shape, nd, LP_DTYPE_F32, LP_DEVICE_CPU, (int64_t)seed, &t));
    if (t) {
        lp_tensor_binary_scalar_(LP_BINARY_MUL, t, 2.0);
        lp_tensor_binary_scalar_(LP_BINARY_SUB, t, 1.0);
    }
    return t;
}

static lp_tensor *f64(const lp_tensor *t, int absolute) {
    lp_tensor *out = NULL;
    MUST(lp_tensor_to(t, LP_DTYPE_F64, LP_DEVICE_CPU, &out));
    if (out && absolute) MUST(lp_tensor_unary_(LP_UNARY_ABS, out));
    return out;
}


/* max of |got - exact| - bound over the elements (<= 0: within the bound) */
static double excess(const lp_tensor *got, const lp_tensor *x, const lp_tensor *w, const lp_tensor *b,
                     double *err_max) {
    const int64_t cin = lp_tensor_size(x, 1);
    lp_tensor *x64 = f64(x, 0), *w64 = f64(w, 0), *b64 = f64(b, 0), *ax = f64(x, 1), *aw = f64(w, 1);
    lp_tensor *ab = f64(b, 1), *exact = NULL, *bound = NULL, *err = NULL;
    MUST(nnu_conv_t2d(x64, w64, b64, 2, 1, 1, 1, &exact));
    MUST(nnu_conv_t2d(ax, aw, ab, 2, 1, 1, 1, &bound));
    MUST(lp_tensor_binary_scalar_(LP_BINARY_MUL, bound, gamma_n((double)(4 * cin + 1))));
    lp_tensor *g64 = f64(got, 0);
    MUST(lp_tensor_binary(LP_BINARY_SUB, g64, exact, &err));
    MUST(lp_tensor_unary_(LP_UNARY_ABS, err));
    *err_max = lp_test_reduce(LP_REDUCE_AMAX, err);
    MUST(lp_tensor_binary_(LP_BINARY_SUB, err, bound));
    double worst = lp_test_reduce(LP_REDUCE_AMAX, err);
    lp_tensor *all[] = {x64, w64, b64, ax, aw, ab, exact, bound, err, g64};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    return worst;
}

static void test_subpixel(void) {
    const int64_t sx[4] = {3, 20, 5, 7}, sw1[4] = {20, 6, 3, 3}, sw2[4] = {20, 4, 3, 3};
    const int64_t sb1[1] = {6}, sb2[1] = {4};
    lp_tensor *x = uniform(sx, 4, 1), *w1 = uniform(sw1, 4, 2), *b1 = uniform(sb1, 1, 3);
    lp_tensor *w2 = uniform(sw2, 4, 4), *b2 = uniform(sb2, 1, 5);
    lp_tensor *y = NULL, *ph = NULL, *shuffled = NULL, *ref = NULL, *y_grad = NULL, *y_env = NULL;
    lp_grad_set_enabled(0);
    LP_CHECK(lpm_heads_fast(x));
    LP_CHECK_OK(lpm_deconv3(x, w1, b1, &y));
    LP_CHECK(y && lp_tensor_size(y, 1) == 6 && lp_tensor_size(y, 2) == 10 && lp_tensor_size(y, 3) == 14);
    double err = 0, worst = excess(y, x, w1, b1, &err);
    printf("# sub-pixel deconv: max |float - f64| %.3g, worst (error - bound) %.3g\n", err, worst);
    LP_CHECK(worst <= 0);
    /* two layers' phase channels at once: channels [0, 24) are layer 1's */
    const lp_tensor *ws[2] = {w1, w2}, *bs[2] = {b1, b2};
    LP_CHECK_OK(lpm_deconv3_phases(x, ws, bs, 2, &ph));
    LP_CHECK(ph && lp_tensor_size(ph, 1) == 40 && lp_tensor_size(ph, 2) == 5);
    LP_CHECK_OK(lp_nn_pixel_shuffle(ph, 2, &shuffled));
    lp_tensor *first = NULL, *second = NULL;
    LP_CHECK_OK(lp_tensor_narrow(shuffled, 1, 0, 6, &first));
    LP_CHECK_OK(lp_tensor_narrow(shuffled, 1, 6, 4, &second));
    LP_CHECK(excess(first, x, w1, b1, &err) <= 0);
    LP_CHECK(excess(second, x, w2, b2, &err) <= 0);
    /* the reference path is the transposed convolution itself */
    LP_CHECK_OK(nnu_conv_t2d(x, w1, b1, 2, 1, 1, 1, &ref));
    lp_grad_set_enabled(1);
    LP_CHECK(!lpm_heads_fast(x));
    LP_CHECK_OK(lpm_deconv3(x, w1, b1, &y_grad));
    lp_grad_set_enabled(0);
    setenv("LPOSE_HEADS_REFERENCE", "1", 1);
    LP_CHECK(!lpm_heads_fast(x));
    LP_CHECK_OK(lpm_deconv3(x, w1, b1, &y_env));
    unsetenv("LPOSE_HEADS_REFERENCE");
    LP_CHECK(lp_test_reduce(LP_REDUCE_AMAX, ref) == lp_test_reduce(LP_REDUCE_AMAX, y_grad));
    lp_tensor *d1 = NULL, *d2 = NULL;
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, ref, y_grad, &d1));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, ref, y_env, &d2));
    LP_CHECK(lp_test_reduce(LP_REDUCE_AMAX, d1) == 0 && lp_test_reduce(LP_REDUCE_AMIN, d1) == 0);
    LP_CHECK(lp_test_reduce(LP_REDUCE_AMAX, d2) == 0 && lp_test_reduce(LP_REDUCE_AMIN, d2) == 0);
    /* phase weights must be CPU float32 */
    lp_tensor *w64 = f64(w1, 0), *bad = NULL;
    const lp_tensor *wbad[1] = {w64}, *bone[1] = {b1};
    LP_CHECK_FAILS(lpm_deconv3_phases(x, wbad, bone, 1, &bad), LP_STATUS_BAD_ARG, "lpm_deconv3_phases");
    lp_grad_set_enabled(1);
    lp_tensor *all[] = {x, w1, b1, w2, b2, y, ph, shuffled, ref, y_grad, y_env, first, second, d1, d2, w64};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
}

/* The direct kernel (phase_conv.c) where it applies: one or two layers
 * (channel blocks of odd, even and several sizes), at the widths the CPU
 * runs and with 8-float vectors forced; the 8-float kernel leaves more than
 * 64 input channels to oneDNN. */
static void test_direct(void) {
    static const struct { int64_t n, cin, h, w, cout[2]; } cases[] = {
        {2, 17, 16, 16, {17, 17}}, {1, 5, 3, 32, {30, 1}}, {3, 64, 4, 8, {3, 0}}, {2, 2, 2, 48, {25, 0}},
        {2, 128, 8, 8, {17, 17}}, {1, 3, 6, 4, {5, 0}}};
    for (int simd8 = 0; simd8 < 2; ++simd8) {
        setenv("LPOSE_SIMD_WIDTH", simd8 ? "8" : "", 1);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
            const int64_t sx[4] = {cases[c].n, cases[c].cin, cases[c].h, cases[c].w};
            const int n_layers = cases[c].cout[1] ? 2 : 1;
            lp_tensor *x = uniform(sx, 4, 20 + c), *w[2] = {NULL, NULL}, *b[2] = {NULL, NULL};
            lp_tensor *ph = NULL, *maps = NULL;
            for (int l = 0; l < n_layers; ++l) {
                const int64_t sw[4] = {cases[c].cin, cases[c].cout[l], 3, 3}, sb[1] = {cases[c].cout[l]};
                w[l] = uniform(sw, 4, 30 + c + 7 * l);
                b[l] = uniform(sb, 1, 40 + c + 7 * l);
            }
            /* whole vectors per row, or two rows of half a vector (h even) */
            const int64_t mh = cases[c].h, mw = cases[c].w;
            const int wide = !simd8 && lpm_simd_wide() && (mw % 16 == 0 || (mw == 8 && mh % 2 == 0));
            const int narrow = (mw % 8 == 0 || (mw == 4 && mh % 2 == 0)) && cases[c].cin <= 64;
            const int32_t vw = lpm_phase_conv_direct_width(cases[c].cin, mh, mw);
            LP_CHECK(vw == (wide ? 16 : narrow ? 8 : 0));
            const lp_tensor *ws[2] = {w[0], w[1]}, *bs[2] = {b[0], b[1]};
            LP_CHECK_OK(lpm_deconv3_phases(x, ws, bs, n_layers, &ph));
            if (ph) LP_CHECK_OK(lpm_shuffle2(ph, 0, &maps));
            for (int l = 0; l < n_layers && maps; ++l) {
                lp_tensor *part = NULL;
                double err = 0, worst = INFINITY;
                LP_CHECK_OK(lp_tensor_narrow(maps, 1, l ? cases[c].cout[0] : 0, cases[c].cout[l], &part));
                if (part) worst = excess(part, x, w[l], b[l], &err);
                printf("# %s: x (%lld, %lld, %lld, %lld), layer %d of %d (%lld channels): max |float - f64| "
                       "%.3g, worst (error - bound) %.3g\n",
                       vw == 16 ? "direct kernel, 16-float vectors"
                       : vw == 8 ? "direct kernel, 8-float vectors"
                                 : "oneDNN (the 8-float kernel leaves it)",
                       (long long)sx[0], (long long)sx[1], (long long)sx[2], (long long)sx[3], l + 1, n_layers,
                       (long long)cases[c].cout[l], err, worst);
                LP_CHECK(worst <= 0);
                lp_tensor_free(part);
            }
            lp_tensor *all[] = {x, w[0], w[1], b[0], b[1], ph, maps};
            for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
        }
    }
    unsetenv("LPOSE_SIMD_WIDTH");
    LP_CHECK(lpm_phase_conv_direct_width(65, 8, 8) == (lpm_simd_wide() ? 16 : 0));
    /* no frames: an empty result (libtorch's path), not the kernel's refusal */
    const int64_t s0[4] = {0, 68, 8, 8}, sw0[4] = {17, 17, 3, 3}, sb0[1] = {17};
    lp_tensor *x0 = NULL, *w0 = uniform(sw0, 4, 50), *b0 = uniform(sb0, 1, 51), *y0 = NULL;
    LP_CHECK_OK(lp_tensor_zeros(s0, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &x0));
    const lp_tensor *w0s[1] = {w0}, *b0s[1] = {b0};
    LP_CHECK_OK(lpm_phase_conv_shuffled(x0, w0s, b0s, 1, &y0));
    LP_CHECK(y0 && lp_tensor_size(y0, 0) == 0 && lp_tensor_size(y0, 1) == 68 && lp_tensor_size(y0, 3) == 16);
    lp_tensor *all0[] = {x0, w0, b0, y0};
    for (size_t i = 0; i < sizeof all0 / sizeof *all0; ++i) lp_tensor_free(all0[i]);
    LP_CHECK(lpm_phase_conv_direct_width(17, 12, 12) == 0 && lpm_phase_conv_direct_width(17, 3, 8) == 8);
}

/* max |a - b| over the elements (same shapes) */
static double max_abs_diff(const lp_tensor *a, const lp_tensor *b) {
    lp_tensor *d = NULL;
    MUST(lp_tensor_binary(LP_BINARY_SUB, a, b, &d));
    if (d) MUST(lp_tensor_unary_(LP_UNARY_ABS, d));
    double m = d ? lp_test_reduce(LP_REDUCE_AMAX, d) : INFINITY;
    lp_tensor_free(d);
    return m;
}

/* lpm_shuffle2 against lp_nn_pixel_shuffle and lp_nn_pad: the same values
 * bit for bit (both only move them), on a non-contiguous input too, with
 * more channels than threads' blocks and fewer. */
static void test_shuffle(void) {
    static const int64_t shapes[3][4] = {{3, 20, 5, 7}, {1, 4, 1, 1}, {2, 8, 16, 16}};
    static const int64_t pads[4] = {0, 1, 0, 1};
    for (int i = 0; i < 3; ++i) {
        lp_tensor *x = uniform(shapes[i], 4, 11 + (uint64_t)i), *xt = NULL, *ref = NULL, *refp = NULL;
        LP_CHECK_OK(lp_tensor_transpose(x, 2, 3, &xt)); /* (N, 4C, w, h), strided */
        for (int v = 0; v < 2; ++v) {
            const lp_tensor *in = v ? xt : x;
            LP_CHECK_OK(lp_nn_pixel_shuffle(in, 2, &ref));
            LP_CHECK_OK(lp_nn_pad(ref, pads, 4, LP_PAD_CONSTANT, 0.0, &refp));
            for (int32_t pad = 0; pad < 2; ++pad) {
                lp_tensor *got = NULL;
                LP_CHECK_OK(lpm_shuffle2(in, pad, &got));
                double d = -1;
                const lp_tensor *want = pad ? refp : ref;
                if (got && lp_tensor_dim(got) == 4 && lp_tensor_size(got, 2) == lp_tensor_size(want, 2) &&
                    lp_tensor_size(got, 3) == lp_tensor_size(want, 3))
                    d = max_abs_diff(got, want);
                printf("# shuffle (%lld, %lld, %lld, %lld)%s, pad %d: max |diff| %g\n", (long long)shapes[i][0],
                       (long long)shapes[i][1], (long long)shapes[i][v ? 3 : 2], (long long)shapes[i][v ? 2 : 3],
                       v ? " strided" : "", pad, d);
                LP_CHECK(d == 0);
                lp_tensor_free(got);
            }
            nnu_replace(&ref, NULL);
            nnu_replace(&refp, NULL);
        }
        lp_tensor_free(x);
        lp_tensor_free(xt);
    }
    lp_tensor *bad = NULL, *got = NULL;
    LP_CHECK_OK(lp_tensor_zeros((const int64_t[4]){1, 6, 2, 2}, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &bad));
    LP_CHECK_FAILS(lpm_shuffle2(bad, 0, &got), LP_STATUS_BAD_ARG, "lpm_shuffle2");
    lp_tensor_free(bad);
}

int main(void) {
    lp_runtime_init(2);
    test_subpixel();
    test_direct();
    test_shuffle();
    LP_DONE();
}
