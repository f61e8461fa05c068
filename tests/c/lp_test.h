/* lp_test.h: the C tests' whole framework. Each check prints one TAP line
 * ("ok N - what" / "not ok N - what"), which tests/run_all.sh counts.
 * A test file is one executable; main() calls LP_DONE() last. */
#ifndef LP_TEST_H
#define LP_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpose.h"

static int lp_test_count = 0;
static int lp_test_failed = 0;

static inline int lp_test_report(int ok, const char *file, int line, const char *what) {
    ++lp_test_count;
    if (ok) {
        printf("ok %d - %s\n", lp_test_count, what);
    } else {
        ++lp_test_failed;
        printf("not ok %d - %s\n#   at %s:%d\n", lp_test_count, what, file, line);
    }
    fflush(stdout);
    return ok;
}

/* A check that must hold. */
#define LP_CHECK(cond) lp_test_report(!!(cond), __FILE__, __LINE__, #cond)
/* A call that must succeed; on failure prints lp_last_error(). */
#define LP_CHECK_OK(call)                                                              \
    do {                                                                               \
        lp_status lp_st_ = (call);                                                     \
        if (!lp_test_report(lp_st_ == LP_STATUS_OK, __FILE__, __LINE__, #call))        \
            printf("#   status %s: %s\n", lp_status_name(lp_st_), lp_last_error());  \
    } while (0)
/* A call that must fail with `status` and leave a message naming `fn`. */
#define LP_CHECK_FAILS(call, status, fn)                                               \
    do {                                                                               \
        lp_status lp_st_ = (call);                                                     \
        int lp_ok_ = lp_st_ == (status) && strstr(lp_last_error(), (fn)) != NULL;      \
        if (!lp_test_report(lp_ok_, __FILE__, __LINE__, #call " fails"))               \
            printf("#   got %s: %s\n", lp_status_name(lp_st_), lp_last_error());     \
    } while (0)
#define LP_CHECK_CLOSE(a, b, tol)                                                      \
    do {                                                                               \
        double lp_a_ = (a), lp_b_ = (b);                                               \
        if (!lp_test_report(fabs(lp_a_ - lp_b_) <= (tol), __FILE__, __LINE__,          \
                            #a " ~= " #b))                                             \
            printf("#   %.10g vs %.10g (tol %g)\n", lp_a_, lp_b_, (double)(tol));     \
    } while (0)
/* Skip the rest of a test file, e.g. when a dataset is absent. */
#define LP_SKIP_ALL(why)                                                               \
    do {                                                                               \
        printf("1..0 # SKIP %s\n", why);                                               \
        return 0;                                                                      \
    } while (0)
/* A fresh model with default parameters but these (image h x w, init seed),
 * or NULL after printing why lp_model_init failed. */
static inline lp_model *lp_test_model(int32_t type, int32_t backbone, int32_t k, int64_t h, int64_t w,
                                      int64_t seed) {
    lp_model_params p = lp_model_default_params();
    p.model_type = type;
    p.backbone = backbone;
    p.num_keypoints = k;
    p.image_height = h;
    p.image_width = w;
    p.seed = seed;
    lp_model *m = NULL;
    if (lp_model_init(&p, &m) != LP_STATUS_OK) printf("# init: %s\n", lp_last_error());
    return m;
}

/* A full reduction of t as a double (NAN when it fails): the tests' way to
 * read a max, min or sum. */
static inline double lp_test_reduce(lp_reduce_op op, const lp_tensor *t) {
    lp_tensor *r = NULL;
    double v = NAN;
    if (lp_tensor_reduce(op, t, NULL, 0, 0, &r) == LP_STATUS_OK) lp_tensor_item(r, &v);
    lp_tensor_free(r);
    return v;
}

#define LP_SKIP(why) printf("ok %d # SKIP %s\n", ++lp_test_count, why)
#define LP_DONE()                                                                      \
    do {                                                                               \
        printf("1..%d\n", lp_test_count);                                              \
        return lp_test_failed ? 1 : 0;                                                 \
    } while (0)

#endif
