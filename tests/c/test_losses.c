/* test_losses.c: the C losses (engine/include/lpose/loss.h) against golden
 * values from tests/fixtures/gen_loss_fixtures.py (tests/fixtures/losses/
 * losses.lpt, f64), plus finite-difference gradient checks on tiny inputs,
 * masking edge cases, error paths and the weight/anneal helpers. */
#include <limits.h>
#include <unistd.h>

#include "lp_fixtures.h"
#include "lp_test.h"

static lp_tensor_list *load_fixture(const char *name) { return lp_fixture_load("losses", name); }

static lp_tensor_list *g_fx;

static lp_tensor *fx(const char *name) { return lp_fixture_tensor(g_fx, name); }

static double item(const lp_tensor *t) {
    double v = NAN;
    if (!t || lp_tensor_item(t, &v) != LP_STATUS_OK) return NAN;
    return v;
}

static double fx_item(const char *name) {
    lp_tensor *t = fx(name);
    double v = item(t);
    lp_tensor_free(t);
    return v;
}

/* max |a - b| / max(1e-12, max |b|); INFINITY on shape mismatch */
static double reldiff(const lp_tensor *a, const lp_tensor *b) {
    int64_t sa[LP_MAX_DIMS], sb[LP_MAX_DIMS];
    int32_t na = lp_tensor_shape(a, sa), nb = lp_tensor_shape(b, sb);
    if (na < 0 || na != nb || memcmp(sa, sb, sizeof(int64_t) * (size_t)na) != 0) return INFINITY;
    lp_tensor *a64 = NULL, *d = NULL, *m = NULL, *bb = NULL, *mb = NULL;
    double v = INFINITY, scale = 0;
    if (lp_tensor_to(a, LP_DTYPE_F64, LP_DEVICE_CPU, &a64) == LP_STATUS_OK &&
        lp_tensor_binary(LP_BINARY_SUB, a64, b, &d) == LP_STATUS_OK &&
        lp_tensor_unary_(LP_UNARY_ABS, d) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_AMAX, d, NULL, 0, 0, &m) == LP_STATUS_OK &&
        lp_tensor_unary(LP_UNARY_ABS, b, &bb) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_AMAX, bb, NULL, 0, 0, &mb) == LP_STATUS_OK) {
        v = item(m);
        scale = item(mb);
    }
    lp_tensor_free(a64);
    lp_tensor_free(d);
    lp_tensor_free(m);
    lp_tensor_free(bb);
    lp_tensor_free(mb);
    return v / (scale > 1e-12 ? scale : 1e-12);
}

/* Compare `got` with fixture `want` (relative to its max |value|); frees got. */
static void expect(lp_tensor *got, const char *want, double tol) {
    lp_tensor *w = fx(want);
    double d = reldiff(got, w);
    char what[160];
    snprintf(what, sizeof what, "%s matches the reference (rel diff %.3g)", want, d);
    lp_test_report(d <= tol, __FILE__, __LINE__, what);
    lp_tensor_free(w);
    lp_tensor_free(got);
}

static void expect_value(double got, double want, double rtol, const char *what) {
    char msg[200];
    double rel = fabs(got - want) / (fabs(want) > 1e-12 ? fabs(want) : 1e-12);
    snprintf(msg, sizeof msg, "%s: %.12g vs %.12g (rel %.3g)", what, got, want, rel);
    lp_test_report(rel <= rtol, __FILE__, __LINE__, msg);
}

static lp_tensor *leaf(const char *name) {
    lp_tensor *t = fx(name), *c = NULL;
    if (t && lp_tensor_clone(t, &c) == LP_STATUS_OK) lp_tensor_set_requires_grad(c, 1);
    lp_tensor_free(t);
    return c;
}

static lp_tensor *grad_of(lp_tensor *x) {
    lp_tensor *g = NULL;
    lp_tensor_grad(x, &g);
    return g;
}

