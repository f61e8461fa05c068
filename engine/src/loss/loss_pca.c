/* loss_pca.c: LP's NaNPCA fit, reprojection error, empirical epsilon and
 * the pca_singleview / pca_multiview loss (docs/spec/lp-model.md §4.5). The fit is a
 * one-off on a few hundred rows, so it runs in f64 on the CPU, with the
 * small post-eigh bookkeeping done in plain C. */
#include <stdlib.h>

#include "loss_internal.h"

struct lp_pca {
    int64_t n_features, n_components;
    lp_tensor *mean;       /* (D,) f64 cpu */
    lp_tensor *components; /* (E, D) f64 cpu */
    lp_tensor *variance;   /* (D,) or NULL (lp_pca_init) */
    lp_tensor *ratio;      /* (D,) or NULL */
};

void lp_pca_free(lp_pca *pca) {
    if (!pca) return;
    lp_tensor_free(pca->mean);
    lp_tensor_free(pca->components);
    lp_tensor_free(pca->variance);
    lp_tensor_free(pca->ratio);
    free(pca);
}

int64_t lp_pca_n_components(const lp_pca *pca) { return pca ? pca->n_components : -1; }
int64_t lp_pca_n_features(const lp_pca *pca) { return pca ? pca->n_features : -1; }

static lp_status f64_tensor(const double *v, const int64_t *shape, int32_t nd, lp_tensor **out) {
    return lp_tensor_from_buffer(v, LP_DTYPE_F64, shape, nd, out);
}

/* Column means over finite entries and np.ma.cov(rowvar=False) of x (N, D) f64. */
static lp_status masked_mean_cov(const lp_tensor *x, lp_tensor **mean, lp_tensor **cov) {
    const int64_t dim0 = 0;
    lp_tensor *valid = NULL, *invalid = NULL, *vf = NULL, *xz = NULL, *cnt = NULL, *sum = NULL;
    lp_tensor *xm = NULL, *xc = NULL, *xct = NULL, *vft = NULL, *fact = NULL, *prod = NULL;
    lp_status st;
    if ((st = lp_tensor_unary(LP_UNARY_ISFINITE, x, &valid))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_LOGICAL_NOT, valid, &invalid))) goto fail;
    if ((st = lp_tensor_to(valid, LP_DTYPE_F64, LP_DEVICE_CPU, &vf))) goto fail;
    if ((st = lp_tensor_masked_fill(x, invalid, 0.0, &xz))) goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_SUM, vf, &dim0, 1, 0, &cnt))) goto fail;
    if ((st = lp_tensor_reduce(LP_REDUCE_SUM, xz, &dim0, 1, 0, &sum))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_DIV, sum, cnt, mean))) goto fail;
    /* np.ma centres each column by its own mean, then sums products over rows
     * where both columns are present, divided by that count - 1 */
    if ((st = lp_tensor_binary(LP_BINARY_SUB, x, *mean, &xm))) goto fail;
    if ((st = lp_tensor_masked_fill(xm, invalid, 0.0, &xc))) goto fail;
    if ((st = lp_tensor_transpose(xc, 0, 1, &xct))) goto fail;
    if ((st = lp_tensor_transpose(vf, 0, 1, &vft))) goto fail;
    if ((st = lp_tensor_matmul(vft, vf, &fact))) goto fail;
    if ((st = lp_tensor_binary_scalar_(LP_BINARY_SUB, fact, 1.0))) goto fail;
    if ((st = lp_tensor_matmul(xct, xc, &prod))) goto fail;
    st = lp_tensor_binary(LP_BINARY_DIV, prod, fact, cov);
fail:
    lp_tensor_free(valid);
    lp_tensor_free(invalid);
    lp_tensor_free(vf);
    lp_tensor_free(xz);
    lp_tensor_free(cnt);
    lp_tensor_free(sum);
    lp_tensor_free(xm);
    lp_tensor_free(xc);
    lp_tensor_free(xct);
    lp_tensor_free(vft);
    lp_tensor_free(fact);
    lp_tensor_free(prod);
    return st;
}

