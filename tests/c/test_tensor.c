/* test_tensor.c: the shim's tensor API on small known values: runtime,
 * creation and dtypes, metadata, views, elementwise math, masking,
 * reductions, linear algebra, seeded randomness, memory counters. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "lp_test.h"

/* ---------------------------------------------------------------- helpers */

static lp_tensor *vec(const double *v, int64_t n) {
    lp_tensor *t = NULL;
    lp_tensor_from_buffer(v, LP_DTYPE_F64, &n, 1, &t);
    return t;
}

static lp_tensor *mat(const double *v, int64_t r, int64_t c) {
    int64_t s[2] = {r, c};
    lp_tensor *t = NULL;
    lp_tensor_from_buffer(v, LP_DTYPE_F64, s, 2, &t);
    return t;
}

/* arange(n) as f64 viewed to `shape` */
static lp_tensor *iota(const int64_t *shape, int32_t ndim) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    lp_tensor *a = NULL, *r = NULL;
    lp_tensor_arange(0, (double)n, 1, LP_DTYPE_F64, LP_DEVICE_CPU, &a);
    lp_tensor_reshape(a, shape, ndim, &r);
    lp_tensor_free(a);
    return r;
}

/* Values of t (any dtype) as doubles; returns numel, or -1. */
static int64_t values(const lp_tensor *t, double *out, int64_t cap) {
    lp_tensor *d = NULL;
    if (!t || lp_tensor_to(t, LP_DTYPE_F64, LP_DEVICE_CPU, &d) != LP_STATUS_OK) return -1;
    int64_t n = lp_tensor_numel(d);
    if (n > cap || lp_tensor_to_buffer(d, out, n * 8) != LP_STATUS_OK) n = -1;
    lp_tensor_free(d);
    return n;
}

/* t has exactly `n` values equal to `want` within tol (NaN matches NaN). */
static int same(const lp_tensor *t, const double *want, int64_t n, double tol) {
    double got[512];
    if (values(t, got, 512) != n) return 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) && isnan(got[i])) continue;
        if (isinf(want[i]) && got[i] == want[i]) continue;
        if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i])))) {
            printf("#   [%lld] got %.12g want %.12g\n", (long long)i, got[i], want[i]);
            return 0;
        }
    }
    return 1;
}

static int shape_is(const lp_tensor *t, int32_t ndim, const int64_t *s) {
    int64_t got[LP_MAX_DIMS];
    if (lp_tensor_shape(t, got) != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (got[i] != s[i]) return 0;
    return 1;
}

static double item(const lp_tensor *t) {
    double v = NAN;
    lp_tensor_item(t, &v);
    return v;
}

/* ---------------------------------------------------------------- runtime */

static void test_runtime(void) {
    LP_CHECK_OK(lp_runtime_init(2));
    LP_CHECK_OK(lp_runtime_init(2)); /* idempotent */
    LP_CHECK(lp_get_num_threads() == 2);
    LP_CHECK_OK(lp_set_num_threads(1));
    LP_CHECK(lp_get_num_threads() == 1);
    LP_CHECK_OK(lp_set_num_threads(2));
    LP_CHECK(strcmp(lp_version(), "0.1.0") == 0);
    LP_CHECK(lp_cuda_device_count() >= 0);
    LP_CHECK(strcmp(lp_status_name(LP_STATUS_IO), "LP_STATUS_IO") == 0);
    LP_CHECK(lp_set_error(LP_STATUS_IO, "custom: message") == LP_STATUS_IO);
    LP_CHECK(strcmp(lp_last_error(), "custom: message") == 0);
    LP_CHECK(lp_dtype_size(LP_DTYPE_F32) == 4 && lp_dtype_size(LP_DTYPE_BF16) == 2 && lp_dtype_size(LP_DTYPE_BOOL) == 1);
    LP_CHECK(lp_dtype_size((lp_dtype)99) == 0);
    LP_CHECK(strcmp(lp_dtype_name(LP_DTYPE_I64), "i64") == 0 && strcmp(lp_dtype_name((lp_dtype)42), "?") == 0);
    LP_CHECK(lp_grad_is_enabled() == 1);
}

/* ---------------------------------------------------------------- creation */

static void test_creation(void) {
    int64_t s23[2] = {2, 3};
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_tensor_zeros(s23, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &t));
    LP_CHECK(lp_tensor_dim(t) == 2 && lp_tensor_size(t, 0) == 2 && lp_tensor_size(t, -1) == 3);
    LP_CHECK(lp_tensor_size(t, 2) == -1 && lp_tensor_numel(t) == 6);
    LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_F32 && lp_tensor_device(t) == LP_DEVICE_CPU);
    LP_CHECK(lp_tensor_is_contiguous(t) && lp_tensor_is_leaf(t) && !lp_tensor_requires_grad(t));
    double z[6] = {0};
    LP_CHECK(same(t, z, 6, 0));
    lp_tensor_free(t);

    double ones[6] = {1, 1, 1, 1, 1, 1}, fives[6] = {2.5, 2.5, 2.5, 2.5, 2.5, 2.5};
    LP_CHECK_OK(lp_tensor_ones(s23, 2, LP_DTYPE_I64, LP_DEVICE_CPU, &t));
    LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_I64 && same(t, ones, 6, 0));
    lp_tensor_free(t);
    LP_CHECK_OK(lp_tensor_full(s23, 2, 2.5, LP_DTYPE_F64, LP_DEVICE_CPU, &t));
    LP_CHECK(same(t, fives, 6, 0));
    lp_tensor_free(t);
    LP_CHECK_OK(lp_tensor_empty(s23, 2, LP_DTYPE_U8, LP_DEVICE_CPU, &t));
    LP_CHECK(lp_tensor_numel(t) == 6 && lp_tensor_dtype(t) == LP_DTYPE_U8);
    lp_tensor_free(t);
    LP_CHECK_OK(lp_tensor_zeros(NULL, 0, LP_DTYPE_F32, LP_DEVICE_CPU, &t)); /* 0-dim */
    LP_CHECK(lp_tensor_dim(t) == 0 && lp_tensor_numel(t) == 1);
    lp_tensor_free(t);

    double ar[4] = {1, 1.5, 2, 2.5};
    LP_CHECK_OK(lp_tensor_arange(1, 3, 0.5, LP_DTYPE_F64, LP_DEVICE_CPU, &t));
    LP_CHECK(same(t, ar, 4, 0));
    lp_tensor_free(t);
    double dn[3] = {5, 3, 1};
    LP_CHECK_OK(lp_tensor_arange(5, 0, -2, LP_DTYPE_I32, LP_DEVICE_CPU, &t));
    LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_I32 && same(t, dn, 3, 0));
    lp_tensor_free(t);
    double ls[5] = {0, 0.25, 0.5, 0.75, 1};
    LP_CHECK_OK(lp_tensor_linspace(0, 1, 5, LP_DTYPE_F32, LP_DEVICE_CPU, &t));
    LP_CHECK(same(t, ls, 5, 1e-7));

    double v = 0;
    lp_tensor *one = NULL;
    LP_CHECK_OK(lp_tensor_select(t, 0, -1, &one));
    LP_CHECK_OK(lp_tensor_item(one, &v));
    LP_CHECK(v == 1.0);
    lp_tensor_free(one);
    void *p = NULL;
    LP_CHECK_OK(lp_tensor_data_ptr(t, &p));
    LP_CHECK(p && ((float *)p)[1] == 0.25f);
    LP_CHECK_OK(lp_tensor_fill_(t, 7));
    LP_CHECK(((float *)p)[4] == 7.0f);
    LP_CHECK_OK(lp_tensor_zero_(t));
    LP_CHECK(((float *)p)[2] == 0.0f);
    lp_tensor *src = NULL;
    LP_CHECK_OK(lp_tensor_full(NULL, 0, 3.0, LP_DTYPE_F64, LP_DEVICE_CPU, &src));
    LP_CHECK_OK(lp_tensor_copy_(t, src)); /* broadcast + dtype conversion */
    LP_CHECK(((float *)p)[0] == 3.0f && ((float *)p)[4] == 3.0f);
    lp_tensor_free(src);
    lp_tensor_free(t);
}

