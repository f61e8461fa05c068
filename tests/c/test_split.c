/* test_split.c: LP's seeded split (docs/spec/lp-data-train.md §1.6), torch randperm parity. */
#include "lp_test.h"

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(void) {
    int64_t s[3];
    LP_CHECK_OK(lp_split_sizes(90, 0.8, 0.1, s));
    LP_CHECK(s[0] == 72 && s[1] == 9 && s[2] == 9);
    LP_CHECK_OK(lp_split_sizes(100, 0.95, 0.05, s)); /* leftover 0 */
    LP_CHECK(s[0] == 95 && s[1] == 5 && s[2] == 0);
    LP_CHECK_OK(lp_split_sizes(43, 0.8, 0.1, s)); /* 34, 4, leftover 5 -> test */
    LP_CHECK(s[0] == 34 && s[1] == 4 && s[2] == 5);
    LP_CHECK_OK(lp_split_sizes(42, 0.8, 0.1, s)); /* 33, 4, leftover 5 */
    LP_CHECK(s[0] == 33 && s[1] == 4 && s[2] == 5);
    LP_CHECK_OK(lp_split_sizes(40, 0.8, 0.1, s)); /* 32, 4, leftover 4 -> train */
    LP_CHECK(s[0] == 36 && s[1] == 4 && s[2] == 0);
    LP_CHECK_OK(lp_split_sizes(5, 0.8, 0.1, s)); /* n_val 0 -> one from train */
    LP_CHECK(s[0] == 4 && s[1] == 1 && s[2] == 0);
    LP_CHECK_FAILS(lp_split_sizes(1, 0.8, 0.1, s), LP_STATUS_BAD_ARG, "lp_split_sizes");
    LP_CHECK_FAILS(lp_split_sizes(10, 0.8, 0.3, s), LP_STATUS_BAD_ARG, "lp_split_sizes");

    /* torch.randperm(90, generator=Generator().manual_seed(42)) (python3-torch 1.13) */
    static const int64_t perm42[90] = {42, 66, 22, 82, 70, 45, 46, 85, 60, 38, 28, 88, 56, 17, 69, 37, 55, 23,
                                       57, 26, 49, 12, 27, 67, 71, 43, 63, 19, 31, 13, 0,  20, 87, 16, 39, 10,
                                       65, 77, 74, 78, 76, 84, 29, 18, 5,  53, 73, 24, 81, 62, 80, 2,  35, 61,
                                       11, 59, 7,  86, 8,  79, 25, 1,  34, 54, 68, 40, 14, 33, 6,  36, 32, 72,
                                       51, 15, 52, 89, 30, 41, 50, 83, 64, 21, 58, 3,  47, 48, 4,  44, 75, 9};
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_tensor_randperm(90, 42, &t));
    int64_t p[90];
    LP_CHECK_OK(lp_tensor_to_buffer(t, p, sizeof p));
    LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_I64 && !memcmp(p, perm42, sizeof p));
    lp_tensor_free(t);
    LP_CHECK_FAILS(lp_tensor_randperm(-1, 0, &t), LP_STATUS_BAD_ARG, "lp_tensor_randperm");

    /* mirror-mouse example: val and test sets from the doc */
    int64_t perm[90];
    LP_CHECK_OK(lp_split_indices(90, 0.8, 0.1, 42, 1.0, perm, s));
    LP_CHECK(s[0] == 72 && s[1] == 9 && s[2] == 9);
    static const int64_t val[9] = {15, 30, 41, 50, 51, 52, 64, 83, 89}, test[9] = {3, 4, 9, 21, 44, 47, 48, 58, 75};
    int64_t v[9], te[9];
    memcpy(v, perm + 72, sizeof v);
    memcpy(te, perm + 81, sizeof te);
    qsort(v, 9, 8, cmp64);
    qsort(te, 9, 8, cmp64);
    LP_CHECK(!memcmp(v, val, sizeof v));
    LP_CHECK(!memcmp(te, test, sizeof te));
    LP_CHECK(!memcmp(perm, perm42, 72 * 8)); /* train = the first 72, shuffled order */

    /* train_frames: count, fraction, >= n_train, 1, <= 0 */
    LP_CHECK_OK(lp_split_indices(90, 0.8, 0.1, 42, 10, perm, s));
    LP_CHECK(s[0] == 10 && s[1] == 9 && s[2] == 9 && perm[0] == 42 && perm[9] == 38 && perm[72] == 51);
    LP_CHECK_OK(lp_split_indices(90, 0.8, 0.1, 42, 0.5, perm, s));
    LP_CHECK(s[0] == 36);
    LP_CHECK_OK(lp_split_indices(90, 0.8, 0.1, 42, 500, perm, s));
    LP_CHECK(s[0] == 72);
    LP_CHECK_FAILS(lp_split_indices(90, 0.8, 0.1, 42, 0, perm, s), LP_STATUS_BAD_ARG, "lp_split_indices");
    LP_CHECK_FAILS(lp_split_indices(90, 0.8, 0.1, 42, -3, perm, s), LP_STATUS_BAD_ARG, "lp_split_indices");
    LP_DONE();
}
