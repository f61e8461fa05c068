/* test_autograd.c: finite-difference gradient checks (f64, central
 * differences, as nn's Jacobian tests) of the shim's differentiable ops, and
 * the autograd API: requires_grad, backward, grad, zero_grad, detach, grad
 * mode. */
#include "lp_test.h"

/* ---------------------------------------------------------------- helpers */

/* f64 tensor of `shape` holding sin(a * i + b): smooth, tie-free values */
static lp_tensor *wave(const int64_t *shape, int32_t ndim, double a, double b) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) v[i] = sin(a * (double)i + b);
    lp_tensor *t = NULL;
    lp_tensor_from_buffer(v, LP_DTYPE_F64, shape, ndim, &t);
    free(v);
    return t;
}

typedef lp_tensor *(*op_fn)(lp_tensor *const *in, const void *ctx);

/* loss = sum(op(inputs) * R) with fixed weights R, so every output element
 * gets a different weight; NULL on failure. */
static lp_tensor *weighted_loss(op_fn f, lp_tensor *const *in, const void *ctx) {
    lp_tensor *out = f(in, ctx), *r = NULL, *m = NULL, *s = NULL;
    if (!out) return NULL;
    int64_t shp[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(out, shp);
    r = wave(shp, nd, 0.7, 0.1);
    if (lp_tensor_binary(LP_BINARY_MUL, out, r, &m) == LP_STATUS_OK)
        lp_tensor_reduce(LP_REDUCE_SUM, m, NULL, 0, 0, &s);
    lp_tensor_free(out);
    lp_tensor_free(r);
    lp_tensor_free(m);
    return s;
}

static double eval_loss(op_fn f, lp_tensor *const *in, const void *ctx) {
    lp_tensor *l = weighted_loss(f, in, ctx);
    double v = NAN;
    if (l) lp_tensor_item(l, &v);
    lp_tensor_free(l);
    return v;
}

/* Compare autograd's gradient with central differences for every element of
 * every input; one TAP line per input. Inputs must be contiguous f64. */
static void gradcheck(const char *name, op_fn f, lp_tensor *const *in, int n_in, const void *ctx) {
    for (int i = 0; i < n_in; i++) {
        lp_tensor_zero_grad(in[i]);
        lp_tensor_set_requires_grad(in[i], 1);
    }
    lp_tensor *loss = weighted_loss(f, in, ctx);
    lp_status st = loss ? lp_tensor_backward(loss, NULL, 0) : LP_STATUS_INTERNAL;
    lp_tensor_free(loss);
    const double h = 1e-6, tol = 1e-6;
    for (int i = 0; i < n_in; i++) {
        char what[128];
        lp_tensor *g = NULL;
        double worst = INFINITY;
        int64_t n = lp_tensor_numel(in[i]);
        double *ga = malloc(sizeof(double) * (size_t)n);
        double *x = NULL;
        if (st == LP_STATUS_OK && lp_tensor_grad(in[i], &g) == LP_STATUS_OK && g &&
            lp_tensor_to_buffer(g, ga, n * 8) == LP_STATUS_OK &&
            lp_tensor_data_ptr(in[i], (void **)&x) == LP_STATUS_OK) {
            worst = 0;
            lp_grad_set_enabled(0);
            for (int64_t j = 0; j < n; j++) {
                double x0 = x[j];
                x[j] = x0 + h;
                double lp = eval_loss(f, in, ctx);
                x[j] = x0 - h;
                double lm = eval_loss(f, in, ctx);
                x[j] = x0;
                double num = (lp - lm) / (2 * h);
                double err = fabs(num - ga[j]) / fmax(1.0, fabs(ga[j]));
                if (!(err <= worst)) worst = err; /* NaN propagates */
            }
            lp_grad_set_enabled(1);
        }
        snprintf(what, sizeof what, "gradcheck %s input %d (rel err %.2g)", name, i, worst);
        lp_test_report(worst <= tol, __FILE__, __LINE__, what);
        lp_tensor_free(g);
        free(ga);
    }
}

/* ---------------------------------------------------------------- ops under test */

typedef struct {
    int64_t stride[2], padding[2], dilation[2], out_pad[2], groups;
} conv_ctx;

static lp_tensor *f_conv2d(lp_tensor *const *in, const void *c) {
    const conv_ctx *k = c;
    lp_tensor *y = NULL;
    lp_nn_conv2d(in[0], in[1], in[2], k->stride, k->padding, k->dilation, k->groups, &y);
    return y;
}

static lp_tensor *f_conv_t(lp_tensor *const *in, const void *c) {
    const conv_ctx *k = c;
    lp_tensor *y = NULL;
    lp_nn_conv_transpose2d(in[0], in[1], in[2], k->stride, k->padding, k->out_pad, k->groups, k->dilation, &y);
    return y;
}

static lp_tensor *f_batch_norm(lp_tensor *const *in, const void *c) {
    lp_tensor *y = NULL;
    (void)c;
    lp_nn_batch_norm(in[0], in[1], in[2], NULL, NULL, 1, 0.1, 1e-5, &y);
    return y;
}

typedef struct {
    int64_t size[2];
    lp_interp_mode mode;
    int32_t align;
} interp_ctx;

static lp_tensor *f_interp(lp_tensor *const *in, const void *c) {
    const interp_ctx *k = c;
    lp_tensor *y = NULL;
    lp_nn_interpolate(in[0], k->size, k->mode, k->align, &y);
    return y;
}

typedef struct {
    int kind; /* 0: lp_tensor_reduce, 1: std, 2: var, 3: norm */
    int op;
    int64_t dims[2];
    int32_t n_dims, keepdim, correction;
    double p;
} red_ctx;

static lp_tensor *f_reduce(lp_tensor *const *in, const void *c) {
    const red_ctx *k = c;
    lp_tensor *y = NULL;
    switch (k->kind) {
    case 0: lp_tensor_reduce((lp_reduce_op)k->op, in[0], k->dims, k->n_dims, k->keepdim, &y); break;
    case 1: lp_tensor_std(in[0], k->dims, k->n_dims, k->correction, k->keepdim, &y); break;
    case 2: lp_tensor_var(in[0], k->dims, k->n_dims, k->correction, k->keepdim, &y); break;
    case 3: lp_tensor_norm(in[0], k->p, k->dims, k->n_dims, k->keepdim, &y); break;
    }
    return y;
}

static lp_tensor *f_softmax(lp_tensor *const *in, const void *c) {
    lp_tensor *y = NULL;
    if (c)
        lp_nn_log_softmax(in[0], 1, &y);
    else
        lp_nn_softmax(in[0], -1, &y);
    return y;
}

static lp_tensor *f_matmul_tanh(lp_tensor *const *in, const void *c) {
    lp_tensor *m = NULL, *y = NULL;
    (void)c;
    lp_tensor_matmul(in[0], in[1], &m);
    if (m) lp_tensor_unary(LP_UNARY_TANH, m, &y);
    lp_tensor_free(m);
    return y;
}

static lp_tensor *f_pool_pad(lp_tensor *const *in, const void *c) {
    int64_t k[2] = {3, 2}, s[2] = {2, 1}, pads[4] = {1, 2, 2, 1};
    lp_tensor *p = NULL, *y = NULL;
    (void)c;
    lp_nn_pad(in[0], pads, 4, LP_PAD_REFLECT, 0, &p);
    if (p) lp_nn_avg_pool2d(p, k, s, NULL, 0, 1, &y);
    lp_tensor_free(p);
    return y;
}

static void test_gradchecks(void) {
    { /* conv2d, groups 2, stride/padding/dilation */
        int64_t sx[4] = {2, 4, 5, 6}, sw[4] = {6, 2, 3, 3}, sb[1] = {6};
        lp_tensor *in[3] = {wave(sx, 4, 0.37, 0), wave(sw, 4, 0.91, 0.3), wave(sb, 1, 1.3, 0)};
        conv_ctx c = {{2, 1}, {1, 1}, {1, 2}, {0, 0}, 2};
        gradcheck("conv2d", f_conv2d, in, 3, &c);
        for (int i = 0; i < 3; i++) lp_tensor_free(in[i]);
    }
    { /* conv_transpose2d with groups */
        int64_t sx[4] = {1, 4, 3, 4}, sw[4] = {4, 2, 3, 3}, sb[1] = {4};
        lp_tensor *in[3] = {wave(sx, 4, 0.53, 0), wave(sw, 4, 0.77, 0.1), wave(sb, 1, 0.9, 0)};
        conv_ctx c = {{2, 2}, {1, 1}, {1, 1}, {1, 0}, 2};
        gradcheck("conv_transpose2d groups=2", f_conv_t, in, 3, &c);
        for (int i = 0; i < 3; i++) lp_tensor_free(in[i]);
    }
    { /* batch_norm, training mode */
        int64_t sx[4] = {3, 2, 3, 3}, sc[1] = {2};
        lp_tensor *in[3] = {wave(sx, 4, 0.29, 0.2), wave(sc, 1, 0.7, 1.0), wave(sc, 1, 1.1, 0)};
        gradcheck("batch_norm train", f_batch_norm, in, 3, NULL);
        for (int i = 0; i < 3; i++) lp_tensor_free(in[i]);
    }
    { /* interpolate */
        int64_t sx[4] = {1, 2, 4, 5};
        lp_tensor *x = wave(sx, 4, 0.45, 0);
        interp_ctx bl = {{7, 6}, LP_INTERP_BILINEAR, 0}, bla = {{3, 8}, LP_INTERP_BILINEAR, 1};
        interp_ctx bc = {{7, 6}, LP_INTERP_BICUBIC, 0}, bca = {{6, 9}, LP_INTERP_BICUBIC, 1};
        gradcheck("interpolate bilinear", f_interp, &x, 1, &bl);
        gradcheck("interpolate bilinear align_corners", f_interp, &x, 1, &bla);
        gradcheck("interpolate bicubic", f_interp, &x, 1, &bc);
        gradcheck("interpolate bicubic align_corners", f_interp, &x, 1, &bca);
        lp_tensor_free(x);
    }
    { /* reductions */
        int64_t sx[3] = {3, 4, 5};
        lp_tensor *x = wave(sx, 3, 0.61, 0.3);
        red_ctx cases[] = {
            {0, LP_REDUCE_SUM, {1, 0}, 1, 0, 0, 0},      {0, LP_REDUCE_MEAN, {0, 0}, 0, 0, 0, 0},
            {0, LP_REDUCE_MEAN, {0, 2}, 2, 1, 0, 0},     {1, 0, {0, 0}, 1, 0, 1, 0},
            {1, 0, {0, 0}, 0, 0, 0, 0},                  {2, 0, {1, 0}, 1, 1, 1, 0},
            {2, 0, {-1, 0}, 1, 0, 0, 0},                 {3, 0, {1, 0}, 1, 0, 0, 2},
            {3, 0, {0, 2}, 2, 1, 0, 3},                  {3, 0, {0, 0}, 0, 0, 0, 2},
            {0, LP_REDUCE_LOGSUMEXP, {-1, 0}, 1, 0, 0, 0}, {0, LP_REDUCE_LOGSUMEXP, {0, 1}, 2, 1, 0, 0},
            {0, LP_REDUCE_AMAX, {1, 0}, 1, 0, 0, 0},     {0, LP_REDUCE_AMAX, {0, 0}, 0, 0, 0, 0},
        };
        const char *names[] = {"sum dim 1",     "mean all",       "mean dims 0,2 keepdim", "std dim 0",
                               "std all biased", "var dim 1 keepdim", "var dim -1 biased", "norm 2 dim 1",
                               "norm 3 dims 0,2", "norm 2 all",   "logsumexp dim -1",  "logsumexp dims 0,1",
                               "amax dim 1",    "amax all"};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            char nm[64];
            snprintf(nm, sizeof nm, "reduce %s", names[k]);
            gradcheck(nm, f_reduce, &x, 1, &cases[k]);
        }
        lp_tensor_free(x);
    }
    { /* a few more ops used by models and losses */
        int64_t sx[2] = {3, 5}, sa[2] = {3, 4}, sb[2] = {4, 2}, sp[4] = {1, 2, 5, 6};
        lp_tensor *x = wave(sx, 2, 0.8, 0);
        gradcheck("softmax", f_softmax, &x, 1, NULL);
        gradcheck("log_softmax", f_softmax, &x, 1, "log");
        lp_tensor_free(x);
        lp_tensor *mm[2] = {wave(sa, 2, 0.3, 0), wave(sb, 2, 0.5, 1)};
        gradcheck("matmul+tanh", f_matmul_tanh, mm, 2, NULL);
        lp_tensor_free(mm[0]);
        lp_tensor_free(mm[1]);
        x = wave(sp, 4, 0.4, 0);
        gradcheck("reflect pad + avg_pool2d", f_pool_pad, &x, 1, NULL);
        lp_tensor_free(x);
    }
}

