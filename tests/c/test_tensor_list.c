/* test_tensor_list.c: named tensor lists and the .lpt file: round trips of
 * every dtype and odd shapes, metadata, lookup, bit-identical data, atomic
 * save with no leftover temporary files. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lp_test.h"

static char g_dir[64];

static int count_tmp_files(void) {
    int n = 0;
    DIR *d = opendir(g_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-")) n++;
    if (d) closedir(d);
    return n;
}

static int bytes_equal(const lp_tensor *a, const lp_tensor *b) {
    int64_t sa[LP_MAX_DIMS], sb[LP_MAX_DIMS];
    int32_t na = lp_tensor_shape(a, sa), nb = lp_tensor_shape(b, sb);
    if (na < 0 || na != nb || memcmp(sa, sb, sizeof(int64_t) * (size_t)na) != 0) return 0;
    if (lp_tensor_dtype(a) != lp_tensor_dtype(b)) return 0;
    int64_t nbytes = lp_tensor_numel(a) * lp_dtype_size((lp_dtype)lp_tensor_dtype(a));
    unsigned char *x = malloc((size_t)nbytes + 1), *y = malloc((size_t)nbytes + 1);
    int ok = lp_tensor_to_buffer(a, x, nbytes) == LP_STATUS_OK && lp_tensor_to_buffer(b, y, nbytes) == LP_STATUS_OK &&
             memcmp(x, y, (size_t)nbytes) == 0;
    free(x);
    free(y);
    return ok;
}

static void test_list_api(void) {
    lp_tensor_list *l = NULL;
    LP_CHECK_OK(lp_tensor_list_init(&l));
    LP_CHECK(lp_tensor_list_size(l) == 0 && strcmp(lp_tensor_list_meta(l), "") == 0);
    lp_tensor *t = NULL, *g = NULL;
    int64_t s[1] = {4};
    lp_tensor_ones(s, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &t);
    for (int i = 0; i < 20; i++) { /* grows past the initial capacity */
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        LP_CHECK_OK(lp_tensor_list_push(l, name, t));
    }
    lp_tensor_free(t); /* the list holds its own references */
    LP_CHECK(lp_tensor_list_size(l) == 20);
    LP_CHECK(strcmp(lp_tensor_list_name(l, 7), "t7") == 0);
    LP_CHECK(lp_tensor_list_name(l, 20) == NULL && lp_tensor_list_name(l, -1) == NULL);
    LP_CHECK(lp_tensor_list_find(l, "t13") == 13 && lp_tensor_list_find(l, "nope") == -1);
    LP_CHECK_OK(lp_tensor_list_get(l, 19, &g));
    LP_CHECK(lp_tensor_numel(g) == 4);
    lp_tensor_free(g);
    LP_CHECK_FAILS(lp_tensor_list_get(l, 20, &g), LP_STATUS_BAD_ARG, "lp_tensor_list_get");
    LP_CHECK_OK(lp_tensor_list_set_meta(l, "{\"epoch\": 3}"));
    LP_CHECK(strcmp(lp_tensor_list_meta(l), "{\"epoch\": 3}") == 0);
    LP_CHECK_OK(lp_tensor_list_set_meta(l, NULL));
    LP_CHECK(strcmp(lp_tensor_list_meta(l), "") == 0);
    lp_tensor_list_free(l);
    lp_tensor_list_free(NULL);
    LP_CHECK(lp_tensor_list_size(NULL) == 0 && lp_tensor_list_find(NULL, "x") == -1);
}