static int all_finite(const lp_tensor *t) {
    lp_tensor *f = NULL, *a = NULL;
    double v = 0;
    if (t && lp_tensor_unary(LP_UNARY_ISFINITE, t, &f) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_ALL, f, NULL, 0, 0, &a) == LP_STATUS_OK)
        lp_tensor_item(a, &v);
    lp_tensor_free(f);
    lp_tensor_free(a);
    return v != 0;
}

/* ------------------------------------------------ finite differences */

typedef lp_status (*loss_fn)(const void *ctx, const lp_tensor *x, lp_tensor **out);

/* Central differences of f wrt every element of x (f64, contiguous, CPU)
 * against autograd; reports max |fd - grad| / max(1, |grad|). */
static void fd_check(const char *what, loss_fn f, const void *ctx, lp_tensor *x) {
    lp_tensor *l = NULL, *g = NULL;
    int64_t n = lp_tensor_numel(x);
    double *gb = calloc((size_t)n, sizeof(double)), *p = NULL, worst = INFINITY;
    lp_tensor_set_requires_grad(x, 1);
    if (f(ctx, x, &l) == LP_STATUS_OK && lp_tensor_backward(l, NULL, 0) == LP_STATUS_OK &&
        (g = grad_of(x)) != NULL && lp_tensor_to_buffer(g, gb, n * 8) == LP_STATUS_OK &&
        lp_tensor_data_ptr(x, (void **)&p) == LP_STATUS_OK) {
        const double h = 1e-6;
        worst = 0;
        lp_grad_set_enabled(0);
        for (int64_t i = 0; i < n; ++i) {
            lp_tensor *a = NULL, *b = NULL;
            double v = p[i];
            p[i] = v + h;
            f(ctx, x, &a);
            p[i] = v - h;
            f(ctx, x, &b);
            p[i] = v;
            double fd = (item(a) - item(b)) / (2 * h);
            double e = fabs(fd - gb[i]) / (fabs(gb[i]) > 1 ? fabs(gb[i]) : 1);
            if (!(e <= worst)) worst = e; /* NaN sticks */
            lp_tensor_free(a);
            lp_tensor_free(b);
        }
        lp_grad_set_enabled(1);
    } else {
        printf("# %s: %s\n", what, lp_last_error());
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s: gradient matches finite differences (%.3g)", what, worst);
    lp_test_report(worst <= 1e-6, __FILE__, __LINE__, msg);
    lp_tensor_free(l);
    lp_tensor_free(g);
    free(gb);
}

/* ------------------------------------------------ heatmaps */

typedef lp_status (*hm_fn)(const lp_tensor *, const lp_tensor *, lp_tensor **);
static const struct {
    const char *name;
    hm_fn fn;
} HM[3] = {{"mse", lp_loss_heatmap_mse}, {"kl", lp_loss_heatmap_kl}, {"js", lp_loss_heatmap_js}};

typedef struct {
    hm_fn fn;
    const lp_tensor *target;
} hm_ctx;
static lp_status hm_call(const void *c, const lp_tensor *x, lp_tensor **out) {
    const hm_ctx *h = c;
    return h->fn(x, h->target, out);
}

static void test_heatmap(void) {
    lp_tensor *target = fx("hm.target");
    for (int i = 0; i < 3; ++i) {
        char name[64];
        lp_tensor *pred = leaf("hm.pred"), *l = NULL;
        LP_CHECK_OK(HM[i].fn(pred, target, &l));
        LP_CHECK(lp_tensor_dim(l) == 0);
        snprintf(name, sizeof name, "hm.%s", HM[i].name);
        expect_value(item(l), fx_item(name), 1e-10, name);
        LP_CHECK_OK(lp_tensor_backward(l, NULL, 0));
        snprintf(name, sizeof name, "hm.%s.grad", HM[i].name);
        expect(grad_of(pred), name, 1e-9);
        lp_tensor_free(l);
        /* f32 inputs: the same value within 1e-5 relative */
        lp_tensor *p32 = NULL, *t32 = NULL;
        LP_CHECK_OK(lp_tensor_to(pred, LP_DTYPE_F32, LP_DEVICE_CPU, &p32));
        LP_CHECK_OK(lp_tensor_to(target, LP_DTYPE_F32, LP_DEVICE_CPU, &t32));
        LP_CHECK_OK(HM[i].fn(p32, t32, &l));
        LP_CHECK(lp_tensor_dtype(l) == LP_DTYPE_F32);
        snprintf(name, sizeof name, "hm.%s", HM[i].name);
        expect_value(item(l), fx_item(name), 1e-5, "f32 heatmap loss");
        lp_tensor_free(l);
        lp_tensor_free(p32);
        lp_tensor_free(t32);
        lp_tensor_free(pred);
    }
    lp_tensor_free(target);
}

/* tiny (2, 2, 3, 3) case for finite differences, one all-zero target pair */
static void test_heatmap_fd(void) {
    const int64_t s4[4] = {2, 2, 3, 3}, s3[3] = {2, 2, 9};
    lp_tensor *r = NULL, *r3 = NULL, *sm = NULL, *pred = NULL, *t = NULL, *row = NULL;
    LP_CHECK_OK(lp_tensor_arange(0, 36, 1, LP_DTYPE_F64, LP_DEVICE_CPU, &r));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_SIN, r));
    LP_CHECK_OK(lp_tensor_reshape(r, s3, 3, &r3));
    LP_CHECK_OK(lp_nn_softmax(r3, 2, &sm));
    LP_CHECK_OK(lp_tensor_reshape(sm, s4, 4, &pred));
    lp_tensor *c = NULL, *p = NULL;
    LP_CHECK_OK(lp_tensor_clone(pred, &c));
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_COS, c, &p)); /* positive, not normalised: fine */
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_SQUARE, p, &t));
    LP_CHECK_OK(lp_tensor_select(t, 0, 1, &row));
    lp_tensor *pair = NULL;
    LP_CHECK_OK(lp_tensor_select(row, 0, 0, &pair));
    LP_CHECK_OK(lp_tensor_zero_(pair)); /* target[1, 0] all zero: dropped */
    for (int i = 0; i < 3; ++i) {
        lp_tensor *x = NULL;
        LP_CHECK_OK(lp_tensor_clone(pred, &x));
        hm_ctx ctx = {HM[i].fn, t};
        char what[64];
        snprintf(what, sizeof what, "heatmap_%s", HM[i].name);
        fd_check(what, hm_call, &ctx, x);
        lp_tensor_free(x);
    }
    lp_tensor_free(r);
    lp_tensor_free(r3);
    lp_tensor_free(sm);
    lp_tensor_free(pred);
    lp_tensor_free(c);
    lp_tensor_free(p);
    lp_tensor_free(t);
    lp_tensor_free(row);
    lp_tensor_free(pair);
}

