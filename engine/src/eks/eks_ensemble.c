/* eks_ensemble.c: lp_eks_smooth, the single-camera Ensemble Kalman Smoother
 * over several models' predictions: ensemble statistics per frame, the fit
 * of s, the smoother, eks's nine output columns (docs/spec/eks.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eks_internal.h"

static const char *const COLUMN_NAMES[LP_EKS_N_COLUMNS] = {
    "x", "y", "likelihood", "x_ens_median", "y_ens_median",
    "x_ens_var", "y_ens_var", "x_posterior_var", "y_posterior_var",
};
enum { COL_X, COL_Y, COL_LIKELIHOOD, COL_X_ENS, COL_Y_ENS, COL_X_VAR, COL_Y_VAR, COL_X_POST, COL_Y_POST };

static const double MIN_CONFIDENCE = 1e-5; /* eks's floor in 1 / likelihood (one model) */
static const double MIN_FIT_VARIANCE = 1e-4; /* eks's floor of the fit's constant r (px^2) */
static const double MIN_PRIOR_VARIANCE = 1e-4; /* p0 > 0 even for a keypoint that never moves */

lp_eks_params lp_eks_default_params(void) {
    lp_eks_params p;
    p.average = LP_EKS_MEDIAN;
    p.variance = LP_EKS_VAR_CONFIDENCE_WEIGHTED;
    p.fit_noise = LP_EKS_FIT_MEDIAN_VARIANCE;
    p.smooth = 0.0;
    p.log_s_min = -8.0;
    p.log_s_max = 8.0;
    return p;
}

const char *lp_eks_column_name(int32_t i) {
    return i >= 0 && i < LP_EKS_N_COLUMNS ? COLUMN_NAMES[i] : NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1] (n >= 1; reorders v). n is the ensemble size: small. */
static double median(double *v, int32_t n) {
    for (int32_t i = 1; i < n; ++i) { /* insertion sort */
        double x = v[i];
        int32_t j = i;
        for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
        v[j] = x;
    }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Population variance (numpy's var, ddof 0). */
static double variance(const double *v, int32_t n) {
    double m = 0.0, q = 0.0;
    for (int32_t i = 0; i < n; ++i) m += v[i];
    m /= n;
    for (int32_t i = 0; i < n; ++i) q += (v[i] - m) * (v[i] - m);
    return q / n;
}

typedef struct scratch {
    double *y[2], *r[2]; /* observations and their variances per coordinate */
    double *mean, *var;  /* smoother output of one coordinate; sort buffer of the median fit */
    double *vx, *vy;     /* one frame's model values (n_models each) */
} scratch;

/* Ensemble statistics of keypoint k at every frame: the observations and
 * their variances into sc, the ensemble columns into out. y = NaN marks a
 * frame without an observation. Returns the number of observed frames. */
static int64_t ensemble_stats(const double *pred, int32_t M, int64_t T, int32_t K, int32_t k,
                              const lp_eks_params *p, scratch *sc, double *out) {
    int64_t n_obs = 0;
    for (int64_t t = 0; t < T; ++t) {
        int32_t n = 0;
        double conf = 0.0;
        for (int32_t m = 0; m < M; ++m) {
            const double *v = pred + (((int64_t)m * T + t) * K + k) * 3;
            if (isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2])) {
                sc->vx[n] = v[0];
                sc->vy[n] = v[1];
                conf += v[2];
                ++n;
            }
        }
        double *o = out + (t * K + k) * LP_EKS_N_COLUMNS;
        if (n == 0) {
            for (int c = 0; c < 2; ++c) {
                sc->y[c][t] = NAN;
                sc->r[c][t] = INFINITY;
            }
            o[COL_LIKELIHOOD] = o[COL_X_ENS] = o[COL_Y_ENS] = o[COL_X_VAR] = o[COL_Y_VAR] = NAN;
            continue;
        }
        conf /= n;
        double *vals[2] = { sc->vx, sc->vy };
        for (int c = 0; c < 2; ++c) {
            double r;
            if (n == 1) {
                r = 1.0 / fmax(conf, MIN_CONFIDENCE);
            } else {
                r = variance(vals[c], n);
                if (p->variance == LP_EKS_VAR_CONFIDENCE_WEIGHTED) r = conf > 0.0 ? r / conf : INFINITY;
            }
            double avg;
            if (p->average == LP_EKS_MEAN) {
                avg = 0.0;
                for (int32_t i = 0; i < n; ++i) avg += vals[c][i];
                avg /= n;
            } else {
                avg = median(vals[c], n);
            }
            sc->y[c][t] = isinf(r) ? NAN : avg; /* r = inf: no observation */
            sc->r[c][t] = r;
            o[COL_X_ENS + c] = avg;
            o[COL_X_VAR + c] = r;
        }
        o[COL_LIKELIHOOD] = conf;
        n_obs += !isnan(sc->y[0][t]);
    }
    return n_obs;
}