/* LP's ComponentChooser on the descending ratios. */
static int64_t choose_n(const double *ratio, int64_t d, double f) {
    if (f == 1.0) return d;
    double c = 0;
    for (int64_t i = 0; i < d; ++i) {
        c += ratio[i];
        if (c >= f) return i + 1;
    }
    return d; /* rounding kept the cumsum below f */
}

lp_status lp_pca_fit(const lp_tensor *data, int64_t n_components, double explained_variance,
                     lp_pca **out) {
    const char *fn = __func__;
    char a[128];
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    int64_t s[LP_MAX_DIMS];
    if (lp_tensor_shape(data, s) != 2 || !loss_is_float(data))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "data must be a floating (N, D) tensor, got %s",
                         loss_shape_str(data, a, sizeof a));
    const int64_t n = s[0], d = s[1];
    if (d < 1 || n < d)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "cannot fit PCA with %lld samples < %lld dimensions",
                         (long long)n, (long long)d);
    if (n_components > d)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "n_components %lld exceeds the %lld dimensions",
                         (long long)n_components, (long long)d);
    if (n_components <= 0 && !(explained_variance > 0 && explained_variance <= 1))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "need n_components > 0 or explained_variance in (0, 1], got %lld and %g",
                         (long long)n_components, explained_variance);

    lp_pca *p = calloc(1, sizeof *p);
    double *vals = malloc(sizeof(double) * (size_t)d), *vecs = malloc(sizeof(double) * (size_t)(d * d));
    double *vt = malloc(sizeof(double) * (size_t)(d * d)), *ratio = malloc(sizeof(double) * (size_t)d);
    double *mbuf = malloc(sizeof(double) * (size_t)d);
    lp_tensor *x = NULL, *cov = NULL, *ev = NULL, *evec = NULL;
    lp_status st = LP_STATUS_OK;
    if (!p || !vals || !vecs || !vt || !ratio || !mbuf) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    if ((st = lp_tensor_to(data, LP_DTYPE_F64, LP_DEVICE_CPU, &x))) goto fail;
    if ((st = masked_mean_cov(x, &p->mean, &cov))) goto fail;
    if ((st = lp_tensor_to_buffer(p->mean, mbuf, (int64_t)sizeof(double) * d))) goto fail;
    for (int64_t j = 0; j < d; ++j)
        if (!isfinite(mbuf[j])) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "column %lld has no finite value", (long long)j);
            goto fail;
        }
    if ((st = lp_tensor_eigh(cov, &ev, &evec))) goto fail;
    if ((st = lp_tensor_to_buffer(ev, vals, (int64_t)sizeof(double) * d))) goto fail;
    if ((st = lp_tensor_to_buffer(evec, vecs, (int64_t)sizeof(double) * d * d))) goto fail;
    /* descending order; row i of vt is eigenvector column d-1-i; negatives clipped */
    double total = 0;
    for (int64_t i = 0; i < d; ++i) {
        double lam = vals[d - 1 - i];
        ratio[i] = lam < 0 ? 0 : lam;
        total += ratio[i];
        for (int64_t j = 0; j < d; ++j) vt[i * d + j] = vecs[j * d + (d - 1 - i)];
    }
    /* sklearn svd_flip(u_based_decision=False): the largest |entry| of each
     * row positive (first one on ties, as np.argmax) */
    for (int64_t i = 0; i < d; ++i) {
        int64_t best = 0;
        for (int64_t j = 1; j < d; ++j)
            if (fabs(vt[i * d + j]) > fabs(vt[i * d + best])) best = j;
        if (vt[i * d + best] < 0)
            for (int64_t j = 0; j < d; ++j) vt[i * d + j] = -vt[i * d + j];
    }
    if (!(total > 0)) {
        st = lp_errorf(LP_STATUS_BAD_ARG, fn, "data has no variance");
        goto fail;
    }
    for (int64_t i = 0; i < d; ++i) vals[i] = ratio[i]; /* clipped eigenvalues */
    for (int64_t i = 0; i < d; ++i) ratio[i] = vals[i] / total;
    p->n_features = d;
    p->n_components = n_components > 0 ? n_components : choose_n(ratio, d, explained_variance);
    const int64_t sc[2] = {p->n_components, d}, sd[1] = {d};
    if ((st = f64_tensor(vt, sc, 2, &p->components))) goto fail;
    if ((st = f64_tensor(vals, sd, 1, &p->variance))) goto fail;
    if ((st = f64_tensor(ratio, sd, 1, &p->ratio))) goto fail;
    *out = p;
    p = NULL;