static void test_heatmap_masking(void) {
    /* every target all zero (or NaN): 0 and a zero, finite gradient */
    const int64_t s[4] = {2, 3, 4, 4};
    lp_tensor *pred = NULL, *zero = NULL, *nan = NULL, *l = NULL, *g = NULL;
    LP_CHECK_OK(lp_tensor_full(s, 4, 1.0 / 16, LP_DTYPE_F32, LP_DEVICE_CPU, &pred));
    LP_CHECK_OK(lp_tensor_set_requires_grad(pred, 1));
    LP_CHECK_OK(lp_tensor_zeros(s, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &zero));
    LP_CHECK_OK(lp_tensor_full(s, 4, NAN, LP_DTYPE_F32, LP_DEVICE_CPU, &nan));
    for (int i = 0; i < 3; ++i) {
        for (int which = 0; which < 2; ++which) {
            LP_CHECK_OK(HM[i].fn(pred, which ? nan : zero, &l));
            LP_CHECK(item(l) == 0.0);
            LP_CHECK_OK(lp_tensor_backward(l, NULL, 0));
            g = grad_of(pred);
            LP_CHECK(all_finite(g));
            lp_tensor_free(g);
            LP_CHECK_OK(lp_tensor_zero_grad(pred));
            lp_tensor_free(l);
        }
    }
    /* uniform targets are kept: uniform pred vs uniform target is 0 for mse,
     * a uniform target vs a peaked pred is not */
    lp_tensor *uni = NULL, *peak = NULL, *pix = NULL;
    LP_CHECK_OK(lp_tensor_full(s, 4, 1.0 / 16, LP_DTYPE_F32, LP_DEVICE_CPU, &uni));
    LP_CHECK_OK(lp_tensor_zeros(s, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &peak));
    const int64_t dims[2] = {2, 3};
    (void)dims;
    LP_CHECK_OK(lp_tensor_narrow(peak, 3, 0, 1, &pix));
    lp_tensor *pix2 = NULL;
    LP_CHECK_OK(lp_tensor_narrow(pix, 2, 0, 1, &pix2));
    LP_CHECK_OK(lp_tensor_fill_(pix2, 1.0)); /* one-hot at (0, 0) of every pair */
    LP_CHECK_OK(lp_loss_heatmap_mse(pred, uni, &l));
    LP_CHECK_CLOSE(item(l), 0.0, 1e-7);
    lp_tensor_free(l);
    LP_CHECK_OK(lp_loss_heatmap_mse(peak, uni, &l));
    /* per pair: (1 - 1/16)^2 + 15 (1/16)^2 = 0.9375 */
    LP_CHECK_CLOSE(item(l), 0.9375, 1e-6);
    lp_tensor_free(l);
    lp_tensor_free(uni);
    lp_tensor_free(peak);
    lp_tensor_free(pix);
    lp_tensor_free(pix2);
    lp_tensor_free(pred);
    lp_tensor_free(zero);
    lp_tensor_free(nan);
}

