/* eks_csv.c: lp_eks_write_csv, eks's output CSV through the predictions
 * CSV writer (predict_csv.c). */
#include "eks_internal.h"
#include "predict/predict_internal.h"

lp_status lp_eks_write_csv(const char *path, int64_t n_frames, int32_t n_keypoints,
                           const char *const *names, const char *const *index,
                           const double *values) {
    const char *fn = "lp_eks_write_csv";
    if (path == NULL || values == NULL || n_frames < 1 || n_keypoints < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "need a path, values and >= 1 frame and keypoint");
    const char *coords[LP_EKS_N_COLUMNS];
    for (int32_t c = 0; c < LP_EKS_N_COLUMNS; ++c) coords[c] = lp_eks_column_name(c);
    lp_csv_writer *w;
    lp_status st = lp_csv_writer_open_coords(path, fn, LP_CSV_PREDICTIONS, "ensemble-kalman_tracker",
                                             n_keypoints, names, LP_EKS_N_COLUMNS, coords, 0, &w);
    if (st) return st;
    st = lp_csv_writer_write_rows_f64(w, n_frames, index, values);
    if (!st) st = lp_csv_writer_close(w);
    lp_csv_writer_free(w);
    return lp_error_prefix(st, fn);
}
