/* test_nn.c: the shim's functional nn ops against golden values that
 * tests/fixtures/gen_fixtures.py computed with torch.nn.functional
 * (tests/fixtures/shim/nn.lpt). f64 inputs, so the tolerance is tight. */
#include <limits.h>
#include <unistd.h>

#include "lp_fixtures.h"
#include "lp_test.h"

static lp_tensor_list *load_fixture(const char *name) { return lp_fixture_load("shim", name); }

static lp_tensor_list *g_fx;

static lp_tensor *fx(const char *name) { return lp_fixture_tensor(g_fx, name); }

/* max |a - b|, or INFINITY when the shapes differ or a is missing */
static double maxdiff(const lp_tensor *a, const lp_tensor *b) {
    int64_t sa[LP_MAX_DIMS], sb[LP_MAX_DIMS];
    int32_t na = lp_tensor_shape(a, sa), nb = lp_tensor_shape(b, sb);
    if (na < 0 || na != nb || memcmp(sa, sb, sizeof(int64_t) * (size_t)na) != 0) return INFINITY;
    lp_tensor *d = NULL, *m = NULL;
    double v = INFINITY;
    if (lp_tensor_binary(LP_BINARY_SUB, a, b, &d) == LP_STATUS_OK && lp_tensor_unary_(LP_UNARY_ABS, d) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_AMAX, d, NULL, 0, 0, &m) == LP_STATUS_OK)
        lp_tensor_item(m, &v);
    lp_tensor_free(d);
    lp_tensor_free(m);
    return v;
}

/* Compare `got` with fixture `want_name`, then free `got`. */
static void expect(lp_tensor *got, const char *want_name, double tol) {
    lp_tensor *want = fx(want_name);
    double d = maxdiff(got, want);
    char what[128];
    snprintf(what, sizeof what, "%s matches torch (max diff %.3g)", want_name, d);
    lp_test_report(d <= tol, __FILE__, __LINE__, what);
    lp_tensor_free(want);
    lp_tensor_free(got);
}

static const double TOL = 1e-12;

static void test_conv(void) {
    lp_tensor *x = fx("conv.x"), *w = fx("conv.w"), *b = fx("conv.b"), *y = NULL;
    int64_t stride[2] = {2, 1}, pad[2] = {1, 2}, dil[2] = {1, 2};
    LP_CHECK_OK(lp_nn_conv2d(x, w, b, stride, pad, dil, 2, &y));
    expect(y, "conv.out", TOL);
    lp_tensor_free(x);
    lp_tensor_free(w);
    lp_tensor_free(b);

    x = fx("convt.x");
    w = fx("convt.w");
    b = fx("convt.b");
    int64_t s2[2] = {2, 2}, p10[2] = {1, 0}, op[2] = {1, 1};
    LP_CHECK_OK(lp_nn_conv_transpose2d(x, w, b, s2, p10, op, 2, NULL, &y));
    expect(y, "convt.out", TOL);
    lp_tensor_free(x);
    lp_tensor_free(w);
    lp_tensor_free(b);

    /* f32, no bias, default stride/dilation (NULL). Against the f64 convolution
     * of the same inputs, element by element within the f32 dot-product bound
     * gamma_n (|x| * |w|), gamma_n = n u / (1 - n u), u = 2^-24, n = 18 terms:
     * it holds for every summation order, with or without FMA, so on any CPU
     * (torch's f32 fixture carries its own rounding: 8.5e-7 from f64 here) */
    x = fx("conv32.x");
    w = fx("conv32.w");
    int64_t p1[2] = {1, 1};
    LP_CHECK_OK(lp_nn_conv2d(x, w, NULL, NULL, p1, NULL, 1, &y));
    LP_CHECK(lp_tensor_dtype(y) == LP_DTYPE_F32);
    lp_tensor *x64 = NULL, *w64 = NULL, *y64 = NULL, *ax = NULL, *aw = NULL, *bound = NULL, *got = NULL, *err = NULL;
    LP_CHECK_OK(lp_tensor_to(x, LP_DTYPE_F64, LP_DEVICE_CPU, &x64));
    LP_CHECK_OK(lp_tensor_to(w, LP_DTYPE_F64, LP_DEVICE_CPU, &w64));
    LP_CHECK_OK(lp_nn_conv2d(x64, w64, NULL, NULL, p1, NULL, 1, &y64));
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ABS, x64, &ax));
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ABS, w64, &aw));
    LP_CHECK_OK(lp_nn_conv2d(ax, aw, NULL, NULL, p1, NULL, 1, &bound));
    const double n_terms = 2 * 3 * 3, u = 0x1p-24;
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, bound, n_terms * u / (1 - n_terms * u)));
    LP_CHECK_OK(lp_tensor_to(y, LP_DTYPE_F64, LP_DEVICE_CPU, &got));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, got, y64, &err));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_ABS, err));
    LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_SUB, err, bound));
    double excess = INFINITY;
    lp_tensor *m = NULL, *torch32 = fx("conv32.out");
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_AMAX, err, NULL, 0, 0, &m));
    LP_CHECK_OK(lp_tensor_item(m, &excess));
    printf("# conv32: largest |f32 - f64| - gamma_n (|x| * |w|) = %.3g (<= 0: within the bound); vs torch's f32 %.3g\n",
           excess, maxdiff(y, torch32));
    LP_CHECK(excess <= 0);
    lp_tensor *tmp[] = {x64, w64, y64, ax, aw, bound, got, err, m, torch32, y};
    for (size_t i = 0; i < sizeof tmp / sizeof *tmp; ++i) lp_tensor_free(tmp[i]);
    lp_tensor_free(x);
    lp_tensor_free(w);
}