/* ------------------------------------------------ temporal */

typedef struct {
    const lp_tensor *conf, *eps;
} tmp_ctx;
static lp_status tmp_call(const void *c, const lp_tensor *x, lp_tensor **out) {
    const tmp_ctx *t = c;
    return lp_loss_temporal(x, t->conf, t->eps, 0.05, out);
}

static void test_temporal(void) {
    lp_tensor *conf = fx("tmp.conf"), *eps = fx("tmp.eps"), *l = NULL, *e3 = NULL;
    const double three = 3.0;
    LP_CHECK_OK(lp_tensor_from_buffer(&three, LP_DTYPE_F64, NULL, 0, &e3));
    const struct {
        const char *name;
        lp_tensor *eps;
    } cases[2] = {{"tmp.vec", eps}, {"tmp.scalar", e3}};
    for (int i = 0; i < 2; ++i) {
        lp_tensor *kp = leaf("tmp.kp");
        char name[64];
        LP_CHECK_OK(lp_loss_temporal(kp, conf, cases[i].eps, 0.05, &l));
        expect_value(item(l), fx_item(cases[i].name), 1e-10, cases[i].name);
        LP_CHECK_OK(lp_tensor_backward(l, NULL, 0));
        snprintf(name, sizeof name, "%s.grad", cases[i].name);
        expect(grad_of(kp), name, 1e-9);
        lp_tensor_free(l);
        /* (M, 2K) interleaved input gives the same value */
        int64_t m = lp_tensor_size(kp, 0), k = lp_tensor_size(kp, 1);
        const int64_t flat[2] = {m, 2 * k};
        lp_tensor *kf = NULL;
        LP_CHECK_OK(lp_tensor_reshape(kp, flat, 2, &kf));
        LP_CHECK_OK(lp_loss_temporal(kf, conf, cases[i].eps, 0.05, &l));
        expect_value(item(l), fx_item(cases[i].name), 1e-10, "temporal on (M, 2K)");
        lp_tensor_free(l);
        lp_tensor_free(kf);
        lp_tensor_free(kp);
    }
    /* finite differences on the first 4 frames, one confidence masked */
    lp_tensor *kp = fx("tmp.kp"), *k4 = NULL, *c4 = NULL, *x = NULL;
    LP_CHECK_OK(lp_tensor_narrow(kp, 0, 0, 4, &k4));
    LP_CHECK_OK(lp_tensor_narrow(conf, 0, 0, 4, &c4));
    LP_CHECK_OK(lp_tensor_contiguous(k4, &x));
    tmp_ctx ctx = {c4, eps};
    fd_check("temporal", tmp_call, &ctx, x);
    lp_tensor_free(x);
    lp_tensor_free(k4);
    lp_tensor_free(c4);

    /* metric: NaN first row, then the norms */
    lp_tensor *norm = NULL, *rest = NULL, *want = fx("tmp.norm"), *wrest = NULL, *row0 = NULL;
    LP_CHECK_OK(lp_metric_temporal_norm(kp, &norm));
    LP_CHECK_OK(lp_tensor_select(norm, 0, 0, &row0));
    lp_tensor *isn = NULL, *alln = NULL;
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ISNAN, row0, &isn));
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_ALL, isn, NULL, 0, 0, &alln));
    LP_CHECK(item(alln) == 1.0);
    LP_CHECK_OK(lp_tensor_narrow(norm, 0, 1, lp_tensor_size(norm, 0) - 1, &rest));
    LP_CHECK_OK(lp_tensor_narrow(want, 0, 1, lp_tensor_size(want, 0) - 1, &wrest));
    double d = reldiff(rest, wrest);
    LP_CHECK(d <= 1e-12);
    lp_tensor_free(isn);
    lp_tensor_free(alln);
    lp_tensor_free(row0);
    lp_tensor_free(norm);
    lp_tensor_free(rest);
    lp_tensor_free(want);
    lp_tensor_free(wrest);

    /* no confidences, huge threshold, single frame */
    LP_CHECK_OK(lp_loss_temporal(kp, conf, e3, 2.0, &l)); /* every entry masked */
    LP_CHECK(item(l) == 0.0);
    lp_tensor_free(l);
    lp_tensor *one = NULL;
    LP_CHECK_OK(lp_tensor_narrow(kp, 0, 0, 1, &one));
    LP_CHECK_OK(lp_loss_temporal(one, NULL, e3, 0.05, &l));
    LP_CHECK(item(l) == 0.0);
    lp_tensor_free(l);
    lp_tensor_free(one);

    /* LP's own test: a (sqrt 2, sqrt 2) step has norm 2 */
    const double pts[4] = {0, 0, 1.4142135623730951, 1.4142135623730951}, zero = 0;
    const int64_t s[3] = {2, 1, 2};
    lp_tensor *p2 = NULL, *z = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(pts, LP_DTYPE_F64, s, 3, &p2));
    LP_CHECK_OK(lp_tensor_from_buffer(&zero, LP_DTYPE_F64, NULL, 0, &z));
    LP_CHECK_OK(lp_loss_temporal(p2, NULL, z, 0.05, &l));
    LP_CHECK_CLOSE(item(l), 2.0, 1e-12);
    lp_tensor_free(l);
    lp_tensor_free(p2);
    lp_tensor_free(z);

    /* errors name the function and the shape */
    lp_tensor *bad = NULL;
    const int64_t sb[1] = {3};
    LP_CHECK_OK(lp_tensor_zeros(sb, 1, LP_DTYPE_F64, LP_DEVICE_CPU, &bad));
    LP_CHECK_FAILS(lp_loss_temporal(kp, conf, bad, 0.05, &l), LP_STATUS_BAD_ARG, "lp_loss_temporal");
    LP_CHECK(strstr(lp_last_error(), "(3,)") != NULL);
    LP_CHECK_FAILS(lp_loss_temporal(bad, conf, eps, 0.05, &l), LP_STATUS_BAD_ARG, "lp_loss_temporal");
    LP_CHECK_FAILS(lp_loss_temporal(kp, bad, eps, 0.05, &l), LP_STATUS_BAD_ARG, "lp_loss_temporal");
    LP_CHECK_FAILS(lp_metric_temporal_norm(bad, &l), LP_STATUS_BAD_ARG, "lp_metric_temporal_norm");
    lp_tensor_free(bad);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    lp_tensor_free(eps);
    lp_tensor_free(e3);
}

