/* test_fold.c: batch norm folded into the convolution for inference
 * (engine/src/model/model_fold.c). The folded f32 layer is checked against an f64
 * conv + batch norm with a bound from the arithmetic
 * (docs/developer/numerical-tests.md): each output is a sum of n = C_in*k*k
 * products of f32-rounded folded weights with inputs, plus the folded bias,
 * so |f32 - exact| <= gamma_{n+2} * (conv(|x|, |W s|) + |b'|). */
#include "lp_test.h"
#include "model/model_internal.h"

static const double U = 0x1p-24;

static double gamma_n(double n) { return n * U / (1 - n * U); }

/* t <- values drawn uniformly from [lo, hi); 1 on success */
static int fill_uniform(lp_tensor *t, double lo, double hi, uint64_t seed) {
    int64_t shape[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(t, shape);
    lp_tensor *r = NULL;
    int ok = lp_tensor_rand(shape, nd, LP_DTYPE_F32, LP_DEVICE_CPU, (int64_t)seed, &r) == LP_STATUS_OK &&
             lp_tensor_binary_scalar_(LP_BINARY_MUL, r, hi - lo) == LP_STATUS_OK &&
             lp_tensor_binary_scalar_(LP_BINARY_ADD, r, lo) == LP_STATUS_OK && lp_tensor_copy_(t, r) == LP_STATUS_OK;
    lp_tensor_free(r);
    return ok;
}

static lp_tensor *f64(const lp_tensor *t) {
    lp_tensor *out = NULL;
    LP_CHECK_OK(lp_tensor_to(t, LP_DTYPE_F64, LP_DEVICE_CPU, &out));
    return out;
}

static double amax(const lp_tensor *t) { return lp_test_reduce(LP_REDUCE_AMAX, t); }

/* max over elements of (|got - exact| - bound): <= 0 when within the bound.
 * exact = bn(conv(x, W)) in f64; bound = gamma_{n+2} (conv(|x|, |W s|) + |b'|). */
static double excess_over_bound(const lpm_params *reg, const lpm_conv *c, const lpm_bn *bn,
                                const lp_tensor *x, const lp_tensor *got, double *err_max) {
    lp_tensor *x64 = f64(x), *w64 = f64(lpm_params_at(reg, c->w));
    lp_tensor *g = f64(lpm_params_at(reg, bn->w)), *b = f64(lpm_params_at(reg, bn->b));
    lp_tensor *mean = f64(lpm_params_at(reg, bn->mean)), *var = f64(lpm_params_at(reg, bn->var));
    lp_tensor *z = NULL, *exact = NULL, *s = NULL, *s4 = NULL, *ws = NULL, *ax = NULL, *bound = NULL;
    lp_tensor *bias = NULL, *b4 = NULL, *g64 = NULL, *err = NULL;
    const int64_t pad[2] = {1, 1};
    LP_CHECK_OK(lp_nn_conv2d(x64, w64, NULL, NULL, pad, NULL, 1, &z));
    LP_CHECK_OK(lp_nn_batch_norm(z, g, b, mean, var, 0, 0.1, 1e-5, &exact));
    /* s = gamma / sqrt(var + eps), |W s|, b' = beta - mean s */
    LP_CHECK_OK(lp_tensor_binary_scalar(LP_BINARY_ADD, var, 1e-5, 0, &s));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_RSQRT, s));
    LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_MUL, s, g));
    const int64_t shape4[4] = {lp_tensor_size(s, 0), 1, 1, 1};
    LP_CHECK_OK(lp_tensor_view(s, shape4, 4, &s4));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, w64, s4, &ws));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_ABS, ws));
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ABS, x64, &ax));
    LP_CHECK_OK(lp_nn_conv2d(ax, ws, NULL, NULL, pad, NULL, 1, &bound));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, mean, s, &bias));
    LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_SUB, bias, b));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_ABS, bias));
    const int64_t shape_b[4] = {1, lp_tensor_size(bias, 0), 1, 1};
    LP_CHECK_OK(lp_tensor_view(bias, shape_b, 4, &b4));
    LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_ADD, bound, b4));
    const double n = (double)(lp_tensor_size(w64, 1) * lp_tensor_size(w64, 2) * lp_tensor_size(w64, 3));
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, bound, gamma_n(n + 2)));
    g64 = f64(got);
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, g64, exact, &err));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_ABS, err));
    *err_max = amax(err);
    LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_SUB, err, bound));
    double excess = amax(err);
    lp_tensor *all[] = {x64, w64, g, b, mean, var, z, exact, s, s4, ws, ax, bound, bias, b4, g64, err};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    return excess;
}