/* ---------------------------------------------------------------- autograd API */

static void test_api(void) {
    double xv[3] = {1, 2, 3};
    int64_t n3 = 3;
    lp_tensor *x = NULL, *sq = NULL, *s = NULL, *g = NULL;
    lp_tensor_from_buffer(xv, LP_DTYPE_F64, &n3, 1, &x);
    LP_CHECK(!lp_tensor_requires_grad(x));
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    LP_CHECK(g == NULL); /* no grad yet: NULL and OK */
    LP_CHECK_OK(lp_tensor_set_requires_grad(x, 1));
    LP_CHECK(lp_tensor_requires_grad(x) && lp_tensor_is_leaf(x));

    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_SQUARE, x, &sq));
    LP_CHECK(lp_tensor_requires_grad(sq) && !lp_tensor_is_leaf(sq));
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_SUM, sq, NULL, 0, 0, &s));
    LP_CHECK_OK(lp_tensor_backward(s, NULL, 1)); /* retain for a second pass */
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    double gv[3] = {0};
    LP_CHECK(g && lp_tensor_to_buffer(g, gv, sizeof gv) == LP_STATUS_OK);
    LP_CHECK(gv[0] == 2 && gv[1] == 4 && gv[2] == 6);
    lp_tensor_free(g);
    g = NULL;
    lp_tensor *ng = NULL;
    LP_CHECK_OK(lp_tensor_grad(sq, &ng)); /* non-leaf: no .grad */
    LP_CHECK(ng == NULL);
    LP_CHECK_OK(lp_tensor_backward(s, NULL, 0)); /* gradients accumulate */
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    LP_CHECK(g && lp_tensor_to_buffer(g, gv, sizeof gv) == LP_STATUS_OK && gv[2] == 12);
    lp_tensor_free(g);
    g = NULL;
    LP_CHECK_OK(lp_tensor_zero_grad(x));
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    LP_CHECK(g == NULL);
    lp_tensor_free(s);

    /* explicit grad for a non-scalar output */
    double ov[3] = {1, 10, 100};
    lp_tensor *o = NULL;
    lp_tensor_from_buffer(ov, LP_DTYPE_F64, &n3, 1, &o);
    lp_tensor_free(sq); /* its graph was freed by the last backward: build it again */
    sq = NULL;
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_SQUARE, x, &sq));
    LP_CHECK_OK(lp_tensor_backward(sq, o, 0));
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    LP_CHECK(g && lp_tensor_to_buffer(g, gv, sizeof gv) == LP_STATUS_OK && gv[0] == 2 && gv[1] == 40 && gv[2] == 600);
    lp_tensor_free(g);
    g = NULL;
    lp_tensor_free(o);
    lp_tensor_free(sq);
    lp_tensor_zero_grad(x);

    /* views keep the graph */
    int64_t s31[2] = {3, 1};
    lp_tensor *v = NULL, *vs = NULL;
    LP_CHECK_OK(lp_tensor_view(x, s31, 2, &v));
    LP_CHECK(lp_tensor_requires_grad(v));
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_SUM, v, NULL, 0, 0, &vs));
    LP_CHECK_OK(lp_tensor_backward(vs, NULL, 0));
    LP_CHECK_OK(lp_tensor_grad(x, &g));
    LP_CHECK(g && lp_tensor_to_buffer(g, gv, sizeof gv) == LP_STATUS_OK && gv[0] == 1 && gv[2] == 1);
    lp_tensor_free(g);
    g = NULL;
    lp_tensor_free(v);
    lp_tensor_free(vs);

    /* detach: same values, no graph */
    lp_tensor *d = NULL, *d2 = NULL;
    LP_CHECK_OK(lp_tensor_detach(x, &d));
    LP_CHECK(!lp_tensor_requires_grad(d) && lp_tensor_is_leaf(d));
    LP_CHECK_OK(lp_tensor_binary_scalar(LP_BINARY_MUL, d, 2, 0, &d2));
    LP_CHECK(!lp_tensor_requires_grad(d2));
    lp_tensor_free(d);
    lp_tensor_free(d2);

    /* grad mode off: no graph is built; the mode is restored */
    lp_grad_set_enabled(0);
    LP_CHECK(lp_grad_is_enabled() == 0);
    lp_tensor *y = NULL;
    LP_CHECK_OK(lp_tensor_binary_scalar(LP_BINARY_MUL, x, 3, 0, &y));
    LP_CHECK(!lp_tensor_requires_grad(y) && lp_tensor_is_leaf(y));
    lp_grad_set_enabled(1);
    LP_CHECK(lp_grad_is_enabled() == 1);
    double yv[3] = {0};
    LP_CHECK(lp_tensor_to_buffer(y, yv, sizeof yv) == LP_STATUS_OK && yv[2] == 9);
    lp_tensor_free(y);

    /* parameter initialisers work on leaves that require grad */
    LP_CHECK_OK(lp_tensor_fill_(x, 0.5));
    LP_CHECK_OK(lp_tensor_normal_(x, 0, 1, 3));
    LP_CHECK_OK(lp_tensor_uniform_(x, -1, 1, 3));
    LP_CHECK(lp_tensor_requires_grad(x) && lp_tensor_is_leaf(x));
    LP_CHECK_OK(lp_tensor_set_requires_grad(x, 0));
    LP_CHECK(!lp_tensor_requires_grad(x));
    lp_tensor_free(x);
}

int main(void) {
    lp_runtime_init(0);
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    test_gradchecks();
    test_api();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors);
    LP_DONE();
}