/* ------------------------------------------------ PCA */

typedef struct {
    const lp_pca *pca;
    double eps;
} pca_ctx;
static lp_status pca_call(const void *c, const lp_tensor *x, lp_tensor **out) {
    const pca_ctx *p = c;
    return lp_loss_pca(p->pca, x, p->eps, out);
}

static lp_tensor *field(const lp_pca *pca, lp_pca_field f) {
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_pca_get(pca, f, &t));
    return t;
}

static void test_pca(void) {
    lp_tensor *x = fx("pca.x");
    lp_pca *pca = NULL;
    LP_CHECK_OK(lp_pca_fit(x, 0, 0.99, &pca));
    LP_CHECK(lp_pca_n_components(pca) == 3); /* rank-3 data + noise */
    LP_CHECK(lp_pca_n_features(pca) == 10);
    expect(field(pca, LP_PCA_MEAN), "pca.mean", 1e-12);
    expect(field(pca, LP_PCA_COMPONENTS), "pca.components", 1e-8);
    expect(field(pca, LP_PCA_EXPLAINED_VARIANCE), "pca.variance", 1e-10);
    expect(field(pca, LP_PCA_EXPLAINED_VARIANCE_RATIO), "pca.ratio", 1e-10);

    lp_tensor *xt = leaf("pca.xt"), *err = NULL, *l = NULL;
    LP_CHECK_OK(lp_pca_reproject_error(pca, xt, &err));
    expect(err, "pca.err", 1e-8);
    double eps = NAN;
    LP_CHECK_OK(lp_pca_empirical_epsilon(pca, x, 99.0, 1.0, &eps));
    expect_value(eps, fx_item("pca.eps"), 1e-6, "empirical epsilon (99th percentile)");
    LP_CHECK_OK(lp_loss_pca(pca, xt, fx_item("pca.eps"), &l));
    expect_value(item(l), fx_item("pca.loss"), 1e-8, "pca loss");
    LP_CHECK_OK(lp_tensor_backward(l, NULL, 0));
    expect(grad_of(xt), "pca.loss.grad", 1e-8);
    lp_tensor_free(l);

    /* finite differences on 3 rows, epsilon 0 */
    lp_tensor *x3 = NULL, *xc = NULL;
    LP_CHECK_OK(lp_tensor_narrow(xt, 0, 0, 3, &x3));
    LP_CHECK_OK(lp_tensor_detach(x3, &xc));
    lp_tensor *xd = NULL;
    LP_CHECK_OK(lp_tensor_clone(xc, &xd));
    pca_ctx ctx = {pca, 0.0};
    fd_check("pca", pca_call, &ctx, xd);
    lp_tensor_free(xd);
    lp_tensor_free(xc);
    lp_tensor_free(x3);

    /* f32 predictions on a f64 fit */
    lp_tensor *x32 = NULL;
    LP_CHECK_OK(lp_tensor_to(xt, LP_DTYPE_F32, LP_DEVICE_CPU, &x32));
    LP_CHECK_OK(lp_loss_pca(pca, x32, fx_item("pca.eps"), &l));
    LP_CHECK(lp_tensor_dtype(l) == LP_DTYPE_F32);
    expect_value(item(l), fx_item("pca.loss"), 1e-4, "f32 pca loss");
    lp_tensor_free(l);
    lp_tensor_free(x32);

    /* rebuilt from mean + components: same loss */
    lp_tensor *mean = field(pca, LP_PCA_MEAN), *comps = field(pca, LP_PCA_COMPONENTS), *t = NULL;
    lp_pca *again = NULL;
    LP_CHECK_OK(lp_pca_init(mean, comps, &again));
    LP_CHECK(lp_pca_n_components(again) == 3);
    LP_CHECK_OK(lp_loss_pca(again, xt, fx_item("pca.eps"), &l));
    expect_value(item(l), fx_item("pca.loss"), 1e-12, "pca loss after lp_pca_init");
    LP_CHECK_FAILS(lp_pca_get(again, LP_PCA_EXPLAINED_VARIANCE, &t), LP_STATUS_BAD_ARG, "lp_pca_get");
    lp_tensor_free(l);
    lp_pca_free(again);
    lp_tensor_free(mean);
    lp_tensor_free(comps);
    lp_pca_free(pca);

    /* an int count, and f == 1 keeps everything */
    LP_CHECK_OK(lp_pca_fit(x, 2, 0, &pca));
    LP_CHECK(lp_pca_n_components(pca) == 2);
    expect(field(pca, LP_PCA_COMPONENTS), "pca2.components", 1e-8);
    lp_pca_free(pca);
    LP_CHECK_OK(lp_pca_fit(x, 0, 1.0, &pca));
    LP_CHECK(lp_pca_n_components(pca) == 10);
    lp_pca_free(pca);

    /* errors */
    lp_tensor *few = NULL;
    LP_CHECK_OK(lp_tensor_narrow(x, 0, 0, 5, &few));
    LP_CHECK_FAILS(lp_pca_fit(few, 3, 0, &pca), LP_STATUS_BAD_ARG, "lp_pca_fit");
    LP_CHECK_FAILS(lp_pca_fit(x, 11, 0, &pca), LP_STATUS_BAD_ARG, "lp_pca_fit");
    LP_CHECK_FAILS(lp_pca_fit(x, 0, 1.5, &pca), LP_STATUS_BAD_ARG, "lp_pca_fit");
    LP_CHECK_OK(lp_pca_fit(x, 3, 0, &pca));
    lp_tensor *narrow = NULL;
    LP_CHECK_OK(lp_tensor_narrow(x, 1, 0, 8, &narrow));
    LP_CHECK_FAILS(lp_pca_reproject_error(pca, narrow, &t), LP_STATUS_BAD_ARG, "lp_pca_reproject_error");
    LP_CHECK(strstr(lp_last_error(), "(60, 8)") != NULL);
    LP_CHECK_FAILS(lp_loss_pca(pca, narrow, 0, &t), LP_STATUS_BAD_ARG, "lp_loss_pca");
    LP_CHECK_FAILS(lp_pca_empirical_epsilon(pca, x, 120, 1, &eps), LP_STATUS_BAD_ARG,
                   "lp_pca_empirical_epsilon");
    lp_pca_free(pca);
    lp_tensor_free(narrow);
    lp_tensor_free(few);
    lp_tensor_free(xt);
    lp_tensor_free(x);
}

