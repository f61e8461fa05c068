/* eks_filter.c: Kalman filter and Rauch-Tung-Striebel smoother of a scalar
 * random walk observed with per-frame noise (docs/spec/eks.md §2), and its
 * marginal log-likelihood. */
#include <math.h>

#include "eks_internal.h"

static int observed(double y, double r) { return !isnan(y) && !isinf(y) && !isinf(r); }

int64_t lp_eks_filter(const double *y, const double *r, int64_t r_stride, int64_t n, double s,
                      double m0, double p0, double *mean, double *var, double *loglik) {
    const double log_2pi = 1.8378770664093453; /* log(2 pi) */
    double m = m0, p = p0, quad = 0.0, logdet = 0.0;
    /* sum log(sv) as log(product): one log() per ~100 frames instead of one
     * per frame (the fit runs this loop ~35 times per keypoint); the
     * product is folded into logdet before it can leave [1e-150, 1e150]. */
    double prod = 1.0;
    int64_t n_obs = 0;
    for (int64_t t = 0; t < n; ++t) {
        if (t > 0) p += s; /* predict: z_t = z_{t-1} + w_t */
        double rt = r[t * r_stride];
        if (observed(y[t], rt)) {
            double sv = p + rt; /* innovation variance */
            if (!(sv > 0.0)) return 1 + t;
            double inv = 1.0 / sv, e = y[t] - m;
            quad += e * e * inv;
            if (sv < 1e100 && sv > 1e-100) {
                prod *= sv;
                if (!(prod < 1e150 && prod > 1e-150)) {
                    logdet += log(prod);
                    prod = 1.0;
                }
            } else {
                logdet += log(sv);
            }
            ++n_obs;
            m += p * inv * e;
            p = p * rt * inv; /* = (1 - k) p, without the cancellation when k ~ 1 */
        }
        if (mean) {
            mean[t] = m;
            var[t] = p;
        }
    }
    if (loglik) *loglik = -0.5 * ((double)n_obs * log_2pi + logdet + log(prod) + quad);
    if (!mean) return 0;
    /* RTS backward pass, in place: mean/var hold the filtered moments of t
     * and the smoothed ones of t + 1. */
    for (int64_t t = n - 2; t >= 0; --t) {
        double pf = var[t], pp = pf + s;
        double g = pf / pp;
        mean[t] += g * (mean[t + 1] - mean[t]);
        var[t] = pf + g * g * (var[t + 1] - pp);
    }
    return 0;
}

lp_status lp_eks_check_1d(const char *fn, const double *y, const double *r, int64_t n, double s,
                          double p0) {
    if (y == NULL || r == NULL || n < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "y and r must hold n >= 1 values");
    if (!(s > 0.0) || isinf(s))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "s must be finite and > 0, got %g", s);
    if (!(p0 > 0.0) || isinf(p0))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "p0 must be finite and > 0, got %g", p0);
    for (int64_t t = 0; t < n; ++t)
        if (!(r[t] >= 0.0))
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "r[%lld] = %g, must be >= 0",
                             (long long)t, r[t]);
    return LP_STATUS_OK;
}

lp_status lp_eks_smooth_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out_mean, double *out_var, double *out_loglik) {
    const char *fn = "lp_eks_smooth_1d";
    lp_status st = lp_eks_check_1d(fn, y, r, n, s, p0);
    if (st) return st;
    if ((out_mean == NULL) != (out_var == NULL))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "out_mean and out_var go together");
    if (isnan(m0) || isinf(m0)) return lp_errorf(LP_STATUS_BAD_ARG, fn, "m0 must be finite");
    double ll;
    int64_t bad = lp_eks_filter(y, r, 1, n, s, m0, p0, out_mean, out_var, &ll);
    if (bad) return lp_errorf(LP_STATUS_INTERNAL, fn, "innovation variance <= 0 at frame %lld", (long long)(bad - 1));
    if (out_loglik) *out_loglik = ll;
    return LP_STATUS_OK;
}

lp_status lp_eks_loglik_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out) {
    const char *fn = "lp_eks_loglik_1d";
    lp_status st = lp_eks_check_1d(fn, y, r, n, s, p0);
    if (st) return st;
    if (out == NULL) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    if (isnan(m0) || isinf(m0)) return lp_errorf(LP_STATUS_BAD_ARG, fn, "m0 must be finite");
    double ll;
    int64_t bad = lp_eks_filter(y, r, 1, n, s, m0, p0, NULL, NULL, &ll);
    if (bad) return lp_errorf(LP_STATUS_INTERNAL, fn, "innovation variance <= 0 at frame %lld", (long long)(bad - 1));
    *out = ll;
    return LP_STATUS_OK;
}
