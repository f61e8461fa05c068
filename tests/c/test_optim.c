/* test_optim.c: lp_optim (Adam, SGD) against torch.optim runs recorded by
 * tests/fixtures/gen_fixtures.py (tests/fixtures/shim/optim.lpt): two
 * parameter groups, a learning-rate change mid-run, and state save/resume.
 * The loss of step k is sum(c0 p0^2) + sum(g0[k] p0) + sum(c1 p1^2) + sum(g1[k] p1). */
#include <limits.h>
#include <unistd.h>

#include "lp_fixtures.h"
#include "lp_test.h"

enum { N_STEPS = 6, LR_CHANGE_AT = 3 };
static const double LR0 = 0.01, LR1 = 0.05, LR1_LATE = 0.02;

static lp_tensor_list *g_fx;

static lp_tensor_list *load_fixture(const char *name) { return lp_fixture_load("shim", name); }

static lp_tensor *fx(const char *name) { return lp_fixture_tensor(g_fx, name); }

static double maxdiff(const lp_tensor *a, const lp_tensor *b) {
    if (!a || !b || lp_tensor_numel(a) != lp_tensor_numel(b)) return INFINITY;
    lp_tensor *d = NULL, *m = NULL;
    double v = INFINITY;
    if (lp_tensor_binary(LP_BINARY_SUB, a, b, &d) == LP_STATUS_OK && lp_tensor_unary_(LP_UNARY_ABS, d) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_AMAX, d, NULL, 0, 0, &m) == LP_STATUS_OK)
        lp_tensor_item(m, &v);
    lp_tensor_free(d);
    lp_tensor_free(m);
    return v;
}

/* a fresh leaf copy of fixture `name` that requires grad */
static lp_tensor *param(const char *name) {
    lp_tensor *f = fx(name), *p = NULL;
    lp_tensor_clone(f, &p);
    lp_tensor_free(f);
    lp_tensor_set_requires_grad(p, 1);
    return p;
}

static lp_status term(const lp_tensor *p, const lp_tensor *c, const lp_tensor *g, lp_tensor **acc) {
    lp_tensor *pp = NULL, *cpp = NULL, *gp = NULL, *sum = NULL, *s1 = NULL, *s2 = NULL;
    lp_status st = lp_tensor_binary(LP_BINARY_MUL, p, p, &pp);
    if (!st) st = lp_tensor_binary(LP_BINARY_MUL, c, pp, &cpp);
    if (!st) st = lp_tensor_binary(LP_BINARY_MUL, g, p, &gp);
    if (!st) st = lp_tensor_reduce(LP_REDUCE_SUM, cpp, NULL, 0, 0, &s1);
    if (!st) st = lp_tensor_reduce(LP_REDUCE_SUM, gp, NULL, 0, 0, &s2);
    if (!st) st = lp_tensor_binary(LP_BINARY_ADD, s1, s2, &sum);
    if (!st && *acc) st = lp_tensor_binary_(LP_BINARY_ADD, sum, *acc);
    lp_tensor_free(*acc);
    *acc = sum;
    lp_tensor_free(pp);
    lp_tensor_free(cpp);
    lp_tensor_free(gp);
    lp_tensor_free(s1);
    lp_tensor_free(s2);
    return st;
}

/* zero_grad, loss of step k, backward, (lr schedule), step */
static lp_status train_step(lp_optim *opt, lp_tensor *p0, lp_tensor *p1, int k) {
    char n0[16], n1[16];
    snprintf(n0, sizeof n0, "g0.%d", k);
    snprintf(n1, sizeof n1, "g1.%d", k);
    lp_tensor *c0 = fx("c0"), *c1 = fx("c1"), *g0 = fx(n0), *g1 = fx(n1), *loss = NULL;
    lp_status st = LP_STATUS_OK;
    if (k == LR_CHANGE_AT) st = lp_optim_set_lr(opt, 1, LR1_LATE);
    if (!st) st = lp_optim_zero_grad(opt);
    if (!st) st = term(p0, c0, g0, &loss);
    if (!st) st = term(p1, c1, g1, &loss);
    if (!st) st = lp_tensor_backward(loss, NULL, 0);
    if (!st) st = lp_optim_step(opt);
    lp_tensor_free(loss);
    lp_tensor_free(c0);
    lp_tensor_free(c1);
    lp_tensor_free(g0);
    lp_tensor_free(g1);
    return st;
}