static void test_pca_nan(void) {
    lp_tensor *x = fx("pcan.x");
    lp_pca *pca = NULL;
    LP_CHECK_OK(lp_pca_fit(x, 3, 0, &pca));
    expect(field(pca, LP_PCA_MEAN), "pcan.mean", 1e-12);
    expect(field(pca, LP_PCA_COMPONENTS), "pcan.components", 1e-8);
    expect(field(pca, LP_PCA_EXPLAINED_VARIANCE), "pcan.variance", 1e-10);
    double eps = NAN;
    /* the all-NaN row reprojects to NaN and is skipped */
    LP_CHECK_OK(lp_pca_empirical_epsilon(pca, x, 99.0, 1.5, &eps));
    expect_value(eps, fx_item("pcan.eps_x1.5"), 1e-6, "empirical epsilon with NaN rows, x1.5");
    lp_pca_free(pca);
    lp_tensor_free(x);

    /* the covariance itself (np.ma.cov), on full-rank data with holes where it
     * stays positive definite: V^T diag(lambda) V with all components */
    x = fx("pcac.x");
    LP_CHECK_OK(lp_pca_fit(x, 4, 0, &pca));
    lp_tensor *v = field(pca, LP_PCA_COMPONENTS), *lam = field(pca, LP_PCA_EXPLAINED_VARIANCE);
    lp_tensor *vt = NULL, *scaled = NULL, *cov = NULL, *lam2 = NULL;
    const int64_t col[2] = {4, 1};
    LP_CHECK_OK(lp_tensor_transpose(v, 0, 1, &vt));
    LP_CHECK_OK(lp_tensor_reshape(lam, col, 2, &lam2));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, v, lam2, &scaled));
    LP_CHECK_OK(lp_tensor_matmul(vt, scaled, &cov));
    expect(cov, "pcac.cov", 1e-10);
    lp_tensor_free(v);
    lp_tensor_free(lam);
    lp_tensor_free(vt);
    lp_tensor_free(scaled);
    lp_tensor_free(lam2);
    lp_pca_free(pca);
    lp_tensor_free(x);
}

