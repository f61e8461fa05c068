/* test_labels.c: label CSV reader (engine/src/data/labels_csv.c). Runs from the
 * repository root (tests/run_all.sh does); mirror-mouse checks skip when
 * ../shared/data/mirror-mouse-example is absent. */
#include <math.h>
#include <unistd.h>

#include "lp_fixtures.h"
#include "lp_test.h"

#define FIX "tests/fixtures/data"
#define MOUSE "../shared/data/mirror-mouse-example"

/* Expect a failure with `status`, and a message containing each of the words. */
static void check_fails(const char *csv, const char *dir, lp_status status, const char *w1,
                        const char *w2) {
    lp_labels *l = NULL;
    lp_status st = lp_labels_read(csv, dir, &l);
    const char *msg = lp_last_error();
    int ok = st == status && l == NULL && strstr(msg, "lp_labels_read") && strstr(msg, csv) &&
             (!w1 || strstr(msg, w1)) && (!w2 || strstr(msg, w2));
    char what[256];
    snprintf(what, sizeof what, "%s is rejected with %s", csv, lp_status_name(status));
    lp_test_report(ok, __FILE__, __LINE__, what);
    printf("#   %s: %s\n", lp_status_name(st), msg);
    lp_labels_free(l);
}

static void test_ok(void) {
    lp_labels *l = NULL;
    LP_CHECK_OK(lp_labels_read(FIX "/labels_ok.csv", FIX, &l));
    if (!l) return;
    LP_CHECK(lp_labels_n_frames(l) == 3);
    LP_CHECK(lp_labels_n_keypoints(l) == 3);
    LP_CHECK(strcmp(lp_labels_scorer(l), "me") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 0), "nose") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 1), "tail") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 2), "paw") == 0);
    LP_CHECK(lp_labels_keypoint_name(l, 3) == NULL && lp_labels_keypoint_name(l, -1) == NULL);
    LP_CHECK(strcmp(lp_labels_image_path(l, 0), "labeled-data/frame0008.png") == 0);
    LP_CHECK(strcmp(lp_labels_image_path(l, 2), "labeled-data/color.png") == 0);
    LP_CHECK(lp_labels_image_path(l, 3) == NULL);
    const float *v = lp_labels_keypoints_data(l);
    LP_CHECK(v[0] == 1.5f && v[1] == 2.25f && isnan(v[2]) && isnan(v[3]) && v[4] == 7.0f &&
             isnan(v[5]));
    int all_nan = 1; /* a row whose cells are all empty is kept (no pandas quirk) */
    for (int i = 6; i < 12; ++i) all_nan &= isnan(v[i]);
    LP_CHECK(all_nan);
    LP_CHECK(v[12] == 3.0f && v[13] == 4.0f && v[14] == 5.5f && v[15] == 6.5f && v[16] == 0.0f);

    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_labels_keypoints(l, &t));
    if (t) {
        int64_t shape[LP_MAX_DIMS];
        LP_CHECK(lp_tensor_shape(t, shape) == 3 && shape[0] == 3 && shape[1] == 3 && shape[2] == 2);
        LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_F32);
        float buf[18];
        LP_CHECK_OK(lp_tensor_to_buffer(t, buf, sizeof buf));
        LP_CHECK(buf[14] == 5.5f && isnan(buf[2]));
        lp_tensor_free(t);
    }
    lp_labels_free(l);
    lp_labels_free(NULL);
    LP_CHECK(lp_labels_n_frames(NULL) == -1 && lp_labels_n_keypoints(NULL) == -1);
}

static void test_variants(void) {
    lp_labels *l = NULL;
    /* CRLF line ends, a quoted path and a trailing blank line */
    LP_CHECK_OK(lp_labels_read(FIX "/labels_crlf.csv", FIX, &l));
    LP_CHECK(l && lp_labels_n_frames(l) == 1 &&
             strcmp(lp_labels_image_path(l, 0), "labeled-data/color.png") == 0);
    lp_labels_free(l);
    l = NULL;
    /* UTF-8 BOM, a quoted path with a comma and doubled quotes */
    LP_CHECK_OK(lp_labels_read(FIX "/labels_quoted.csv", NULL, &l));
    LP_CHECK(l && lp_labels_n_frames(l) == 1 &&
             strcmp(lp_labels_image_path(l, 0), "dir/a,\"b\".png") == 0 &&
             strcmp(lp_labels_scorer(l), "me") == 0 && isnan(lp_labels_keypoints_data(l)[1]));
    lp_labels_free(l);
    l = NULL;
    /* LP: a CSV path that does not exist as given is joined with data_dir */
    LP_CHECK_OK(lp_labels_read("labels_ok.csv", FIX, &l));
    LP_CHECK(l && lp_labels_n_frames(l) == 3);
    lp_labels_free(l);
    l = NULL;
    /* no data_dir: images are not checked */
    LP_CHECK_OK(lp_labels_read(FIX "/bad_missing_image.csv", NULL, &l));
    LP_CHECK(l && lp_labels_n_frames(l) == 2);
    lp_labels_free(l);
}