/* Every dtype round-trips through from_buffer / to_buffer bit for bit. */
static void test_dtypes(void) {
    unsigned char in[64], out[64];
    for (int i = 0; i < 64; i++) in[i] = (unsigned char)(i * 37 + 11);
    float f32[4] = {1.5f, -2.25f, 3e-3f, 1e6f};
    double f64[4] = {1.5, -2.25, 1e-300, 1e300};
    uint16_t f16[4] = {0x3c00, 0xc000, 0x3555, 0x7bff}; /* 1, -2, ~0.333, 65504 */
    uint16_t bf16[4] = {0x3f80, 0xc040, 0x3eaa, 0x4b80};
    int64_t i64[4] = {INT64_MIN, -1, 0, INT64_MAX};
    int32_t i32[4] = {INT32_MIN, -7, 0, INT32_MAX};
    uint8_t u8[4] = {0, 1, 128, 255};
    uint8_t b[4] = {1, 0, 0, 1};
    const void *bufs[8] = {f32, f64, f16, bf16, i64, i32, u8, b};
    for (int d = 0; d < 8; d++) {
        int64_t shape[2] = {2, 2};
        lp_tensor *t = NULL;
        int sz = lp_dtype_size((lp_dtype)d);
        memcpy(in, bufs[d], (size_t)(4 * sz));
        memset(out, 0xAB, sizeof out);
        lp_status st = lp_tensor_from_buffer(in, (lp_dtype)d, shape, 2, &t);
        int ok = st == LP_STATUS_OK && lp_tensor_dtype(t) == d &&
                 lp_tensor_to_buffer(t, out, 4 * sz) == LP_STATUS_OK && memcmp(in, out, (size_t)(4 * sz)) == 0;
        char what[64];
        snprintf(what, sizeof what, "dtype %s round-trips", lp_dtype_name((lp_dtype)d));
        lp_test_report(ok, __FILE__, __LINE__, what);
        /* and through a conversion to f64 and back (exact for these values) */
        lp_tensor *f = NULL, *back = NULL;
        ok = lp_tensor_to(t, LP_DTYPE_F64, LP_DEVICE_CPU, &f) == LP_STATUS_OK &&
             lp_tensor_to(f, (lp_dtype)d, LP_DEVICE_CPU, &back) == LP_STATUS_OK &&
             lp_tensor_to_buffer(back, out, 4 * sz) == LP_STATUS_OK &&
             (d == LP_DTYPE_I64 || memcmp(in, out, (size_t)(4 * sz)) == 0); /* i64 extremes don't fit f64 */
        snprintf(what, sizeof what, "dtype %s converts to f64 and back", lp_dtype_name((lp_dtype)d));
        lp_test_report(ok, __FILE__, __LINE__, what);
        lp_tensor_free(f);
        lp_tensor_free(back);
        lp_tensor_free(t);
    }
    /* bool from nonzero bytes normalises to true */
    uint8_t raw[3] = {0, 2, 255};
    int64_t n3 = 3;
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(raw, LP_DTYPE_BOOL, &n3, 1, &t));
    uint8_t got[3];
    LP_CHECK_OK(lp_tensor_to_buffer(t, got, 3));
    LP_CHECK(got[0] == 0 && got[1] == 1 && got[2] == 1);
    lp_tensor_free(t);
    /* to_buffer of a non-contiguous view copies in logical order */
    int64_t s[2] = {2, 3};
    lp_tensor *a = iota(s, 2), *tr = NULL;
    LP_CHECK_OK(lp_tensor_transpose(a, 0, 1, &tr));
    LP_CHECK(!lp_tensor_is_contiguous(tr));
    double d6[6], want[6] = {0, 3, 1, 4, 2, 5};
    LP_CHECK_OK(lp_tensor_to_buffer(tr, d6, sizeof d6));
    LP_CHECK(memcmp(d6, want, sizeof d6) == 0);
    lp_tensor_free(tr);
    lp_tensor_free(a);
}

/* ---------------------------------------------------------------- random, memory */