static lp_optim_params config(const char *name) {
    lp_optim_params p;
    if (strncmp(name, "adam", 4) == 0) {
        p = lp_optim_default_params(LP_OPTIM_ADAM);
        if (strcmp(name, "adam_ams") == 0) {
            p.beta1 = 0.8;
            p.beta2 = 0.95;
            p.eps = 1e-6;
            p.weight_decay = 0.1;
            p.amsgrad = 1;
        }
    } else {
        p = lp_optim_default_params(LP_OPTIM_SGD);
        if (strcmp(name, "sgd_mom") == 0) {
            p.momentum = 0.9;
            p.dampening = 0.1;
        } else if (strcmp(name, "sgd_nesterov") == 0) {
            p.momentum = 0.9;
            p.nesterov = 1;
            p.weight_decay = 0.05;
        }
    }
    p.lr = LR0;
    return p;
}

static lp_optim *make_opt(const char *name, lp_tensor *p0, lp_tensor *p1) {
    lp_optim_params prm = config(name);
    lp_optim *opt = NULL;
    int32_t g = -1;
    if (lp_optim_init(&prm, &opt) != LP_STATUS_OK) return NULL;
    const lp_tensor *a[1] = {p0}, *b[1] = {p1};
    lp_optim_add_group(opt, a, 1, -1, &g); /* default lr = LR0 */
    lp_optim_add_group(opt, b, 1, LR1, &g);
    return opt;
}

static void test_against_torch(const char *name) {
    lp_tensor *p0 = param("p0"), *p1 = param("p1");
    lp_optim *opt = make_opt(name, p0, p1);
    double lr = 0;
    LP_CHECK(opt && lp_optim_n_groups(opt) == 2);
    LP_CHECK(lp_optim_get_lr(opt, 0, &lr) == LP_STATUS_OK && lr == LR0);
    double worst = 0;
    int ok = 1;
    for (int k = 0; k < N_STEPS; k++) {
        ok &= train_step(opt, p0, p1, k) == LP_STATUS_OK;
        char n[48];
        snprintf(n, sizeof n, "%s.p0.%d", name, k);
        lp_tensor *w = fx(n);
        worst = fmax(worst, maxdiff(p0, w));
        lp_tensor_free(w);
        snprintf(n, sizeof n, "%s.p1.%d", name, k);
        w = fx(n);
        worst = fmax(worst, maxdiff(p1, w));
        lp_tensor_free(w);
    }
    LP_CHECK(lp_optim_get_lr(opt, 1, &lr) == LP_STATUS_OK && lr == LR1_LATE);
    char what[96];
    snprintf(what, sizeof what, "%s: %d steps match torch.optim (max diff %.3g)", name, N_STEPS, worst);
    lp_test_report(ok && worst <= 1e-12, __FILE__, __LINE__, what);
    lp_optim_free(opt);
    lp_tensor_free(p0);
    lp_tensor_free(p1);
}

/* Stop after 3 steps, save the state and the params to disk, load them into a
 * fresh optimizer, finish: the result equals the uninterrupted run exactly. */