fail:
    lp_pca_free(p);
    free(vals);
    free(vecs);
    free(vt);
    free(ratio);
    free(mbuf);
    lp_tensor_free(x);
    lp_tensor_free(cov);
    lp_tensor_free(ev);
    lp_tensor_free(evec);
    return lp_error_prefix(st, fn);
}

lp_status lp_pca_init(const lp_tensor *mean, const lp_tensor *components, lp_pca **out) {
    const char *fn = __func__;
    char a[128], b[128];
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    int64_t sm[LP_MAX_DIMS], sc[LP_MAX_DIMS];
    if (lp_tensor_shape(mean, sm) != 1 || lp_tensor_shape(components, sc) != 2 || sc[1] != sm[0] ||
        !loss_is_float(mean) || !loss_is_float(components))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "need floating mean (D,) and components (E, D), got %s and %s",
                         loss_shape_str(mean, a, sizeof a), loss_shape_str(components, b, sizeof b));
    lp_pca *p = calloc(1, sizeof *p);
    lp_status st;
    if (!p) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    p->n_features = sm[0];
    p->n_components = sc[0];
    if ((st = lp_tensor_to(mean, LP_DTYPE_F64, LP_DEVICE_CPU, &p->mean))) goto fail;
    if ((st = lp_tensor_to(components, LP_DTYPE_F64, LP_DEVICE_CPU, &p->components))) goto fail;
    /* own copies: `to` may return the caller's storage */
    lp_tensor *tmp;
    if ((st = lp_tensor_clone(p->mean, &tmp))) goto fail;
    nnu_replace(&p->mean, tmp);
    if ((st = lp_tensor_clone(p->components, &tmp))) goto fail;
    nnu_replace(&p->components, tmp);
    *out = p;
    return LP_STATUS_OK;
fail:
    lp_pca_free(p);
    return lp_error_prefix(st, fn);
}

lp_status lp_pca_get(const lp_pca *pca, lp_pca_field field, lp_tensor **out) {
    const char *fn = __func__;
    if (!pca || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "pca or out is NULL");
    const lp_tensor *t = field == LP_PCA_MEAN                    ? pca->mean
                         : field == LP_PCA_COMPONENTS            ? pca->components
                         : field == LP_PCA_EXPLAINED_VARIANCE    ? pca->variance
                         : field == LP_PCA_EXPLAINED_VARIANCE_RATIO ? pca->ratio
                                                                    : NULL;
    if (!t) return lp_errorf(LP_STATUS_BAD_ARG, fn, "field %d is not available", (int)field);
    return lp_error_prefix(lp_tensor_clone(t, out), fn);
}