/* Mean and population variance of the observed y (eks's m0 and S0). */
static void prior_of(const double *y, int64_t T, double *m0, double *p0) {
    double m = 0.0, q = 0.0;
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
        if (!isnan(y[t])) {
            m += y[t];
            ++n;
        }
    m /= (double)n;
    for (int64_t t = 0; t < T; ++t)
        if (!isnan(y[t])) q += (y[t] - m) * (y[t] - m);
    *m0 = m;
    *p0 = fmax(q / (double)n, MIN_PRIOR_VARIANCE);
}

/* eks's constant r for the fit: the median of the observed frames' r, >= 1e-4. */
static double median_variance(const double *y, const double *r, int64_t T, double *buf) {
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
        if (!isnan(y[t])) buf[n++] = r[t];
    qsort(buf, (size_t)n, sizeof(double), cmp_double);
    double med = n % 2 ? buf[n / 2] : 0.5 * (buf[n / 2 - 1] + buf[n / 2]);
    return fmax(med, MIN_FIT_VARIANCE);
}

static void smooth_keypoint(int64_t T, int32_t K, int32_t k, const lp_eks_params *p, scratch *sc,
                            double *out_s, double *out) {
    double m0[2], p0[2];
    for (int c = 0; c < 2; ++c) prior_of(sc->y[c], T, &m0[c], &p0[c]);
    double s = p->smooth;
    if (!(s > 0.0)) {
        double r_fit[2];
        const double *r[2] = { sc->r[0], sc->r[1] };
        int64_t stride[2] = { 1, 1 };
        if (p->fit_noise == LP_EKS_FIT_MEDIAN_VARIANCE)
            for (int c = 0; c < 2; ++c) {
                r_fit[c] = median_variance(sc->y[c], sc->r[c], T, sc->mean);
                r[c] = &r_fit[c];
                stride[c] = 0;
            }
        const double *y[2] = { sc->y[0], sc->y[1] };
        s = lp_eks_fit_smooth(y, r, stride, T, m0, p0, p->log_s_min, p->log_s_max);
    }
    out_s[k] = s;
    for (int c = 0; c < 2; ++c) {
        lp_eks_filter(sc->y[c], sc->r[c], 1, T, s, m0[c], p0[c], sc->mean, sc->var, NULL);
        for (int64_t t = 0; t < T; ++t) {
            double *o = out + (t * K + k) * LP_EKS_N_COLUMNS;
            o[COL_X + c] = sc->mean[t];
            o[COL_X_POST + c] = sc->var[t];
        }
    }
}

lp_status lp_eks_smooth(const double *pred, int32_t M, int64_t T, int32_t K,
                        const lp_eks_params *params, double *out_s, double *out) {
    const char *fn = "lp_eks_smooth";
    if (pred == NULL || out_s == NULL || out == NULL)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL predictions or output");
    if (M < 1 || T < 1 || K < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "need >= 1 model, frame and keypoint, got %d, %lld, %d", M,
                         (long long)T, K);
    lp_eks_params p = params ? *params : lp_eks_default_params();
    if (p.average != LP_EKS_MEDIAN && p.average != LP_EKS_MEAN)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown average %d", p.average);
    if (p.variance != LP_EKS_VAR_CONFIDENCE_WEIGHTED && p.variance != LP_EKS_VAR_PLAIN)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown variance %d", p.variance);
    if (p.fit_noise != LP_EKS_FIT_MEDIAN_VARIANCE && p.fit_noise != LP_EKS_FIT_FRAME_VARIANCE)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown fit_noise %d", p.fit_noise);
    if (isnan(p.smooth) || isinf(p.smooth) || p.smooth < 0.0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "smooth must be > 0 (or 0: fit), got %g", p.smooth);
    if (!(p.log_s_min < p.log_s_max) || !isfinite(p.log_s_min) || !isfinite(p.log_s_max))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "need finite log_s_min < log_s_max, got [%g, %g]", p.log_s_min, p.log_s_max);
    scratch sc;
    memset(&sc, 0, sizeof sc);
    double *block = malloc(sizeof(double) * (size_t)(6 * T + 2 * (int64_t)M));
    if (!block) return lp_errorf(LP_STATUS_OOM, fn, "out of memory for %lld frames", (long long)T);
    sc.y[0] = block;
    sc.y[1] = block + T;
    sc.r[0] = block + 2 * T;
    sc.r[1] = block + 3 * T;
    sc.mean = block + 4 * T;
    sc.var = block + 5 * T;
    sc.vx = block + 6 * T;
    sc.vy = sc.vx + M;
    lp_status st = LP_STATUS_OK;
    for (int32_t k = 0; k < K; ++k) {
        if (lp_interrupt_pending()) {
            st = lp_errorf(LP_STATUS_INTERRUPTED, fn, "interrupted!");
            break;
        }
        if (ensemble_stats(pred, M, T, K, k, &p, &sc, out) == 0) {
            out_s[k] = NAN;
            for (int64_t t = 0; t < T; ++t) {
                double *o = out + (t * K + k) * LP_EKS_N_COLUMNS;
                o[COL_X] = o[COL_Y] = o[COL_X_POST] = o[COL_Y_POST] = NAN;
            }
            continue;
        }
        smooth_keypoint(T, K, k, &p, &sc, out_s, out);
    }
    free(block);
    return st;
}