static void test_visibility(void) {
    lp_labels *l = NULL;
    LP_CHECK_OK(lp_labels_read(FIX "/labels_visible.csv", FIX, &l));
    if (!l) return;
    LP_CHECK(lp_labels_has_visibility(l) == 1 && lp_labels_n_keypoints(l) == 2);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 1), "tail") == 0);
    const float *v = lp_labels_keypoints_data(l);
    LP_CHECK(v[0] == 1.5f && v[1] == 2.5f && isnan(v[2]) && v[4] == 3.0f && v[7] == 6.0f);
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_labels_visibility(l, &t));
    int64_t flags[4] = {-1, -1, -1, -1}, shape[LP_MAX_DIMS];
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 2 && shape[0] == 2 && shape[1] == 2);
        LP_CHECK_OK(lp_tensor_to_buffer(t, flags, sizeof flags));
        lp_tensor_free(t);
    }
    LP_CHECK(flags[0] == 2 && flags[1] == 0 && flags[2] == 2 && flags[3] == 1);
    lp_labels_free(l);
    l = NULL;
    LP_CHECK_OK(lp_labels_read(FIX "/labels_ok.csv", FIX, &l));
    LP_CHECK(lp_labels_has_visibility(l) == 0);
    LP_CHECK_FAILS(lp_labels_visibility(l, &t), LP_STATUS_BAD_ARG, "no 'visible' coords");
    lp_labels_free(l);
}

static void test_bad(void) {
    check_fails(FIX "/nonexistent.csv", FIX, LP_STATUS_IO, "cannot read", NULL);
    check_fails(FIX "/bad_header.csv", FIX, LP_STATUS_BAD_ARG, "line 2, column 1", "bodyparts");
    check_fails(FIX "/bad_two_rows.csv", FIX, LP_STATUS_BAD_ARG, "line 3", "coords");
    check_fails(FIX "/bad_odd_columns.csv", FIX, LP_STATUS_BAD_ARG, "line 1", "multiple of 2");
    check_fails(FIX "/bad_ragged_row.csv", FIX, LP_STATUS_BAD_ARG, "line 5", "expected 3");
    check_fails(FIX "/bad_non_numeric.csv", FIX, LP_STATUS_BAD_ARG, "line 5, column 4", "'abc'");
    check_fails(FIX "/bad_duplicate.csv", FIX, LP_STATUS_BAD_ARG, "line 2, column 4",
                "duplicate keypoint name 'nose'");
    check_fails(FIX "/bad_coords.csv", FIX, LP_STATUS_BAD_ARG, "line 3, column 4", "likelihood");
    check_fails(FIX "/bad_visible_flag.csv", FIX, LP_STATUS_BAD_ARG, "line 4, column 4",
                "flag '3' must be 0, 1 or 2");
    check_fails(FIX "/bad_visible_partial.csv", FIX, LP_STATUS_BAD_ARG, "line 1",
                "multiple of 3 (x,y,visible per keypoint)");
    check_fails(FIX "/bad_missing_image.csv", FIX, LP_STATUS_IO, "line 5, column 1",
                "labeled-data/nope.png");
    LP_CHECK_FAILS(lp_labels_read(NULL, FIX, NULL), LP_STATUS_BAD_ARG, "lp_labels_read");
}

static void test_mirror_mouse(void) {
    if (access(MOUSE "/CollectedData.csv", R_OK) != 0) {
        LP_SKIP("mirror-mouse-example not found at " MOUSE);
        return;
    }
    lp_labels *l = NULL;
    LP_CHECK_OK(lp_labels_read(MOUSE "/CollectedData.csv", MOUSE, &l));
    if (!l) return;
    LP_CHECK(lp_labels_n_frames(l) == 90);
    LP_CHECK(lp_labels_n_keypoints(l) == 17);
    LP_CHECK(strcmp(lp_labels_scorer(l), "rick") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 0), "paw1LH_top") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 7), "obs_top") == 0);
    LP_CHECK(strcmp(lp_labels_keypoint_name(l, 16), "obsLow_bot") == 0);
    LP_CHECK(strcmp(lp_labels_image_path(l, 0), "labeled-data/img01.png") == 0);
    LP_CHECK(strcmp(lp_labels_image_path(l, 89), "labeled-data/img90.png") == 0);
    const float *v = lp_labels_keypoints_data(l);
    int n_nan_cells = 0, n_rows_nan = 0, n_obs_top = 0;
    float xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < 90; ++i) {
        int row_nan = 0;
        for (int k = 0; k < 17; ++k) {
            float x = v[(i * 17 + k) * 2], y = v[(i * 17 + k) * 2 + 1];
            n_nan_cells += isnan(x) + isnan(y);
            row_nan |= isnan(x);
            if (k == 7) n_obs_top += isnan(x) != 0;
            if (!isnan(x)) { xmin = fminf(xmin, x); xmax = fmaxf(xmax, x); }
            if (!isnan(y)) { ymin = fminf(ymin, y); ymax = fmaxf(ymax, y); }
        }
        n_rows_nan += row_nan;
    }
    LP_CHECK(n_nan_cells == 268);
    LP_CHECK(n_rows_nan == 48);
    LP_CHECK(n_obs_top == 35);
    LP_CHECK(xmin == 16.25f && xmax == 392.25f && ymin == 3.25f && ymax == 404.25f);
    lp_labels_free(l);
}

int main(int argc, char **argv) {
    (void)argc;
    /* run from the repository root even when started elsewhere */
    if (lp_fixture_chdir_root(argv[0], FIX) != 0) LP_SKIP_ALL("cannot find the repository root");
    test_ok();
    test_variants();
    test_visibility();
    test_bad();
    test_mirror_mouse();
    LP_DONE();
}
