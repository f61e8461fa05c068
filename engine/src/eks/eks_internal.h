/* eks_internal.h: helpers shared by the eks_*.c files (internal). */
#ifndef LP_EKS_INTERNAL_H
#define LP_EKS_INTERNAL_H

#include "core/error.h" /* lp_errorf */
#include "lpose.h"

/* The random-walk filter of lp_eks_smooth_1d with r read at r[t * r_stride]
 * (r_stride 0: one r for every frame). Arguments are already checked.
 * mean/var NULL: forward pass only (the log-likelihood). Returns 0, or
 * 1 + t for the first frame whose innovation variance is not > 0. */
int64_t lp_eks_filter(const double *y, const double *r, int64_t r_stride, int64_t n, double s,
                      double m0, double p0, double *mean, double *var, double *loglik);

/* Checks shared by the public 1-D entry points; fn names the caller. */
lp_status lp_eks_check_1d(const char *fn, const double *y, const double *r, int64_t n, double s,
                          double p0);

/* Fit s for one keypoint: maximise the summed log-likelihood of the two
 * coordinates over log s in [lo, hi]. y[c], r[c], r_stride[c], m0[c], p0[c]
 * for c = x, y. */
double lp_eks_fit_smooth(const double *const y[2], const double *const r[2],
                         const int64_t r_stride[2], int64_t n, const double m0[2],
                         const double p0[2], double lo, double hi);

#endif