static void test_batch_norm(void) {
    lp_tensor *x = fx("bn.x"), *w = fx("bn.w"), *b = fx("bn.b"), *rm = fx("bn.rm0"), *rv = fx("bn.rv0"), *y = NULL;
    LP_CHECK_OK(lp_nn_batch_norm(x, w, b, rm, rv, 1, 0.1, 1e-5, &y));
    expect(y, "bn.train_out", TOL);
    /* training updated the running stats in place */
    lp_tensor *want = fx("bn.rm1");
    LP_CHECK(maxdiff(rm, want) <= TOL);
    lp_tensor_free(want);
    want = fx("bn.rv1");
    LP_CHECK(maxdiff(rv, want) <= TOL);
    lp_tensor_free(want);
    /* eval uses them and leaves them alone */
    LP_CHECK_OK(lp_nn_batch_norm(x, w, b, rm, rv, 0, 0.1, 1e-5, &y));
    expect(y, "bn.eval_out", TOL);
    want = fx("bn.rm1");
    LP_CHECK(maxdiff(rm, want) == 0);
    lp_tensor_free(want);
    /* no affine, no running stats, training */
    LP_CHECK_OK(lp_nn_batch_norm(x, NULL, NULL, NULL, NULL, 1, 0.1, 1e-5, &y));
    LP_CHECK(lp_tensor_numel(y) == lp_tensor_numel(x));
    lp_tensor_free(y);
    lp_tensor_free(x);
    lp_tensor_free(w);
    lp_tensor_free(b);
    lp_tensor_free(rm);
    lp_tensor_free(rv);
}

static void test_pools(void) {
    lp_tensor *x = fx("pool.x"), *y = NULL;
    int64_t k32[2] = {3, 2}, k33[2] = {3, 3}, s2[2] = {2, 2}, p1[2] = {1, 1}, o35[2] = {3, 5};
    LP_CHECK_OK(lp_nn_max_pool2d(x, k32, s2, p1, NULL, 1, &y));
    expect(y, "pool.max", 0);
    LP_CHECK_OK(lp_nn_avg_pool2d(x, k33, s2, p1, 0, 0, &y));
    expect(y, "pool.avg", TOL);
    LP_CHECK_OK(lp_nn_adaptive_avg_pool2d(x, o35, &y));
    expect(y, "pool.adaptive", TOL);
    /* stride NULL defaults to the kernel */
    int64_t k2[2] = {2, 2}, e[4] = {2, 3, 3, 4}, got[LP_MAX_DIMS];
    LP_CHECK_OK(lp_nn_max_pool2d(x, k2, NULL, NULL, NULL, 0, &y));
    LP_CHECK(lp_tensor_shape(y, got) == 4 && memcmp(got, e, sizeof e) == 0);
    lp_tensor_free(y);
    lp_tensor_free(x);

    x = fx("shuffle.x");
    LP_CHECK_OK(lp_nn_pixel_shuffle(x, 2, &y));
    expect(y, "shuffle.out", 0);
    lp_tensor_free(x);
}

