/* lpose/eks.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_EKS_H
#define LPOSE_EKS_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Ensemble Kalman Smoother, single camera (docs/spec/eks.md). Per keypoint
 * and per coordinate (x and y are independent, as in paninski-lab/eks):
 *   state       z_t = z_{t-1} + w_t,   w_t ~ N(0, s)      (random walk)
 *   observation y_t = z_t + v_t,       v_t ~ N(0, r_t)
 *   prior       z_0 ~ N(m0, p0)
 * y_t is the ensemble's median (or mean) over models, r_t the ensemble's
 * (confidence-weighted) variance at frame t; a frame without a finite y_t
 * or with r_t = inf has no observation. s, the smoothing parameter (smaller
 * is smoother), is given or fitted per keypoint by maximising the marginal
 * likelihood of the observations (a grid over log s, then golden-section
 * search). Everything is f64. Memory: O(n_frames) scratch per call, no
 * n_frames^2 matrix; keypoints are smoothed one after another.
 * ------------------------------------------------------------------------ */

typedef enum lp_eks_average {
    LP_EKS_MEDIAN = 0, /* eks's default */
    LP_EKS_MEAN = 1
} lp_eks_average;

typedef enum lp_eks_variance {
    LP_EKS_VAR_CONFIDENCE_WEIGHTED = 0, /* variance over models / mean likelihood (eks's default) */
    LP_EKS_VAR_PLAIN = 1                /* variance over models */
} lp_eks_variance;

/* The observation variance the fit of s uses. */
typedef enum lp_eks_fit_noise {
    LP_EKS_FIT_MEDIAN_VARIANCE = 0, /* eks: one r per coordinate, the median of r_t, >= 1e-4 */
    LP_EKS_FIT_FRAME_VARIANCE = 1   /* r_t of every frame, the model that is smoothed */
} lp_eks_fit_noise;

typedef struct lp_eks_params {
    int32_t average;   /* lp_eks_average */
    int32_t variance;  /* lp_eks_variance */
    int32_t fit_noise; /* lp_eks_fit_noise */
    double smooth;     /* > 0: this s for every keypoint; 0: fit s per keypoint */
    double log_s_min;  /* fit range of log(s) (natural log): eks's [-8, 8] */
    double log_s_max;
} lp_eks_params;

/* Median, confidence-weighted, median-variance fit, s fitted in [-8, 8]. nothrow */
lp_eks_params lp_eks_default_params(void);

/* Columns per keypoint of lp_eks_smooth's output, eks's order and names:
 * x, y, likelihood, x_ens_median, y_ens_median, x_ens_var, y_ens_var,
 * x_posterior_var, y_posterior_var. */
enum { LP_EKS_N_COLUMNS = 9 };
/* Name of column i (0..8), NULL out of range. nothrow */
const char *lp_eks_column_name(int32_t i);

/* The smoother for one coordinate: y, r (n values each; y NaN or r = inf:
 * no observation; r >= 0), s > 0, p0 > 0. Writes the posterior means and
 * variances (n each) and the marginal log-likelihood of the observations
 * (NULL to skip any of the three). */
lp_status lp_eks_smooth_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out_mean, double *out_var, double *out_loglik);
/* Only the forward filter's marginal log-likelihood (no O(n) scratch). */
lp_status lp_eks_loglik_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out);

/* predictions: (n_models, n_frames, n_keypoints, 3) row-major f64, the
 * fields x, y, likelihood of each model (NaN where a model has none).
 * out_smooth (n_keypoints): the s used per keypoint, NaN for a keypoint with
 * no observation at all (its output columns are NaN but likelihood).
 * out: (n_frames, n_keypoints, LP_EKS_N_COLUMNS). With one model the
 * observation variance is 1 / max(likelihood, 1e-5) (eks's rule); so is it
 * at a frame where only one model has a prediction. Polls the interrupt
 * flag once per keypoint. */
lp_status lp_eks_smooth(const double *predictions, int32_t n_models, int64_t n_frames,
                        int32_t n_keypoints, const lp_eks_params *params, double *out_smooth,
                        double *out);

/* Write lp_eks_smooth's output as a Lightning Pose CSV (header rows
 * scorer/bodyparts/coords, scorer "ensemble-kalman_tracker", the nine
 * columns per keypoint, f64 values in Python's repr, NaN as an empty
 * field), atomically (PATH.tmp-<pid>, then rename). index: n_frames row
 * labels (NULL: 0, 1, ...). */
lp_status lp_eks_write_csv(const char *path, int64_t n_frames, int32_t n_keypoints,
                           const char *const *keypoint_names, const char *const *index,
                           const double *values);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_EKS_H */
