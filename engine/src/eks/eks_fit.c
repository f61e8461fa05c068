/* eks_fit.c: the smoothing parameter s of one keypoint by maximum marginal
 * likelihood (docs/spec/eks.md §4). The objective is one number of one
 * variable, cheap (one forward filter per coordinate) and without a
 * derivative at hand, so: a grid over log s finds the best cell (robust to
 * a second local maximum at grid resolution), then golden-section search
 * refines inside the two cells around it. Deterministic, no tuning. */
#include <math.h>

#include "eks_internal.h"

enum { GRID_PER_UNIT = 1 }; /* grid step 1 in log s: factor e in s */
static const double LOG_TOL = 1e-3; /* final bracket width in log s: s to 0.1% */

/* Summed log-likelihood of both coordinates at s = exp(u); -inf if not finite. */
static double objective(double u, const double *const y[2], const double *const r[2],
                        const int64_t r_stride[2], int64_t n, const double m0[2],
                        const double p0[2]) {
    double total = 0.0;
    for (int c = 0; c < 2; ++c) {
        double ll;
        if (lp_eks_filter(y[c], r[c], r_stride[c], n, exp(u), m0[c], p0[c], NULL, NULL, &ll))
            return -INFINITY;
        total += ll;
    }
    return isnan(total) ? -INFINITY : total;
}

double lp_eks_fit_smooth(const double *const y[2], const double *const r[2],
                         const int64_t r_stride[2], int64_t n, const double m0[2],
                         const double p0[2], double lo, double hi) {
    int n_grid = (int)ceil((hi - lo) * GRID_PER_UNIT);
    if (n_grid < 2) n_grid = 2;
    double step = (hi - lo) / n_grid;
    int best = 0;
    double best_f = -INFINITY;
    for (int i = 0; i <= n_grid; ++i) {
        double f = objective(lo + i * step, y, r, r_stride, n, m0, p0);
        if (f > best_f) { /* ties keep the smaller s: the smoother answer */
            best_f = f;
            best = i;
        }
    }
    double a = lo + (best > 0 ? best - 1 : 0) * step;
    double b = lo + (best < n_grid ? best + 1 : n_grid) * step;
    const double invphi = 0.6180339887498949; /* (sqrt(5) - 1) / 2 */
    double c = b - invphi * (b - a), d = a + invphi * (b - a);
    double fc = objective(c, y, r, r_stride, n, m0, p0);
    double fd = objective(d, y, r, r_stride, n, m0, p0);
    while (b - a > LOG_TOL) {
        if (fc >= fd) { /* the maximum is in [a, d] */
            b = d;
            d = c;
            fd = fc;
            c = b - invphi * (b - a);
            fc = objective(c, y, r, r_stride, n, m0, p0);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + invphi * (b - a);
            fd = objective(d, y, r, r_stride, n, m0, p0);
        }
    }
    double u = 0.5 * (a + b);
    /* The grid point wins if the refined one is worse (a kink or a flat -inf). */
    if (objective(u, y, r, r_stride, n, m0, p0) < best_f) u = lo + best * step;
    return exp(u);
}
