/* lpose/loss.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_LOSS_H
#define LPOSE_LOSS_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Losses (Lightning Pose's math, docs/spec/lp-model.md §4). Every loss is
 * stateless, built from lp_tensor_* ops (so it is differentiable wrt its
 * prediction input) and writes a 0-d tensor of the prediction's dtype and
 * device. Lua keeps the hyperparameters (lua/lpose/losses.lua).
 * ------------------------------------------------------------------------ */

/* Supervised heatmap losses (§4.2). pred, target: (M, K, Hh, Wh), same
 * shape, floating point. A (row, keypoint) pair is dropped when its target
 * is all zero (NaN, unlabeled or out-of-frame keypoints) or contains a NaN;
 * uniform targets are kept. The loss is the mean over the V kept pairs of a
 * per-pair value; V == 0 gives 0, not NaN.
 *   mse: sum over pixels of (t - p)^2 (LP's mean x Hh*Wh)
 *   kl:  KL(t' || p') with t' = t + 1e-10, p' = p + 1e-10, not renormalised
 *   js:  0.5 KL(t' || m) + 0.5 KL(p' || m), m = (t' + p') / 2 */
lp_status lp_loss_heatmap_mse(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);
lp_status lp_loss_heatmap_kl(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);
lp_status lp_loss_heatmap_js(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);

/* Temporal loss (§4.4). keypoints: (M, K, 2) or (M, 2K) interleaved x,y, in
 * frame pixels; confidences: (M, K) or NULL (no mask); epsilon: a
 * one-element tensor or (K,) per keypoint. d = ||kp[i+1] - kp[i]||_2 per
 * keypoint, set to 0 where either frame's confidence is < prob_threshold,
 * then relu(d - epsilon), mean over all (M-1)*K entries (masked zeros
 * counted). M < 2 gives 0. */
lp_status lp_loss_temporal(const lp_tensor *keypoints, const lp_tensor *confidences,
                           const lp_tensor *epsilon, double prob_threshold, lp_tensor **out);
/* The temporal_norm metric (§6): (M, K) norms of the frame-to-frame
 * difference, row 0 NaN; no epsilon, no mask. keypoints as above. */
lp_status lp_metric_temporal_norm(const lp_tensor *keypoints, lp_tensor **out);

/* ------------------------------------------------------------------------
 * PCA with missing values (LP's NaNPCA, §4.5), for the pca_* losses and
 * metrics. Fitting runs in f64 on the CPU.
 * ------------------------------------------------------------------------ */

typedef struct lp_pca lp_pca;

/* Fit on data (N, D), NaN/inf meaning missing, N >= D. The mean is the
 * per-column mean of the finite entries; the covariance is np.ma.cov's
 * pairwise-complete one (columns centred by that mean, each pair summed over
 * rows where both are finite and divided by that count - 1). Eigenvalues
 * descending, negatives clipped to 0, component signs by sklearn
 * svd_flip(u_based_decision=False) (largest |entry| of each row positive).
 * Kept components: n_components > 0 keeps exactly that many; otherwise
 * explained_variance f in (0, 1) keeps the fewest whose cumulative ratio is
 * >= f, and f == 1 keeps all. */
lp_status lp_pca_fit(const lp_tensor *data, int64_t n_components, double explained_variance,
                     lp_pca **out);
/* Rebuild a fitted PCA from mean (D,) and kept components (E, D), e.g. read
 * back from a checkpoint (the explained variances are then unknown). */
lp_status lp_pca_init(const lp_tensor *mean, const lp_tensor *components, lp_pca **out);
void lp_pca_free(lp_pca *pca);                        /* nothrow; NULL ignored */
int64_t lp_pca_n_components(const lp_pca *pca);       /* E; -1 for NULL. nothrow */
int64_t lp_pca_n_features(const lp_pca *pca);         /* D; -1 for NULL. nothrow */

typedef enum lp_pca_field {
    LP_PCA_MEAN = 0,                    /* (D,) */
    LP_PCA_COMPONENTS = 1,              /* (E, D) kept, rows are components */
    LP_PCA_EXPLAINED_VARIANCE = 2,      /* (D,) all eigenvalues, descending */
    LP_PCA_EXPLAINED_VARIANCE_RATIO = 3 /* (D,) */
} lp_pca_field;
/* New reference to a fitted quantity (f64, CPU). The variances fail with
 * BAD_ARG on a PCA made by lp_pca_init. */
lp_status lp_pca_get(const lp_pca *pca, lp_pca_field field, lp_tensor **out);

/* Per-keypoint reprojection error: x (N, D), D even, interleaved x,y;
 * r = ((x - mean) C^T) C + mean; out (N, D/2) = ||(x - r) per (x, y)||_2, in
 * x's dtype and device, differentiable wrt x. Rows with a NaN give NaN. */
lp_status lp_pca_reproject_error(const lp_pca *pca, const lp_tensor *x, lp_tensor **out);
/* LP's empirical epsilon: nanpercentile(reprojection errors of x, all
 * entries flattened, percentile in [0, 100], linear interpolation) times
 * multiplier. Fails with BAD_ARG when every error is NaN. */
lp_status lp_pca_empirical_epsilon(const lp_pca *pca, const lp_tensor *x, double percentile,
                                   double multiplier, double *out);
/* pca_singleview / pca_multiview loss on formatted predictions x (N, D):
 * mean of relu(error - epsilon) over all N * D/2 entries. */
lp_status lp_loss_pca(const lp_pca *pca, const lp_tensor *x, double epsilon, lp_tensor **out);

/* ------------------------------------------------------------------------
 * Weights and annealing (§4.1, §7.4). Pure helpers.
 * ------------------------------------------------------------------------ */

/* 1 / (2 exp(log_weight)): 0 -> 0.5, 11 -> 8.35e-6. nothrow */
double lp_loss_weight_from_log(double log_weight);
/* LP's AnnealWeight at the start of `epoch` (0-based): init_val while
 * epoch <= freeze_until_epoch, then
 * min(init_val + (epoch - freeze_until_epoch) * increase_factor, final_val).
 * Defaults 0, 0.01, 1, 60: epoch 61 -> 0.01, epoch 160 -> 1. nothrow */
double lp_loss_anneal_weight(int64_t epoch, double init_val, double increase_factor,
                             double final_val, int64_t freeze_until_epoch);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_LOSS_H */