static void test_random(void) {
    int64_t s[2] = {3, 4};
    lp_tensor *a = NULL, *b = NULL, *c = NULL, *eq = NULL, *all = NULL;
    LP_CHECK_OK(lp_tensor_randn(s, 2, LP_DTYPE_F32, LP_DEVICE_CPU, 42, &a));
    LP_CHECK_OK(lp_tensor_randn(s, 2, LP_DTYPE_F32, LP_DEVICE_CPU, 42, &b));
    LP_CHECK_OK(lp_tensor_randn(s, 2, LP_DTYPE_F32, LP_DEVICE_CPU, 43, &c));
    float fa[12], fb[12], fc[12];
    lp_tensor_to_buffer(a, fa, sizeof fa);
    lp_tensor_to_buffer(b, fb, sizeof fb);
    lp_tensor_to_buffer(c, fc, sizeof fc);
    LP_CHECK(memcmp(fa, fb, sizeof fa) == 0);
    LP_CHECK(memcmp(fa, fc, sizeof fa) != 0);
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_EQ, a, b, &eq));
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_ALL, eq, NULL, 0, 0, &all));
    LP_CHECK(item(all) == 1.0);
    lp_tensor_free(eq);
    lp_tensor_free(all);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(c);

    /* global generator: manual_seed makes it repeatable */
    double x1[12], x2[12];
    LP_CHECK_OK(lp_manual_seed(7));
    LP_CHECK_OK(lp_tensor_rand(s, 2, LP_DTYPE_F64, LP_DEVICE_CPU, -1, &a));
    LP_CHECK_OK(lp_manual_seed(7));
    LP_CHECK_OK(lp_tensor_rand(s, 2, LP_DTYPE_F64, LP_DEVICE_CPU, -1, &b));
    lp_tensor_to_buffer(a, x1, sizeof x1);
    lp_tensor_to_buffer(b, x2, sizeof x2);
    int in01 = 1;
    for (int i = 0; i < 12; i++) in01 &= x1[i] >= 0 && x1[i] < 1;
    LP_CHECK(memcmp(x1, x2, sizeof x1) == 0 && in01);
    /* seeded in-place initialisers */
    LP_CHECK_OK(lp_tensor_uniform_(a, -2, -1, 5));
    LP_CHECK_OK(lp_tensor_uniform_(b, -2, -1, 5));
    lp_tensor_to_buffer(a, x1, sizeof x1);
    lp_tensor_to_buffer(b, x2, sizeof x2);
    int inr = 1;
    for (int i = 0; i < 12; i++) inr &= x1[i] >= -2 && x1[i] < -1;
    LP_CHECK(memcmp(x1, x2, sizeof x1) == 0 && inr);
    LP_CHECK_OK(lp_tensor_normal_(a, 10, 0.001, 9));
    lp_tensor_to_buffer(a, x1, sizeof x1);
    LP_CHECK(fabs(x1[0] - 10) < 0.01 && fabs(x1[11] - 10) < 0.01);
    lp_tensor_free(a);
    lp_tensor_free(b);
    /* f16 randn works (drawn in f32) */
    LP_CHECK_OK(lp_tensor_randn(s, 2, LP_DTYPE_F16, LP_DEVICE_CPU, 1, &a));
    LP_CHECK(lp_tensor_dtype(a) == LP_DTYPE_F16);
    lp_tensor_free(a);
}

static void test_mem_stats(void) {
    lp_mem_stats m0, m1, m2;
    lp_mem_stats_get(&m0);
    int64_t s[2] = {10, 100};
    lp_tensor *a = NULL, *v = NULL;
    LP_CHECK_OK(lp_tensor_zeros(s, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &a));
    LP_CHECK_OK(lp_tensor_select(a, 0, 0, &v));
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors + 2);
    LP_CHECK(m1.bytes_cpu == m0.bytes_cpu + 4000 + 400);
    LP_CHECK(m1.bytes_cuda == m0.bytes_cuda);
    lp_tensor_free(a);
    lp_tensor_free(v);
    lp_mem_stats_get(&m2);
    LP_CHECK(m2.n_tensors == m0.n_tensors && m2.bytes_cpu == m0.bytes_cpu);
}

/* ---------------------------------------------------------------- views */