static void test_round_trip(void) {
    lp_tensor_list *l = NULL, *back = NULL;
    lp_tensor_list_init(&l);
    lp_tensor *ts[12] = {0};
    int nt = 0;
    /* one tensor of every dtype, with varied shapes */
    int64_t shapes[8][3] = {{2, 3, 4}, {5, 0, 0}, {3, 1, 2}, {7, 0, 0}, {2, 2, 0}, {1, 9, 0}, {4, 4, 0}, {3, 0, 0}};
    int32_t ndims[8] = {3, 1, 3, 1, 2, 2, 2, 1};
    for (int d = 0; d < 8; d++) {
        lp_tensor *r = NULL;
        lp_tensor_randn(shapes[d], ndims[d], LP_DTYPE_F64, LP_DEVICE_CPU, 100 + d, &r);
        lp_tensor_binary_scalar_(LP_BINARY_MUL, r, 50);
        lp_tensor_to(r, (lp_dtype)d, LP_DEVICE_CPU, &ts[nt]);
        lp_tensor_free(r);
        char name[32];
        snprintf(name, sizeof name, "dtype/%s", lp_dtype_name((lp_dtype)d));
        LP_CHECK_OK(lp_tensor_list_push(l, name, ts[nt]));
        nt++;
    }
    /* 0-dim, empty, non-contiguous, 16 dims */
    lp_tensor_full(NULL, 0, 3.25, LP_DTYPE_F32, LP_DEVICE_CPU, &ts[nt]);
    lp_tensor_list_push(l, "scalar", ts[nt++]);
    int64_t e[2] = {0, 3};
    lp_tensor_zeros(e, 2, LP_DTYPE_I64, LP_DEVICE_CPU, &ts[nt]);
    lp_tensor_list_push(l, "empty", ts[nt++]);
    lp_tensor *tr = NULL;
    lp_tensor_transpose(ts[0], 0, 2, &tr);
    ts[nt] = tr;
    LP_CHECK(!lp_tensor_is_contiguous(tr));
    lp_tensor_list_push(l, "transposed", ts[nt++]);
    int64_t s16[16];
    for (int i = 0; i < 16; i++) s16[i] = (i % 3 == 0) ? 2 : 1;
    lp_tensor_ones(s16, 16, LP_DTYPE_U8, LP_DEVICE_CPU, &ts[nt]);
    lp_tensor_list_push(l, "sixteen dims", ts[nt++]);
    const char *meta = "{\"lpose\": \"0.1.0\", \"note\": \"unicode \xc3\xa9\"}";
    lp_tensor_list_set_meta(l, meta);

    char path[128];
    snprintf(path, sizeof path, "%s/round.lpt", g_dir);
    LP_CHECK_OK(lp_tensor_list_save(l, path));
    LP_CHECK(count_tmp_files() == 0);
    LP_CHECK_OK(lp_tensor_list_load(path, &back));
    LP_CHECK(lp_tensor_list_size(back) == nt);
    LP_CHECK(strcmp(lp_tensor_list_meta(back), meta) == 0);
    for (int i = 0; i < nt; i++) {
        lp_tensor *g = NULL;
        char what[96];
        int ok = strcmp(lp_tensor_list_name(back, i), lp_tensor_list_name(l, i)) == 0 &&
                 lp_tensor_list_find(back, lp_tensor_list_name(l, i)) == i &&
                 lp_tensor_list_get(back, i, &g) == LP_STATUS_OK && bytes_equal(g, ts[i]) &&
                 lp_tensor_is_contiguous(g) && lp_tensor_device(g) == LP_DEVICE_CPU;
        snprintf(what, sizeof what, "'%s' round-trips bit for bit", lp_tensor_list_name(l, i));
        lp_test_report(ok, __FILE__, __LINE__, what);
        lp_tensor_free(g);
    }
    lp_tensor_list_free(back);

    /* the file is exactly as long as the format says */
    struct stat sb;
    int64_t want = 8 + 8 + (int64_t)strlen(meta);
    for (int i = 0; i < nt; i++)
        want += 4 + (int64_t)strlen(lp_tensor_list_name(l, i)) + 8 + 8 * lp_tensor_dim(ts[i]) + 8 +
                lp_tensor_numel(ts[i]) * lp_dtype_size((lp_dtype)lp_tensor_dtype(ts[i]));
    LP_CHECK(stat(path, &sb) == 0 && (int64_t)sb.st_size == want);

    /* overwriting an existing file replaces it whole */
    lp_tensor_list *small = NULL;
    lp_tensor_list_init(&small);
    lp_tensor_list_push(small, "only", ts[8]);
    LP_CHECK_OK(lp_tensor_list_save(small, path));
    LP_CHECK_OK(lp_tensor_list_load(path, &back));
    LP_CHECK(lp_tensor_list_size(back) == 1 && strcmp(lp_tensor_list_meta(back), "") == 0);
    lp_tensor_list_free(back);
    lp_tensor_list_free(small);
    /* an empty list is a valid file */
    lp_tensor_list_init(&small);
    LP_CHECK_OK(lp_tensor_list_save(small, path));
    LP_CHECK_OK(lp_tensor_list_load(path, &back));
    LP_CHECK(lp_tensor_list_size(back) == 0);
    lp_tensor_list_free(back);
    lp_tensor_list_free(small);
    LP_CHECK(count_tmp_files() == 0);
    unlink(path);

    for (int i = 0; i < nt; i++) lp_tensor_free(ts[i]);
    lp_tensor_list_free(l);
}

/* Inputs the fuzzer found (docs/developer/fuzzing.md): a dtype field outside
 * the enum was passed to lp_dtype_size, undefined behaviour in C++. */
static void test_fuzz_findings(void) {
    lp_tensor_list *l = NULL;
    LP_CHECK_FAILS(lp_tensor_list_load("tests/fixtures/fuzz/lpt/dtype-out-of-enum.lpt", &l), LP_STATUS_BAD_ARG,
                   "has an invalid dtype");
    LP_CHECK(l == NULL);
    LP_CHECK(lp_dtype_size((lp_dtype)838860806) == 0 && lp_dtype_size((lp_dtype)-1) == 0);
}

int main(void) {
    lp_runtime_init(0);
    snprintf(g_dir, sizeof g_dir, "/tmp/lpose_tl_XXXXXX");
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    test_list_api();
    test_round_trip();
    test_fuzz_findings();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors);
    LP_CHECK(rmdir(g_dir) == 0); /* nothing left behind */
    LP_DONE();
}