static void test_layer(void) {
    lpm_params reg;
    memset(&reg, 0, sizeof reg);
    lpm_conv c;
    lpm_bn bn;
    const int64_t wshape[4] = {16, 32, 3, 3};
    LP_CHECK_OK(lpm_add_conv(&reg, "conv", wshape, 0, &c));
    LP_CHECK_OK(lpm_add_bn(&reg, "bn", 16, &bn));
    LP_CHECK(fill_uniform(lpm_params_at(&reg, c.w), -0.2, 0.2, 1) &&
             fill_uniform(lpm_params_at(&reg, bn.w), 0.5, 2.0, 2) &&
             fill_uniform(lpm_params_at(&reg, bn.b), -1.0, 1.0, 3) &&
             fill_uniform(lpm_params_at(&reg, bn.mean), -0.5, 0.5, 4) &&
             fill_uniform(lpm_params_at(&reg, bn.var), 0.01, 3.0, 5)); /* small variances: large scales */
    lp_tensor *x = NULL, *y = NULL;
    const int64_t xshape[4] = {2, 32, 12, 12};
    LP_CHECK_OK(lp_tensor_randn(xshape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 6, &x));

    /* not folded while training, with grad mode on, or when switched off */
    lp_grad_set_enabled(1);
    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 0, &y));
    LP_CHECK(y == NULL);
    lp_grad_set_enabled(0);
    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 1, &y));
    LP_CHECK(y == NULL);
    reg.no_fold = 1;
    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 0, &y));
    LP_CHECK(y == NULL);
    reg.no_fold = 0;

    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 0, &y));
    LP_CHECK(y != NULL);
    double err = 0, excess = excess_over_bound(&reg, &c, &bn, x, y, &err);
    printf("# folded conv+bn: largest |f32 - f64| %.3g, largest excess over gamma_n bound %.3g (<= 0 holds)\n",
           err, excess);
    LP_CHECK(excess <= 0);
    lp_tensor_free(y);
    y = NULL;

    /* an in-place change of a buffer refolds: the running variance x4 halves
     * the normalised outputs, far outside the bound if the cache were stale */
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, lpm_params_at(&reg, bn.var), 4.0));
    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 0, &y));
    excess = excess_over_bound(&reg, &c, &bn, x, y, &err);
    printf("# after var *= 4: excess over the bound %.3g\n", excess);
    LP_CHECK(excess <= 0);
    lp_tensor_free(y);
    y = NULL;
    /* so does a weight update (an optimizer step is an in-place op) */
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, lpm_params_at(&reg, c.w), -1.0));
    LP_CHECK_OK(lpm_conv_bn_folded(&reg, &c, &bn, x, 1, 1, 0, &y));
    excess = excess_over_bound(&reg, &c, &bn, x, y, &err);
    LP_CHECK(excess <= 0);
    lp_tensor_free(y);
    lp_grad_set_enabled(1);
    lp_tensor_free(x);
    lpm_params_clear(&reg);
}

/* The whole model: eval inference folded equals unfolded within rounding, and
 * follows a change of the weights. Rounding: 17 conv layers, each within
 * gamma_4608 ~ 2.7e-4 of its inputs' scale (the largest fan-in, 3x3x512);
 * a stale cache after var *= 4 is off by O(1). The tolerance 1e-2 of the
 * largest value sits between the two. */
static void test_model(void) {
    lp_model *m = lp_test_model(LP_MODEL_TYPE_HEATMAP, LP_BACKBONE_RESNET18, 4, 64, 64, 3);
    if (!LP_CHECK(m != NULL)) return;
    /* non-trivial batch norm statistics everywhere */
    int32_t n = lp_model_n_tensors(m);
    int filled = 1;
    for (int32_t i = 0; i < n; ++i) {
        const char *name = lp_model_tensor_name(m, i);
        lp_tensor *t = NULL;
        if (lp_model_tensor(m, i, &t) != LP_STATUS_OK) filled = 0;
        char sibling[256];
        size_t len = strlen(name);
        int is_bias = len > 5 && strcmp(name + len - 5, ".bias") == 0;
        snprintf(sibling, sizeof sibling, "%.*s.running_mean", (int)(len > 5 ? len - 5 : 0), name);
        if (strstr(name, "running_var")) filled &= fill_uniform(t, 0.5, 2.0, 100 + (uint64_t)i);
        else if (strstr(name, "running_mean")) filled &= fill_uniform(t, -0.2, 0.2, 100 + (uint64_t)i);
        else if (is_bias && lp_model_find_tensor(m, sibling) >= 0)
            filled &= fill_uniform(t, -0.2, 0.2, 100 + (uint64_t)i);
        lp_tensor_free(t);
    }
    LP_CHECK(filled);
    LP_CHECK_OK(lp_model_set_training(m, 0));
    lp_tensor *x = NULL, *a = NULL, *b = NULL, *d = NULL;
    const int64_t xshape[4] = {2, 3, 64, 64};
    LP_CHECK_OK(lp_tensor_randn(xshape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 9, &x));
    lp_grad_set_enabled(0);
    for (int round = 0; round < 2; ++round) {
        LP_CHECK_OK(lp_model_set_fold_batch_norm(m, 0));
        LP_CHECK_OK(lp_model_forward_backbone(m, x, &a));
        LP_CHECK_OK(lp_model_set_fold_batch_norm(m, 1));
        LP_CHECK_OK(lp_model_forward_backbone(m, x, &b));
        LP_CHECK(a && b && lp_tensor_is_contiguous(b));
        LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, a, b, &d));
        double diff = amax(d), scale = amax(a);
        printf("# backbone folded vs unfolded (round %d): max diff %.3g of max %.3g\n", round, diff, scale);
        LP_CHECK(diff <= 1e-2 * scale);
        lp_tensor_free(a);
        lp_tensor_free(b);
        lp_tensor_free(d);
        a = b = d = NULL;
        /* change every running variance in place: the next round must follow */
        int scaled = 1;
        for (int32_t i = 0; i < n; ++i) {
            if (!strstr(lp_model_tensor_name(m, i), "running_var")) continue;
            lp_tensor *t = NULL;
            scaled &= lp_model_tensor(m, i, &t) == LP_STATUS_OK &&
                      lp_tensor_binary_scalar_(LP_BINARY_MUL, t, 4.0) == LP_STATUS_OK;
            lp_tensor_free(t);
        }
        LP_CHECK(scaled);
    }
    lp_grad_set_enabled(1);
    LP_CHECK_FAILS(lp_model_set_fold_batch_norm(NULL, 1), LP_STATUS_BAD_ARG, "lp_model_set_fold_batch_norm");
    lp_tensor_free(x);
    lp_model_free(m);
}

int main(void) {
    lp_runtime_init(2);
    test_layer();
    test_model();
    LP_DONE();
}