static void test_views(void) {
    int64_t s234[3] = {2, 3, 4};
    lp_tensor *x = iota(s234, 3), *r = NULL, *r2 = NULL;

    int64_t v1[2] = {6, -1}, e64[2] = {6, 4};
    LP_CHECK_OK(lp_tensor_view(x, v1, 2, &r));
    LP_CHECK(shape_is(r, 2, e64));
    lp_tensor_free(r);
    int64_t v2[1] = {24};
    LP_CHECK_OK(lp_tensor_reshape(x, v2, 1, &r));
    LP_CHECK(lp_tensor_dim(r) == 1 && lp_tensor_numel(r) == 24);
    lp_tensor_free(r);

    { /* who holds a tensor's memory: it alone, then it and a view; a copy is not counted */
        lp_tensor *e = NULL;
        LP_CHECK_OK(lp_tensor_empty(s234, 3, LP_DTYPE_F32, LP_DEVICE_CPU, &e));
        LP_CHECK(lp_tensor_storage_refs(e) == 1 && lp_tensor_storage_refs(NULL) == -1);
        LP_CHECK_OK(lp_tensor_narrow(e, 0, 1, 1, &r));
        LP_CHECK_OK(lp_tensor_clone(e, &r2));
        LP_CHECK(lp_tensor_storage_refs(e) == 2 && lp_tensor_storage_refs(r) == 2 &&
                 lp_tensor_storage_refs(r2) == 1);
        lp_tensor_free(r);
        lp_tensor_free(r2);
        LP_CHECK(lp_tensor_storage_refs(e) == 1);
        lp_tensor_free(e);
    }

    int64_t perm[3] = {2, 0, 1}, ep[3] = {4, 2, 3};
    LP_CHECK_OK(lp_tensor_permute(x, perm, 3, &r));
    LP_CHECK(shape_is(r, 3, ep));
    LP_CHECK_OK(lp_tensor_contiguous(r, &r2));
    LP_CHECK(lp_tensor_is_contiguous(r2) && !lp_tensor_is_contiguous(r));
    { /* r2[1][0][2] = x[0][2][1] = 9 */
        double d[24];
        values(r2, d, 24);
        LP_CHECK(d[1 * 6 + 0 * 3 + 2] == 9);
    }
    lp_tensor_free(r);
    lp_tensor_free(r2);

    int64_t et[3] = {4, 3, 2};
    LP_CHECK_OK(lp_tensor_transpose(x, 0, -1, &r));
    LP_CHECK(shape_is(r, 3, et));
    lp_tensor_free(r);

    double nar[4] = {1, 2, 5, 6};
    lp_tensor *x0 = NULL;
    LP_CHECK_OK(lp_tensor_select(x, 0, 0, &x0)); /* [3,4]: 0..11 */
    LP_CHECK_OK(lp_tensor_narrow(x0, 1, 1, 2, &r));
    lp_tensor *r3 = NULL;
    LP_CHECK_OK(lp_tensor_narrow(r, 0, 0, 2, &r3));
    LP_CHECK(same(r3, nar, 4, 0));
    lp_tensor_free(r3);
    lp_tensor_free(r);

    double sl[4] = {1, 3, 9, 11};
    LP_CHECK_OK(lp_tensor_slice(x0, 1, 1, 100, 2, &r));
    LP_CHECK_OK(lp_tensor_slice(r, 0, 0, -1, 2, &r3)); /* rows 0 (only; end -1 excludes row 2) */
    double sl0[2] = {1, 3};
    LP_CHECK(same(r3, sl0, 2, 0));
    lp_tensor_free(r3);
    LP_CHECK_OK(lp_tensor_slice(r, 0, 0, 3, 2, &r3)); /* rows 0 and 2 */
    LP_CHECK(same(r3, sl, 4, 0));
    lp_tensor_free(r3);
    lp_tensor_free(r);

    int64_t idx_v[2] = {2, 0}, n2 = 2;
    lp_tensor *idx = NULL;
    lp_tensor_from_buffer(idx_v, LP_DTYPE_I64, &n2, 1, &idx);
    double is[8] = {2, 0, 6, 4, 10, 8, 0, 0};
    LP_CHECK_OK(lp_tensor_index_select(x0, 1, idx, &r));
    LP_CHECK(same(r, is, 6, 0));
    lp_tensor_free(r);
    lp_tensor_free(idx);

    int64_t gi[6] = {3, 0, 1, 1, 2, 2}, gs[2] = {3, 2};
    lp_tensor_from_buffer(gi, LP_DTYPE_I64, gs, 2, &idx);
    double ge[6] = {3, 0, 5, 5, 10, 10};
    LP_CHECK_OK(lp_tensor_gather(x0, 1, idx, &r));
    LP_CHECK(same(r, ge, 6, 0));
    lp_tensor_free(r);
    lp_tensor_free(idx);

    const lp_tensor *two[2] = {x0, x0};
    int64_t ec[2] = {3, 8}, es[3] = {3, 2, 4};
    LP_CHECK_OK(lp_tensor_cat(two, 2, -1, &r));
    LP_CHECK(shape_is(r, 2, ec));
    lp_tensor_free(r);
    LP_CHECK_OK(lp_tensor_stack(two, 2, 1, &r));
    LP_CHECK(shape_is(r, 3, es));
    lp_tensor_free(r);

    lp_tensor *col = NULL;
    int64_t c31[2] = {3, 1}, ex[2] = {3, 5};
    double cv[3] = {1, 2, 3};
    lp_tensor_from_buffer(cv, LP_DTYPE_F64, c31, 2, &col);
    int64_t tgt[2] = {-1, 5};
    LP_CHECK_OK(lp_tensor_expand(col, tgt, 2, &r));
    LP_CHECK(shape_is(r, 2, ex));
    lp_tensor_free(r);
    LP_CHECK_OK(lp_tensor_squeeze(col, 1, &r));
    LP_CHECK(lp_tensor_dim(r) == 1 && same(r, cv, 3, 0));
    LP_CHECK_OK(lp_tensor_unsqueeze(r, 0, &r3));
    int64_t e13[2] = {1, 3};
    LP_CHECK(shape_is(r3, 2, e13));
    lp_tensor_free(r3);
    lp_tensor_free(r);
    LP_CHECK_OK(lp_tensor_squeeze(x0, 0, &r)); /* size 3: unchanged */
    LP_CHECK(lp_tensor_dim(r) == 2);
    lp_tensor_free(r);

    int64_t ef[2] = {2, 12};
    LP_CHECK_OK(lp_tensor_flatten(x, 1, -1, &r));
    LP_CHECK(shape_is(r, 2, ef));
    lp_tensor_free(r);

    int64_t fd[1] = {0};
    double fl[3] = {3, 2, 1};
    LP_CHECK_OK(lp_tensor_flip(col, fd, 1, &r));
    LP_CHECK(same(r, fl, 3, 0));
    lp_tensor_free(r);

    int64_t rep[3] = {2, 1, 2}, er[3] = {2, 3, 2};
    double rv[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
    LP_CHECK_OK(lp_tensor_repeat(col, rep, 3, &r));
    LP_CHECK(shape_is(r, 3, er) && same(r, rv, 12, 0));
    lp_tensor_free(r);

    /* clone is independent; ref and view share storage */
    lp_tensor *cl = NULL, *rf = NULL;
    LP_CHECK_OK(lp_tensor_clone(col, &cl));
    LP_CHECK_OK(lp_tensor_ref(col, &rf));
    LP_CHECK_OK(lp_tensor_fill_(rf, 9));
    double nine[3] = {9, 9, 9};
    LP_CHECK(same(col, nine, 3, 0) && same(cl, cv, 3, 0));
    /* freeing the base never invalidates a view */
    int64_t s3[1] = {3};
    LP_CHECK_OK(lp_tensor_view(col, s3, 1, &r));
    lp_tensor_free(col);
    lp_tensor_free(rf);
    LP_CHECK(same(r, nine, 3, 0));
    lp_tensor_free(r);
    lp_tensor_free(cl);

    lp_tensor *f32 = NULL;
    LP_CHECK_OK(lp_tensor_to(x0, LP_DTYPE_F32, LP_DEVICE_CPU, &f32));
    LP_CHECK(lp_tensor_dtype(f32) == LP_DTYPE_F32);
    lp_tensor_free(f32);
    lp_tensor_free(x0);
    lp_tensor_free(x);
}

/* ---------------------------------------------------------------- elementwise */

static double d_sign(double x) { return (x > 0) - (x < 0); }
static double d_relu(double x) { return x > 0 ? x : 0; }
static double d_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double d_rsqrt(double x) { return 1 / sqrt(x); }
static double d_square(double x) { return x * x; }
static double d_recip(double x) { return 1 / x; }
static double d_neg(double x) { return -x; }

static void test_unary(void) {
    struct {
        int op;
        double (*f)(double);
        int positive;
    } ops[] = {
        {LP_UNARY_NEG, d_neg, 0},      {LP_UNARY_ABS, fabs, 0},        {LP_UNARY_EXP, exp, 0},
        {LP_UNARY_LOG, log, 1},        {LP_UNARY_LOG1P, log1p, 1},     {LP_UNARY_SQRT, sqrt, 1},
        {LP_UNARY_RSQRT, d_rsqrt, 1},  {LP_UNARY_SQUARE, d_square, 0}, {LP_UNARY_RECIPROCAL, d_recip, 0},
        {LP_UNARY_SIN, sin, 0},        {LP_UNARY_COS, cos, 0},         {LP_UNARY_TANH, tanh, 0},
        {LP_UNARY_SIGMOID, d_sigmoid, 0}, {LP_UNARY_RELU, d_relu, 0},  {LP_UNARY_FLOOR, floor, 0},
        {LP_UNARY_CEIL, ceil, 0},      {LP_UNARY_ROUND, nearbyint, 0}, {LP_UNARY_TRUNC, trunc, 0},
        {LP_UNARY_SIGN, d_sign, 0},
    };
    double xs[5] = {-2.5, -0.5, 0.3, 1.7, 2.5}, ps[5] = {0.5, 0.3, 1.7, 2.5, 4};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const double *in = ops[k].positive ? ps : xs;
        double want[5];
        for (int i = 0; i < 5; i++) want[i] = ops[k].f(in[i]);
        lp_tensor *x = vec(in, 5), *y = NULL;
        char what[80];
        lp_status st = lp_tensor_unary((lp_unary_op)ops[k].op, x, &y);
        snprintf(what, sizeof what, "unary op %d values", ops[k].op);
        lp_test_report(st == LP_STATUS_OK && same(y, want, 5, 1e-14), __FILE__, __LINE__, what);
        st = lp_tensor_unary_((lp_unary_op)ops[k].op, x);
        snprintf(what, sizeof what, "unary op %d in place", ops[k].op);
        lp_test_report(st == LP_STATUS_OK && same(x, want, 5, 1e-14), __FILE__, __LINE__, what);
        lp_tensor_free(x);
        lp_tensor_free(y);
    }
    double sp[4] = {NAN, INFINITY, -1, 0};
    double isnan_w[4] = {1, 0, 0, 0}, isfin_w[4] = {0, 0, 1, 1}, not_w[4] = {0, 0, 0, 1};
    lp_tensor *x = vec(sp, 4), *y = NULL;
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ISNAN, x, &y));
    LP_CHECK(lp_tensor_dtype(y) == LP_DTYPE_BOOL && same(y, isnan_w, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ISFINITE, x, &y));
    LP_CHECK(same(y, isfin_w, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_LOGICAL_NOT, x, &y));
    LP_CHECK(same(y, not_w, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_ISNAN, x)); /* stored as 0/1 in f64 */
    LP_CHECK(lp_tensor_dtype(x) == LP_DTYPE_F64 && same(x, isnan_w, 4, 0));
    lp_tensor_free(x);
}