static void test_interpolate(void) {
    lp_tensor *x = fx("interp.x"), *y = NULL;
    int64_t s79[2] = {7, 9}, s411[2] = {4, 11}, s810[2] = {8, 10}, s34[2] = {3, 4}, s97[2] = {9, 7};
    LP_CHECK_OK(lp_nn_interpolate(x, s79, LP_INTERP_BILINEAR, 0, &y));
    expect(y, "interp.bilinear", TOL);
    LP_CHECK_OK(lp_nn_interpolate(x, s411, LP_INTERP_BILINEAR, 1, &y));
    expect(y, "interp.bilinear_ac", TOL);
    LP_CHECK_OK(lp_nn_interpolate(x, s810, LP_INTERP_BICUBIC, 0, &y));
    expect(y, "interp.bicubic", TOL);
    LP_CHECK_OK(lp_nn_interpolate(x, s34, LP_INTERP_BICUBIC, 1, &y));
    expect(y, "interp.bicubic_ac", TOL);
    LP_CHECK_OK(lp_nn_interpolate(x, s97, LP_INTERP_NEAREST, 0, &y));
    expect(y, "interp.nearest", 0);
    /* 3-dim input (C, H, W) resizes each plane the same way */
    lp_tensor *x0 = NULL, *y0 = NULL, *want = NULL, *w0 = NULL;
    LP_CHECK_OK(lp_tensor_select(x, 0, 1, &x0));
    LP_CHECK_OK(lp_nn_interpolate(x0, s79, LP_INTERP_BILINEAR, 0, &y0));
    want = fx("interp.bilinear");
    LP_CHECK_OK(lp_tensor_select(want, 0, 1, &w0));
    LP_CHECK(maxdiff(y0, w0) <= TOL);
    lp_tensor_free(x0);
    lp_tensor_free(y0);
    lp_tensor_free(want);
    lp_tensor_free(w0);
    lp_tensor_free(x);
}

static void test_pad_softmax(void) {
    lp_tensor *x = fx("pad.x"), *y = NULL;
    int64_t pc[4] = {1, 2, 0, 3}, pr[4] = {2, 1, 3, 1}, pp[4] = {1, 1, 2, 2};
    LP_CHECK_OK(lp_nn_pad(x, pc, 4, LP_PAD_CONSTANT, 0.5, &y));
    expect(y, "pad.constant", 0);
    LP_CHECK_OK(lp_nn_pad(x, pr, 4, LP_PAD_REFLECT, 0, &y));
    expect(y, "pad.reflect", 0);
    LP_CHECK_OK(lp_nn_pad(x, pp, 4, LP_PAD_REPLICATE, 0, &y));
    expect(y, "pad.replicate", 0);
    lp_tensor_free(x);

    x = fx("softmax.x");
    LP_CHECK_OK(lp_nn_softmax(x, 1, &y));
    expect(y, "softmax.out", TOL);
    LP_CHECK_OK(lp_nn_log_softmax(x, -1, &y));
    expect(y, "log_softmax.out", TOL);
    lp_tensor_free(x);
}

int main(void) {
    lp_runtime_init(0);
    g_fx = load_fixture("nn.lpt");
    if (!LP_CHECK(g_fx != NULL)) LP_DONE(); /* fixtures are committed: missing is a failure */
    LP_CHECK(strstr(lp_tensor_list_meta(g_fx), "torch") != NULL);
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    test_conv();
    test_batch_norm();
    test_pools();
    test_interpolate();
    test_pad_softmax();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors);
    lp_tensor_list_free(g_fx);
    LP_DONE();
}