static lp_status reproject_error(const char *fn, const lp_pca *pca, const lp_tensor *x,
                                 lp_tensor **out) {
    char a[128];
    if (!pca || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "pca or out is NULL");
    int64_t s[LP_MAX_DIMS];
    const int64_t d = pca->n_features;
    if (lp_tensor_shape(x, s) != 2 || s[1] != d || d % 2 != 0 || !loss_is_float(x))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "x must be a floating (N, %lld) tensor with an even width, got %s",
                         (long long)d, loss_shape_str(x, a, sizeof a));
    const lp_dtype dt = (lp_dtype)lp_tensor_dtype(x);
    const lp_device dev = lp_tensor_device(x);
    const int64_t shape[3] = {s[0], d / 2, 2}, last = 2;
    lp_tensor *mu = NULL, *c = NULL, *xc = NULL, *low = NULL, *back = NULL, *r = NULL;
    lp_tensor *diff = NULL, *d3 = NULL;
    lp_status st;
    if ((st = lp_tensor_to(pca->mean, dt, dev, &mu))) goto fail;
    if ((st = lp_tensor_to(pca->components, dt, dev, &c))) goto fail;
    /* LP (sklearn transform + inverse_transform): r = ((x - mu) C^T) C + mu */
    if ((st = lp_tensor_binary(LP_BINARY_SUB, x, mu, &xc))) goto fail;
    if ((st = lp_tensor_linear(xc, c, NULL, &low))) goto fail;
    if ((st = lp_tensor_matmul(low, c, &back))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_ADD, back, mu, &r))) goto fail;
    if ((st = lp_tensor_binary(LP_BINARY_SUB, x, r, &diff))) goto fail;
    if ((st = lp_tensor_reshape(diff, shape, 3, &d3))) goto fail;
    st = lp_tensor_norm(d3, 2.0, &last, 1, 0, out);
fail:
    lp_tensor_free(mu);
    lp_tensor_free(c);
    lp_tensor_free(xc);
    lp_tensor_free(low);
    lp_tensor_free(back);
    lp_tensor_free(r);
    lp_tensor_free(diff);
    lp_tensor_free(d3);
    return lp_error_prefix(st, fn);
}

lp_status lp_pca_reproject_error(const lp_pca *pca, const lp_tensor *x, lp_tensor **out) {
    return reproject_error(__func__, pca, x, out);
}

lp_status lp_pca_empirical_epsilon(const lp_pca *pca, const lp_tensor *x, double percentile,
                                   double multiplier, double *out) {
    const char *fn = __func__;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    if (!(percentile >= 0 && percentile <= 100))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "percentile must be in [0, 100], got %g", percentile);
    lp_tensor *e = NULL, *e64 = NULL, *nan = NULL, *keep = NULL, *sel = NULL, *q = NULL;
    lp_status st;
    double v = 0;
    if ((st = reproject_error(fn, pca, x, &e))) goto fail;
    if ((st = lp_tensor_to(e, LP_DTYPE_F64, LP_DEVICE_CPU, &e64))) goto fail;
    /* np.nanpercentile over every entry (LP flattens first): NaN rows are skipped */
    if ((st = lp_tensor_unary(LP_UNARY_ISNAN, e64, &nan))) goto fail;
    if ((st = lp_tensor_unary(LP_UNARY_LOGICAL_NOT, nan, &keep))) goto fail;
    if ((st = lp_tensor_masked_select(e64, keep, &sel))) goto fail;
    if (lp_tensor_numel(sel) == 0) {
        st = lp_errorf(LP_STATUS_BAD_ARG, fn, "every reprojection error is NaN");
        goto fail;
    }
    if ((st = lp_tensor_quantile(sel, percentile / 100.0, 0, 0, 0, &q))) goto fail;
    if ((st = lp_tensor_item(q, &v))) goto fail;
    *out = v * multiplier;
fail:
    lp_tensor_free(e);
    lp_tensor_free(e64);
    lp_tensor_free(nan);
    lp_tensor_free(keep);
    lp_tensor_free(sel);
    lp_tensor_free(q);
    return lp_error_prefix(st, fn);
}

lp_status lp_loss_pca(const lp_pca *pca, const lp_tensor *x, double epsilon, lp_tensor **out) {
    const char *fn = __func__;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    lp_tensor *e = NULL, *r = NULL;
    lp_status st;
    if ((st = reproject_error(fn, pca, x, &e))) goto fail;
    if ((st = lp_tensor_binary_scalar(LP_BINARY_SUB, e, epsilon, 0, &r))) goto fail;
    if ((st = lp_tensor_unary_(LP_UNARY_RELU, r))) goto fail;
    st = lp_tensor_reduce(LP_REDUCE_MEAN, r, NULL, 0, 0, out);
fail:
    lp_tensor_free(e);
    lp_tensor_free(r);
    return lp_error_prefix(st, fn);
}