static double b_apply(int op, double a, double b) {
    switch (op) {
    case LP_BINARY_ADD: return a + b;
    case LP_BINARY_SUB: return a - b;
    case LP_BINARY_MUL: return a * b;
    case LP_BINARY_DIV: return a / b;
    case LP_BINARY_POW: return pow(a, b);
    case LP_BINARY_MAXIMUM: return a > b ? a : b;
    case LP_BINARY_MINIMUM: return a < b ? a : b;
    case LP_BINARY_ATAN2: return atan2(a, b);
    case LP_BINARY_REMAINDER: return a - floor(a / b) * b; /* Python's sign convention */
    case LP_BINARY_EQ: return a == b;
    case LP_BINARY_NE: return a != b;
    case LP_BINARY_LT: return a < b;
    case LP_BINARY_LE: return a <= b;
    case LP_BINARY_GT: return a > b;
    case LP_BINARY_GE: return a >= b;
    case LP_BINARY_LOGICAL_AND: return (a != 0) && (b != 0);
    case LP_BINARY_LOGICAL_OR: return (a != 0) || (b != 0);
    case LP_BINARY_ADD_RELU: return a + b > 0 ? a + b : 0;
    }
    return NAN;
}

/* relu(a + b) in one pass (the residual blocks' end) equals add then relu,
 * bitwise: float32 in channels-last layout as the backbone has it, with sums
 * of both signs, in place and not, with grad off (one pass) and on for a
 * tensor that requires grad (the two ops). */
static int same_bits(const lp_tensor *x, const lp_tensor *y) {
    lp_tensor *ne = NULL;
    int same = lp_tensor_binary(LP_BINARY_NE, x, y, &ne) == LP_STATUS_OK &&
               lp_test_reduce(LP_REDUCE_SUM, ne) == 0;
    lp_tensor_free(ne);
    return same;
}

static void test_add_relu(void) {
    const int64_t shape[4] = {2, 3, 4, 5};
    lp_tensor *a = NULL, *b = NULL, *acl = NULL, *bcl = NULL, *want = NULL;
    LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 1, &a));
    LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 2, &b));
    LP_CHECK_OK(lp_tensor_channels_last(a, &acl));
    LP_CHECK_OK(lp_tensor_channels_last(b, &bcl));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_ADD, acl, bcl, &want));
    LP_CHECK_OK(lp_tensor_unary_(LP_UNARY_RELU, want));
    LP_CHECK(lp_test_reduce(LP_REDUCE_AMIN, want) == 0 && lp_test_reduce(LP_REDUCE_AMAX, want) > 0);
    const int32_t was = lp_grad_is_enabled();
    for (int grad = 0; grad < 2; ++grad) {
        lp_grad_set_enabled(grad);
        lp_tensor *got = NULL, *inplace = NULL;
        if (grad) LP_CHECK_OK(lp_tensor_set_requires_grad(bcl, 1));
        LP_CHECK_OK(lp_tensor_binary(LP_BINARY_ADD_RELU, acl, bcl, &got));
        LP_CHECK(same_bits(got, want));
        LP_CHECK_OK(lp_tensor_clone(acl, &inplace));
        LP_CHECK_OK(lp_tensor_binary_(LP_BINARY_ADD_RELU, inplace, bcl));
        LP_CHECK(same_bits(inplace, want));
        lp_tensor_free(inplace);
        lp_tensor_free(got);
    }
    lp_grad_set_enabled(was);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(acl);
    lp_tensor_free(bcl);
    lp_tensor_free(want);
}