static void test_resume(const char *name) {
    lp_tensor *a0 = param("p0"), *a1 = param("p1");
    lp_optim *oa = make_opt(name, a0, a1);
    for (int k = 0; k < N_STEPS; k++) train_step(oa, a0, a1, k);

    lp_tensor *b0 = param("p0"), *b1 = param("p1");
    lp_optim *ob = make_opt(name, b0, b1);
    for (int k = 0; k < 3; k++) train_step(ob, b0, b1, k);
    lp_tensor_list *st = NULL, *back = NULL;
    LP_CHECK_OK(lp_optim_state(ob, &st));
    if (strncmp(name, "adam", 4) == 0)
        LP_CHECK(lp_tensor_list_find(st, "0.0.step") == 0 && lp_tensor_list_find(st, "1.0.exp_avg_sq") >= 0);
    else
        LP_CHECK(lp_tensor_list_find(st, "1.0.momentum_buffer") >= 0);
    LP_CHECK_OK(lp_tensor_list_push(st, "param.0", b0)); /* a checkpoint holds both */
    LP_CHECK_OK(lp_tensor_list_push(st, "param.1", b1));
    char path[64];
    snprintf(path, sizeof path, "/tmp/lpose_test_optim_%ld.lpt", (long)getpid());
    LP_CHECK_OK(lp_tensor_list_save(st, path));
    lp_tensor_list_free(st);
    lp_optim_free(ob);
    lp_tensor_free(b0);
    lp_tensor_free(b1);

    LP_CHECK_OK(lp_tensor_list_load(path, &back));
    unlink(path);
    lp_tensor *c0 = NULL, *c1 = NULL, *t = NULL;
    lp_tensor_list_get(back, lp_tensor_list_find(back, "param.0"), &t);
    lp_tensor_clone(t, &c0);
    lp_tensor_free(t);
    lp_tensor_list_get(back, lp_tensor_list_find(back, "param.1"), &t);
    lp_tensor_clone(t, &c1);
    lp_tensor_free(t);
    lp_tensor_set_requires_grad(c0, 1);
    lp_tensor_set_requires_grad(c1, 1);
    lp_optim *oc = make_opt(name, c0, c1);
    /* the loader takes exactly what lp_optim_state gives: drop the params */
    lp_tensor_list *only = NULL;
    lp_tensor_list_init(&only);
    for (int32_t i = 0; i < lp_tensor_list_size(back); i++) {
        if (strncmp(lp_tensor_list_name(back, i), "param.", 6) == 0) continue;
        lp_tensor_list_get(back, i, &t);
        lp_tensor_list_push(only, lp_tensor_list_name(back, i), t);
        lp_tensor_free(t);
    }
    LP_CHECK_OK(lp_optim_load_state(oc, only));
    int ok = 1;
    for (int k = 3; k < N_STEPS; k++) ok &= train_step(oc, c0, c1, k) == LP_STATUS_OK;
    char what[96];
    snprintf(what, sizeof what, "%s: resumed run equals the uninterrupted one", name);
    lp_test_report(ok && maxdiff(a0, c0) == 0 && maxdiff(a1, c1) == 0, __FILE__, __LINE__, what);

    /* a state entry of the wrong shape is rejected and leaves the state alone */
    lp_tensor_list *bad = NULL;
    lp_tensor *wrong = NULL;
    int64_t s2[1] = {2};
    lp_tensor_zeros(s2, 1, LP_DTYPE_F64, LP_DEVICE_CPU, &wrong);
    lp_tensor_list_init(&bad);
    lp_tensor_list_push(bad, strncmp(name, "adam", 4) == 0 ? "0.0.exp_avg" : "0.0.momentum_buffer", wrong);
    LP_CHECK_FAILS(lp_optim_load_state(oc, bad), LP_STATUS_BAD_ARG, "lp_optim_load_state");
    lp_tensor_list *again = NULL;
    LP_CHECK_OK(lp_optim_state(oc, &again));
    LP_CHECK(lp_tensor_list_size(again) == lp_tensor_list_size(only));
    lp_tensor_list_free(again);
    lp_tensor_list_free(bad);
    lp_tensor_free(wrong);

    lp_tensor_list_free(only);
    lp_tensor_list_free(back);
    lp_optim_free(oc);
    lp_optim_free(oa);
    lp_tensor_free(a0);
    lp_tensor_free(a1);
    lp_tensor_free(c0);
    lp_tensor_free(c1);
}

static void test_misc(void) {
    lp_optim_params a = lp_optim_default_params(LP_OPTIM_ADAM);
    LP_CHECK(a.kind == LP_OPTIM_ADAM && a.lr == 1e-3 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8);
    LP_CHECK(a.weight_decay == 0 && a.amsgrad == 0);
    /* params without a grad are skipped; zero_grad drops grads */
    lp_tensor *p = param("p1"), *before = NULL, *g = NULL;
    lp_tensor_clone(p, &before);
    lp_optim *opt = NULL;
    const lp_tensor *ps[1] = {p};
    LP_CHECK_OK(lp_optim_init(&a, &opt));
    LP_CHECK_OK(lp_optim_add_group(opt, ps, 1, 0.1, NULL));
    LP_CHECK_OK(lp_optim_step(opt));
    LP_CHECK(maxdiff(p, before) == 0);
    lp_tensor_list *st = NULL;
    LP_CHECK_OK(lp_optim_state(opt, &st));
    LP_CHECK(lp_tensor_list_size(st) == 0);
    lp_tensor_list_free(st);
    lp_tensor *s = NULL;
    lp_tensor_reduce(LP_REDUCE_SUM, p, NULL, 0, 0, &s);
    lp_tensor_backward(s, NULL, 0);
    LP_CHECK_OK(lp_optim_step(opt));
    LP_CHECK(maxdiff(p, before) > 0.05); /* Adam's first step moves by ~lr */
    LP_CHECK_OK(lp_optim_zero_grad(opt));
    LP_CHECK_OK(lp_tensor_grad(p, &g));
    LP_CHECK(g == NULL);
    LP_CHECK(lp_tensor_is_leaf(p) && lp_tensor_requires_grad(p)); /* the step did not build a graph */
    lp_tensor_free(s);
    lp_optim_free(opt);
    lp_optim_free(NULL);
    lp_tensor_free(p);
    lp_tensor_free(before);
}

int main(void) {
    lp_runtime_init(0);
    g_fx = load_fixture("optim.lpt");
    if (!LP_CHECK(g_fx != NULL)) LP_DONE();
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    const char *names[] = {"adam", "adam_ams", "sgd", "sgd_mom", "sgd_nesterov"};
    for (int i = 0; i < 5; i++) test_against_torch(names[i]);
    test_resume("adam_ams");
    test_resume("sgd_nesterov");
    test_resume("adam");
    test_misc();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors);
    lp_tensor_list_free(g_fx);
    LP_DONE();
}