/* ------------------------------------------------ weights */

static void test_weights(void) {
    LP_CHECK_CLOSE(lp_loss_weight_from_log(0.0), 0.5, 1e-15);
    LP_CHECK_CLOSE(lp_loss_weight_from_log(11.0), 8.350850e-6, 1e-12);
    LP_CHECK_CLOSE(lp_loss_weight_from_log(5.0), 3.368973e-3, 1e-9);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(0, 0, 0.01, 1, 60), 0.0, 0);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(60, 0, 0.01, 1, 60), 0.0, 0);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(61, 0, 0.01, 1, 60), 0.01, 1e-15);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(110, 0, 0.01, 1, 60), 0.5, 1e-15);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(160, 0, 0.01, 1, 60), 1.0, 1e-15);
    LP_CHECK_CLOSE(lp_loss_anneal_weight(300, 0, 0.01, 1, 60), 1.0, 0);
}

static void test_errors(void) {
    const int64_t a[4] = {2, 3, 4, 4}, b[4] = {2, 3, 4, 5};
    lp_tensor *p = NULL, *t = NULL, *l = NULL, *i = NULL;
    LP_CHECK_OK(lp_tensor_zeros(a, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &p));
    LP_CHECK_OK(lp_tensor_zeros(b, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &t));
    LP_CHECK_OK(lp_tensor_zeros(a, 4, LP_DTYPE_I64, LP_DEVICE_CPU, &i));
    LP_CHECK_FAILS(lp_loss_heatmap_mse(p, t, &l), LP_STATUS_BAD_ARG, "lp_loss_heatmap_mse");
    LP_CHECK(strstr(lp_last_error(), "(2, 3, 4, 5)") != NULL);
    LP_CHECK_FAILS(lp_loss_heatmap_kl(p, NULL, &l), LP_STATUS_BAD_ARG, "lp_loss_heatmap_kl");
    LP_CHECK_FAILS(lp_loss_heatmap_js(i, i, &l), LP_STATUS_BAD_ARG, "lp_loss_heatmap_js");
    LP_CHECK_FAILS(lp_loss_heatmap_mse(p, p, NULL), LP_STATUS_BAD_ARG, "lp_loss_heatmap_mse");
    LP_CHECK_FAILS(lp_pca_get(NULL, LP_PCA_MEAN, &l), LP_STATUS_BAD_ARG, "lp_pca_get");
    LP_CHECK(lp_pca_n_components(NULL) == -1);
    lp_pca_free(NULL);
    lp_tensor_free(p);
    lp_tensor_free(t);
    lp_tensor_free(i);
}

int main(void) {
    g_fx = load_fixture("losses.lpt");
    if (!LP_CHECK(g_fx != NULL)) LP_DONE(); /* fixtures are committed: missing is a failure */
    lp_mem_stats before, after;
    lp_mem_stats_get(&before);
    test_heatmap();
    test_heatmap_fd();
    test_heatmap_masking();
    test_temporal();
    test_pca();
    test_pca_nan();
    test_weights();
    test_errors();
    lp_mem_stats_get(&after);
    LP_CHECK(after.n_tensors == before.n_tensors); /* no leaked handle */
    if (after.n_tensors != before.n_tensors)
        printf("# %lld handles leaked\n", (long long)(after.n_tensors - before.n_tensors));
    lp_tensor_list_free(g_fx);
    LP_DONE();
}