static void test_binary(void) {
    double av[5] = {1.5, 2.0, 3.0, 0.5, 7.0}, bv[5] = {0.5, 2.0, -1.5, 0.75, 0};
    bv[4] = 2.5;
    for (int op = 0; op < LP_BINARY_COUNT; op++) {
        double want[5], ws[5], wsf[5];
        const double s = 1.25;
        for (int i = 0; i < 5; i++) {
            want[i] = b_apply(op, av[i], bv[i]);
            ws[i] = b_apply(op, av[i], s);
            wsf[i] = b_apply(op, s, av[i]);
        }
        lp_tensor *a = vec(av, 5), *b = vec(bv, 5), *y = NULL;
        char what[80];
        lp_status st = lp_tensor_binary((lp_binary_op)op, a, b, &y);
        snprintf(what, sizeof what, "binary op %d", op);
        lp_test_report(st == LP_STATUS_OK && same(y, want, 5, 1e-14), __FILE__, __LINE__, what);
        lp_tensor_free(y);
        st = lp_tensor_binary_scalar((lp_binary_op)op, a, s, 0, &y);
        snprintf(what, sizeof what, "binary op %d with scalar", op);
        lp_test_report(st == LP_STATUS_OK && same(y, ws, 5, 1e-14), __FILE__, __LINE__, what);
        lp_tensor_free(y);
        st = lp_tensor_binary_scalar((lp_binary_op)op, a, s, 1, &y);
        snprintf(what, sizeof what, "binary op %d with scalar first", op);
        lp_test_report(st == LP_STATUS_OK && same(y, wsf, 5, 1e-14), __FILE__, __LINE__, what);
        lp_tensor_free(y);
        st = lp_tensor_binary_((lp_binary_op)op, a, b);
        snprintf(what, sizeof what, "binary op %d in place", op);
        lp_test_report(st == LP_STATUS_OK && lp_tensor_dtype(a) == LP_DTYPE_F64 && same(a, want, 5, 1e-14), __FILE__,
                       __LINE__, what);
        lp_tensor_free(a);
        a = vec(av, 5);
        st = lp_tensor_binary_scalar_((lp_binary_op)op, a, s);
        snprintf(what, sizeof what, "binary op %d with scalar in place", op);
        lp_test_report(st == LP_STATUS_OK && same(a, ws, 5, 1e-14), __FILE__, __LINE__, what);
        lp_tensor_free(a);
        lp_tensor_free(b);
    }
    /* broadcasting [2,1] x [3] -> [2,3]; comparison gives bool; scalar keeps f32 */
    double c2[2] = {1, 10}, r3[3] = {1, 2, 3};
    int64_t s21[2] = {2, 1}, e23[2] = {2, 3};
    lp_tensor *col = NULL, *row = vec(r3, 3), *y = NULL;
    lp_tensor_from_buffer(c2, LP_DTYPE_F64, s21, 2, &col);
    double bw[6] = {2, 3, 4, 11, 12, 13};
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_ADD, col, row, &y));
    LP_CHECK(shape_is(y, 2, e23) && same(y, bw, 6, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_LT, row, col, &y));
    LP_CHECK(lp_tensor_dtype(y) == LP_DTYPE_BOOL);
    lp_tensor_free(y);
    lp_tensor *f = NULL;
    lp_tensor_to(row, LP_DTYPE_F32, LP_DEVICE_CPU, &f);
    LP_CHECK_OK(lp_tensor_binary_scalar(LP_BINARY_MUL, f, 0.5, 0, &y));
    LP_CHECK(lp_tensor_dtype(y) == LP_DTYPE_F32);
    lp_tensor_free(y);
    lp_tensor_free(f);
    lp_tensor_free(col);
    lp_tensor_free(row);

    /* clamp: a NaN bound is no bound */
    double cv[4] = {-3, -1, 1, 3};
    double c_both[4] = {-2, -1, 1, 2}, c_lo[4] = {-2, -1, 1, 3}, c_hi[4] = {-3, -1, 1, 2};
    lp_tensor *x = vec(cv, 4);
    LP_CHECK_OK(lp_tensor_clamp(x, -2, 2, &y));
    LP_CHECK(same(y, c_both, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_clamp(x, -2, NAN, &y));
    LP_CHECK(same(y, c_lo, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_clamp(x, NAN, 2, &y));
    LP_CHECK(same(y, c_hi, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_clamp(x, NAN, NAN, &y));
    LP_CHECK(same(y, cv, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_clamp_(x, NAN, 2));
    LP_CHECK(same(x, c_hi, 4, 0));
    lp_tensor_free(x);
}

/* ---------------------------------------------------------------- masking */

static void test_masking(void) {
    double av[4] = {1, 2, 3, 4}, bv[4] = {-1, -2, -3, -4}, mv[4] = {1, 0, 0, 1};
    lp_tensor *a = vec(av, 4), *b = vec(bv, 4), *m = NULL, *mf = vec(mv, 4), *y = NULL;
    lp_tensor_to(mf, LP_DTYPE_BOOL, LP_DEVICE_CPU, &m);
    double wv[4] = {1, -2, -3, 4};
    LP_CHECK_OK(lp_tensor_where(m, a, b, &y));
    LP_CHECK(same(y, wv, 4, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_where(mf, a, b, &y)); /* nonzero f64 works as a mask too */
    LP_CHECK(same(y, wv, 4, 0));
    lp_tensor_free(y);
    double mfw[4] = {9, 2, 3, 9};
    LP_CHECK_OK(lp_tensor_masked_fill(a, m, 9, &y));
    LP_CHECK(same(y, mfw, 4, 0) && same(a, av, 4, 0));
    lp_tensor_free(y);
    double ms[2] = {1, 4};
    LP_CHECK_OK(lp_tensor_masked_select(a, m, &y));
    LP_CHECK(same(y, ms, 2, 0));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_masked_fill_(a, m, 9));
    LP_CHECK(same(a, mfw, 4, 0));

    double nv[4] = {NAN, INFINITY, -INFINITY, 5}, nw[4] = {0, 100, -100, 5};
    lp_tensor *n = vec(nv, 4);
    LP_CHECK_OK(lp_tensor_nan_to_num(n, 0, 100, -100, &y));
    LP_CHECK(same(y, nw, 4, 0));
    lp_tensor_free(y);
    double isn[4] = {1, 0, 0, 0};
    LP_CHECK_OK(lp_tensor_unary(LP_UNARY_ISNAN, n, &y));
    LP_CHECK(same(y, isn, 4, 0));
    lp_tensor_free(y);
    lp_tensor_free(n);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(m);
    lp_tensor_free(mf);
}

/* ---------------------------------------------------------------- reductions */

static void test_reductions(void) {
    /* x = [[1, 5, 2], [4, 3, 6]] */
    double xv[6] = {1, 5, 2, 4, 3, 6};
    lp_tensor *x = mat(xv, 2, 3), *y = NULL;
    int64_t d0[1] = {0}, d1[1] = {-1}, d01[2] = {0, 1};
    struct {
        int op;
        const int64_t *dims;
        int n;
        int keep;
        int ndim_out;
        double want[3];
    } cases[] = {
        {LP_REDUCE_SUM, NULL, 0, 0, 0, {21}},
        {LP_REDUCE_SUM, d0, 1, 0, 1, {5, 8, 8}},
        {LP_REDUCE_SUM, d1, 1, 1, 2, {8, 13}},
        {LP_REDUCE_SUM, d01, 2, 1, 2, {21}},
        {LP_REDUCE_MEAN, d1, 1, 0, 1, {8.0 / 3, 13.0 / 3}},
        {LP_REDUCE_MEAN, NULL, 0, 1, 2, {3.5}},
        {LP_REDUCE_PROD, d0, 1, 0, 1, {4, 15, 12}},
        {LP_REDUCE_PROD, NULL, 0, 0, 0, {720}},
        {LP_REDUCE_PROD, d01, 2, 1, 2, {720}},
        {LP_REDUCE_AMAX, d1, 1, 0, 1, {5, 6}},
        {LP_REDUCE_AMAX, NULL, 0, 0, 0, {6}},
        {LP_REDUCE_AMIN, d0, 1, 1, 2, {1, 3, 2}},
        {LP_REDUCE_ARGMAX, d1, 1, 0, 1, {1, 2}},
        {LP_REDUCE_ARGMAX, NULL, 0, 0, 0, {5}},
        {LP_REDUCE_ARGMIN, d0, 1, 0, 1, {0, 1, 0}},
        {LP_REDUCE_LOGSUMEXP, d1, 1, 0, 1, {0, 0}}, /* filled below */
        {LP_REDUCE_ANY, d0, 1, 0, 1, {1, 1, 1}},
        {LP_REDUCE_ALL, NULL, 0, 0, 0, {1}},
        {LP_REDUCE_NANSUM, d0, 1, 0, 1, {5, 8, 8}},
        {LP_REDUCE_NANMEAN, NULL, 0, 0, 0, {3.5}},
    };
    int ncase = (int)(sizeof cases / sizeof cases[0]);
    cases[15].want[0] = log(exp(1) + exp(5) + exp(2));
    cases[15].want[1] = log(exp(4) + exp(3) + exp(6));
    for (int k = 0; k < ncase; k++) {
        int64_t nwant = 1;
        int64_t shp[LP_MAX_DIMS];
        lp_status st = lp_tensor_reduce((lp_reduce_op)cases[k].op, x, cases[k].dims, cases[k].n, cases[k].keep, &y);
        int ok = st == LP_STATUS_OK && lp_tensor_shape(y, shp) == cases[k].ndim_out;
        if (ok) nwant = lp_tensor_numel(y);
        ok = ok && same(y, cases[k].want, nwant, 1e-14);
        char what[80];
        snprintf(what, sizeof what, "reduce op %d case %d", cases[k].op, k);
        lp_test_report(ok, __FILE__, __LINE__, what);
        lp_tensor_free(y);
        y = NULL;
    }
    /* NaN-aware reductions skip NaN */
    double nv[3] = {1, NAN, 3};
    lp_tensor *n = vec(nv, 3);
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_NANSUM, n, NULL, 0, 0, &y));
    LP_CHECK(item(y) == 4);
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_NANMEAN, n, NULL, 0, 0, &y));
    LP_CHECK(item(y) == 2);
    lp_tensor_free(y);
    lp_tensor_free(n);

    /* max/min along a dim with indices */
    lp_tensor *v = NULL, *i = NULL;
    double mx[3] = {4, 5, 6}, mi[3] = {1, 0, 1};
    LP_CHECK_OK(lp_tensor_max_dim(x, 0, 0, &v, &i));
    LP_CHECK(same(v, mx, 3, 0) && same(i, mi, 3, 0) && lp_tensor_dtype(i) == LP_DTYPE_I64);
    lp_tensor_free(v);
    lp_tensor_free(i);
    double mn[2] = {1, 3};
    LP_CHECK_OK(lp_tensor_min_dim(x, 1, 1, &v, NULL));
    LP_CHECK(same(v, mn, 2, 0) && lp_tensor_dim(v) == 2);
    lp_tensor_free(v);

    /* std / var, unbiased and biased */
    double m0 = 3.5, ss = 0;
    for (int k = 0; k < 6; k++) ss += (xv[k] - m0) * (xv[k] - m0);
    LP_CHECK_OK(lp_tensor_var(x, NULL, 0, 1, 0, &y));
    LP_CHECK_CLOSE(item(y), ss / 5, 1e-14);
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_std(x, NULL, 0, 0, 0, &y));
    LP_CHECK_CLOSE(item(y), sqrt(ss / 6), 1e-14);
    lp_tensor_free(y);
    double vr[2] = {7.0 / 3 * 3 / 2, 7.0 / 3 * 3 / 2}; /* rows: var([1,5,2]) = 13/3, var([4,3,6]) = 7/3 */
    vr[0] = 13.0 / 3;
    vr[1] = 7.0 / 3;
    LP_CHECK_OK(lp_tensor_var(x, d1, 1, 1, 1, &y));
    LP_CHECK(same(y, vr, 2, 1e-14) && lp_tensor_dim(y) == 2);
    lp_tensor_free(y);
    double sr[3] = {sqrt(4.5), sqrt(2), sqrt(8)};
    LP_CHECK_OK(lp_tensor_std(x, d0, 1, 1, 0, &y));
    LP_CHECK(same(y, sr, 3, 1e-14));
    lp_tensor_free(y);

    /* norms */
    LP_CHECK_OK(lp_tensor_norm(x, 2, NULL, 0, 0, &y));
    LP_CHECK_CLOSE(item(y), sqrt(1 + 25 + 4 + 16 + 9 + 36), 1e-13);
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_norm(x, INFINITY, NULL, 0, 0, &y));
    LP_CHECK(item(y) == 6);
    lp_tensor_free(y);
    double n1[2] = {8, 13};
    LP_CHECK_OK(lp_tensor_norm(x, 1, d1, 1, 0, &y));
    LP_CHECK(same(y, n1, 2, 1e-14));
    lp_tensor_free(y);

    /* quantile: linear interpolation */
    LP_CHECK_OK(lp_tensor_quantile(x, 0.5, 0, 0, 0, &y));
    LP_CHECK_CLOSE(item(y), 3.5, 1e-14);
    lp_tensor_free(y);
    double q[2] = {1 + 0.25 * 2 * 1, 3 + 0.25 * 2 * 1}; /* sorted rows [1,2,5], [3,4,6]: pos 0.5 */
    q[0] = 1.5;
    q[1] = 3.5;
    LP_CHECK_OK(lp_tensor_quantile(x, 0.25, 1, 1, 0, &y));
    LP_CHECK(same(y, q, 2, 1e-14));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_quantile(x, 0.9, 1, 0, 1, &y)); /* columns: [1,4] -> 3.7 etc. */
    double q9[3] = {1 + 0.9 * 3, 3 + 0.9 * 2, 2 + 0.9 * 4};
    LP_CHECK(same(y, q9, 3, 1e-14) && lp_tensor_dim(y) == 2);
    lp_tensor_free(y);

    double cs[6] = {1, 6, 8, 4, 7, 13};
    LP_CHECK_OK(lp_tensor_cumsum(x, 1, &y));
    LP_CHECK(same(y, cs, 6, 0));
    lp_tensor_free(y);
    lp_tensor_free(x);
}

/* ---------------------------------------------------------------- linalg */

static void test_linalg(void) {
    double av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {1, 0, -1, 2, 0.5, 1};
    lp_tensor *a = mat(av, 2, 3), *b = mat(bv, 3, 2), *y = NULL;
    double ab[4] = {1 - 2 + 1.5, 0 + 4 + 3, 4 - 5 + 3, 0 + 10 + 6};
    LP_CHECK_OK(lp_tensor_matmul(a, b, &y));
    LP_CHECK(same(y, ab, 4, 1e-14));
    lp_tensor_free(y);

    int64_t s3[3] = {2, 2, 3}, t3[3] = {2, 3, 2};
    lp_tensor *a3 = iota(s3, 3), *b3 = iota(t3, 3);
    double bm[8] = {10, 13, 28, 40, 172, 193, 244, 274};
    LP_CHECK_OK(lp_tensor_bmm(a3, b3, &y));
    LP_CHECK(same(y, bm, 8, 1e-14));
    lp_tensor_free(y);
    LP_CHECK_OK(lp_tensor_matmul(a3, b3, &y));
    LP_CHECK(same(y, bm, 8, 1e-14));
    lp_tensor_free(y);
    lp_tensor_free(a3);
    lp_tensor_free(b3);

    /* linear: x W^T + b */
    double wv[6] = {1, 0, 1, 0, 1, 0}, biasv[2] = {0.5, -0.5};
    lp_tensor *w = mat(wv, 2, 3), *bias = vec(biasv, 2);
    double lw[4] = {4.5, 1.5, 10.5, 4.5};
    LP_CHECK_OK(lp_tensor_linear(a, w, bias, &y));
    LP_CHECK(same(y, lw, 4, 1e-14));
    lp_tensor_free(y);
    double ln[4] = {4, 2, 10, 5};
    LP_CHECK_OK(lp_tensor_linear(a, w, NULL, &y));
    LP_CHECK(same(y, ln, 4, 1e-14));
    lp_tensor_free(y);
    lp_tensor_free(w);
    lp_tensor_free(bias);

    /* svd: U diag(S) Vh reconstructs A; S descending */
    lp_tensor *u = NULL, *s = NULL, *vh = NULL;
    LP_CHECK_OK(lp_tensor_svd(a, 0, &u, &s, &vh));
    int64_t eu[2] = {2, 2}, evh[2] = {2, 3};
    LP_CHECK(shape_is(u, 2, eu) && lp_tensor_numel(s) == 2 && shape_is(vh, 2, evh));
    lp_tensor *us = NULL, *rec = NULL;
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, u, s, &us)); /* U * S broadcasts over columns */
    LP_CHECK_OK(lp_tensor_matmul(us, vh, &rec));
    LP_CHECK(same(rec, av, 6, 1e-12));
    double sv[2];
    values(s, sv, 2);
    LP_CHECK(sv[0] >= sv[1] && sv[1] > 0);
    lp_tensor_free(us);
    lp_tensor_free(rec);
    lp_tensor_free(u);
    lp_tensor_free(s);
    lp_tensor_free(vh);
    LP_CHECK_OK(lp_tensor_svd(a, 1, &u, &s, &vh));
    int64_t evf[2] = {3, 3};
    LP_CHECK(shape_is(vh, 2, evf));
    lp_tensor_free(u);
    lp_tensor_free(s);
    lp_tensor_free(vh);

    /* eigh: [[2,1],[1,2]] -> 1, 3 ascending; A v = lambda v */
    double sym[4] = {2, 1, 1, 2}, ev[2] = {1, 3};
    lp_tensor *m = mat(sym, 2, 2), *vals = NULL, *vecs = NULL;
    LP_CHECK_OK(lp_tensor_eigh(m, &vals, &vecs));
    LP_CHECK(same(vals, ev, 2, 1e-14));
    lp_tensor *av2 = NULL, *vl = NULL;
    LP_CHECK_OK(lp_tensor_matmul(m, vecs, &av2));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, vecs, vals, &vl));
    double x1[4], x2[4];
    values(av2, x1, 4);
    LP_CHECK(same(vl, x1, 4, 1e-13));
    values(vecs, x2, 4);
    LP_CHECK_CLOSE(fabs(x2[0]), sqrt(0.5), 1e-13);
    lp_tensor_free(av2);
    lp_tensor_free(vl);
    lp_tensor_free(vals);
    lp_tensor_free(vecs);
    lp_tensor_free(m);
    lp_tensor_free(a);
    lp_tensor_free(b);
}

int main(void) {
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    test_runtime();
    test_creation();
    test_dtypes();
    test_random();
    test_mem_stats();
    test_views();
    test_unary();
    test_binary();
    test_add_relu();
    test_masking();
    test_reductions();
    test_linalg();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors); /* every handle freed */
    LP_DONE();
}
