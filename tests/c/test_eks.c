/* test_eks.c: the Ensemble Kalman Smoother (engine/src/eks/eks_*.c,
 * docs/spec/eks.md): the smoother against an independent dense solution of
 * the same Gaussian model, its limits, the fit of s, the ensemble columns,
 * the CSV, bad arguments. */
#include <stdint.h>
#include <unistd.h>

#include "lp_test.h"

static char g_dir[] = "/tmp/lp_test_eks_XXXXXX";

/* ------------------------------------------------------------ random numbers */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static double uniform01(void) { /* xorshift64*, (0, 1) */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return ((double)((g_rng * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}
static double uniform(double a, double b) { return a + (b - a) * uniform01(); }
static double normal(void) { /* Box-Muller */
    return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

/* ------------------------------------------------------------ dense reference */

/* In-place Cholesky of the n x n SPD matrix a (lower triangle); 0 on success. */
static int cholesky(double *a, int n) {
    for (int j = 0; j < n; ++j) {
        double d = a[j * n + j];
        for (int k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0.0)) return 1;
        a[j * n + j] = sqrt(d);
        for (int i = j + 1; i < n; ++i) {
            double v = a[i * n + j];
            for (int k = 0; k < j; ++k) v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / a[j * n + j];
        }
    }
    return 0;
}

/* Solve L L^T x = b in place, L from cholesky(). */
static void chol_solve(const double *l, int n, double *b) {
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < i; ++k) b[i] -= l[i * n + k] * b[k];
        b[i] /= l[i * n + i];
    }
    for (int i = n - 1; i >= 0; --i) {
        for (int k = i + 1; k < n; ++k) b[i] -= l[k * n + i] * b[k];
        b[i] /= l[i * n + i];
    }
}

/* The posterior of the whole trajectory z_0..z_{n-1} from its normal
 * equations: precision J = e0 e0^T / p0 + D^T D / s + diag(1 / r_t over
 * observed t), J mean = e0 m0 / p0 + y_t / r_t; var = diag(J^-1). */
static int dense_posterior(const double *y, const double *r, int n, double s, double m0,
                           double p0, double *mean, double *var) {
    double *j = calloc((size_t)(n * n), sizeof(double));
    double *e = calloc((size_t)n, sizeof(double));
    j[0] += 1.0 / p0;
    mean[0] = m0 / p0;
    for (int t = 1; t < n; ++t) mean[t] = 0.0;
    for (int t = 1; t < n; ++t) { /* (z_t - z_{t-1})^2 / s */
        j[t * n + t] += 1.0 / s;
        j[(t - 1) * n + (t - 1)] += 1.0 / s;
        j[t * n + (t - 1)] -= 1.0 / s;
        j[(t - 1) * n + t] -= 1.0 / s;
    }
    for (int t = 0; t < n; ++t)
        if (!isnan(y[t])) {
            j[t * n + t] += 1.0 / r[t];
            mean[t] += y[t] / r[t];
        }
    int bad = cholesky(j, n);
    if (!bad) {
        chol_solve(j, n, mean);
        for (int t = 0; t < n; ++t) {
            for (int i = 0; i < n; ++i) e[i] = i == t;
            chol_solve(j, n, e);
            var[t] = e[t];
        }
    }
    free(j);
    free(e);
    return bad;
}

/* log N(y_obs; m0, Sigma), Sigma_ab = p0 + s min(a, b) + [a == b] r_a over
 * the observed frames: the marginal likelihood, written without a filter. */
static double dense_loglik(const double *y, const double *r, int n, double s, double m0,
                           double p0) {
    int *idx = malloc(sizeof(int) * (size_t)n);
    int m = 0;
    for (int t = 0; t < n; ++t)
        if (!isnan(y[t])) idx[m++] = t;
    double *c = malloc(sizeof(double) * (size_t)(m * m + 1));
    double *e = malloc(sizeof(double) * (size_t)(m + 1));
    for (int a = 0; a < m; ++a) {
        for (int b = 0; b < m; ++b) {
            int ta = idx[a], tb = idx[b];
            c[a * m + b] = p0 + s * (ta < tb ? ta : tb) + (a == b ? r[ta] : 0.0);
        }
        e[a] = y[idx[a]] - m0;
    }
    double ll = 0.0;
    if (m > 0) {
        cholesky(c, m);
        double logdet = 0.0;
        for (int a = 0; a < m; ++a) logdet += 2.0 * log(c[a * m + a]);
        double *w = malloc(sizeof(double) * (size_t)m);
        memcpy(w, e, sizeof(double) * (size_t)m);
        chol_solve(c, m, w);
        double quad = 0.0;
        for (int a = 0; a < m; ++a) quad += e[a] * w[a];
        ll = -0.5 * (m * 1.8378770664093453 + logdet + quad);
        free(w);
    }
    free(idx);
    free(c);
    free(e);
    return ll;
}

/* Random problems: n frames, about a fifth without an observation, r in
 * [0.05, 20], s in [0.01, 50]. Values are O(10), the conditioning of J is
 * at most ~(1/0.05 + 4/0.01) / (1/20 ...) ~ 1e5 here, so f64 errors are
 * ~1e-16 * 1e5 * 10 = 1e-10: the 1e-6 has four orders to spare. */
static void test_dense(void) {
    const int sizes[] = { 1, 2, 3, 7, 40, 120 };
    double worst_mean = 0.0, worst_var = 0.0, worst_ll = 0.0;
    int failures = 0;
    for (int trial = 0; trial < 60; ++trial) {
        int n = sizes[trial % 6];
        double *y = malloc(sizeof(double) * (size_t)n * 6);
        double *r = y + n, *mean = y + 2 * n, *var = y + 3 * n, *dm = y + 4 * n, *dv = y + 5 * n;
        double s = exp(uniform(log(0.01), log(50.0)));
        double m0 = uniform(-20, 20), p0 = exp(uniform(log(0.1), log(100.0)));
        double z = m0 + sqrt(p0) * normal();
        for (int t = 0; t < n; ++t) {
            if (t) z += sqrt(s) * normal();
            r[t] = exp(uniform(log(0.05), log(20.0)));
            y[t] = uniform01() < 0.2 ? NAN : z + sqrt(r[t]) * normal();
        }
        double ll = 0.0;
        if (lp_eks_smooth_1d(y, r, n, s, m0, p0, mean, var, &ll) != LP_STATUS_OK ||
            dense_posterior(y, r, n, s, m0, p0, dm, dv) != 0) {
            ++failures;
        } else {
            for (int t = 0; t < n; ++t) {
                worst_mean = fmax(worst_mean, fabs(mean[t] - dm[t]));
                worst_var = fmax(worst_var, fabs(var[t] - dv[t]));
            }
            double dl = dense_loglik(y, r, n, s, m0, p0);
            worst_ll = fmax(worst_ll, fabs(ll - dl) / fmax(1.0, fabs(dl)));
            double ll2 = NAN;
            lp_eks_loglik_1d(y, r, n, s, m0, p0, &ll2);
            if (ll2 != ll) ++failures; /* the filter-only pass is the same arithmetic */
        }
        free(y);
    }
    printf("# dense reference: worst |mean diff| %.3g, |var diff| %.3g, rel loglik diff %.3g\n",
           worst_mean, worst_var, worst_ll);
    LP_CHECK(failures == 0);
    LP_CHECK(worst_mean <= 1e-6);
    LP_CHECK(worst_var <= 1e-6);
    LP_CHECK(worst_ll <= 1e-9);
}

/* r = 0: the posterior is the observation itself (gain 1, variance 0), and
 * between two exact observations a random walk's posterior is the Brownian
 * bridge: the straight line, with variance s (t - a)(b - t) / (b - a). */
static void test_zero_variance(void) {
    enum { N = 30 };
    double y[N], r[N], mean[N], var[N];
    for (int t = 0; t < N; ++t) {
        y[t] = uniform(-50, 50);
        r[t] = 0.0;
    }
    for (int t = 11; t < 20; ++t) y[t] = NAN; /* a gap between frames 10 and 20 */
    const double s = 3.0;
    LP_CHECK_OK(lp_eks_smooth_1d(y, r, N, s, 0.0, 100.0, mean, var, NULL));
    double worst_obs = 0.0, worst_line = 0.0, worst_bridge = 0.0, worst_var0 = 0.0;
    for (int t = 0; t < N; ++t) {
        if (!isnan(y[t])) {
            worst_obs = fmax(worst_obs, fabs(mean[t] - y[t]) / (1.0 + fabs(y[t])));
            worst_var0 = fmax(worst_var0, fabs(var[t]));
        } else {
            double line = y[10] + (y[20] - y[10]) * (t - 10) / 10.0;
            worst_line = fmax(worst_line, fabs(mean[t] - line));
            worst_bridge = fmax(worst_bridge, fabs(var[t] - s * (t - 10) * (20 - t) / 10.0));
        }
    }
    printf("# r = 0: |mean - y| %.3g, |var| %.3g, gap: |mean - line| %.3g, |var - bridge| %.3g\n",
           worst_obs, worst_var0, worst_line, worst_bridge);
    /* a handful of roundings of O(100) values: 1e-12 relative is ~4500 ulps */
    LP_CHECK(worst_obs <= 1e-12);
    LP_CHECK(worst_var0 == 0.0);
    LP_CHECK(worst_line <= 1e-9);
    LP_CHECK(worst_bridge <= 1e-9);
}

/* r huge: the data barely move the walk. With eks's prior mean m0 = mean(y)
 * the posterior is flat at mean(y): the optimality condition
 * (1/s) L z = (y - z) / r (L the path Laplacian) bounds the variation of z
 * by n^2 (s / r) max|y - z| = 1e4 * 1e-14 * 100 = 1e-8 here. */
static void test_huge_variance(void) {
    enum { N = 100 };
    double y[N], r[N], mean[N], var[N], ybar = 0.0;
    for (int t = 0; t < N; ++t) {
        y[t] = uniform(0, 100);
        r[t] = 1e14;
        ybar += y[t] / N;
    }
    LP_CHECK_OK(lp_eks_smooth_1d(y, r, N, 1.0, ybar, 800.0, mean, var, NULL));
    double worst = 0.0, worst_step = 0.0;
    for (int t = 0; t < N; ++t) {
        worst = fmax(worst, fabs(mean[t] - ybar));
        if (t) worst_step = fmax(worst_step, fabs(mean[t] - mean[t - 1]));
    }
    printf("# r = 1e14: max |mean - mean(y)| %.3g, max step %.3g\n", worst, worst_step);
    LP_CHECK(worst <= 1e-6);
    LP_CHECK(worst_step <= 1e-6);
}

/* One model whose likelihood is 1 / r gives observation variance r exactly
 * (eks's one-model rule), so this is the fit on a simulated random walk
 * with known s and noise r, for x and y. The tolerance is statistical:
 * the maximum-likelihood log s has standard deviation 1 / sqrt(I), I the
 * observed information -d^2 loglik / d(log s)^2 at the estimate (measured
 * here by central differences); 4 standard deviations (two-sided normal
 * tail 6e-5, and the seed is fixed) bound |log s_hat - log s|. */
static void test_fit_recovers_s(void) {
    const double cases[][2] = { { 2.0, 4.0 }, { 0.05, 1.0 }, { 20.0, 0.5 } }; /* s, r */
    enum { T = 4000 };
    double *pred = malloc(sizeof(double) * T * 3);
    double *out = malloc(sizeof(double) * T * LP_EKS_N_COLUMNS);
    double *yc = malloc(sizeof(double) * T * 2);
    double *rc = yc + T;
    for (int c = 0; c < 3; ++c) {
        double s = cases[c][0], r = cases[c][1];
        double zx = 100.0, zy = 50.0;
        for (int t = 0; t < T; ++t) {
            if (t) {
                zx += sqrt(s) * normal();
                zy += sqrt(s) * normal();
            }
            pred[t * 3 + 0] = zx + sqrt(r) * normal();
            pred[t * 3 + 1] = zy + sqrt(r) * normal();
            pred[t * 3 + 2] = 1.0 / r;
        }
        lp_eks_params p = lp_eks_default_params();
        double s_hat = NAN;
        LP_CHECK_OK(lp_eks_smooth(pred, 1, T, 1, &p, &s_hat, out));
        /* r is the same every frame, so fitting on each frame's r is the same objective */
        double s_frame = NAN;
        p.fit_noise = LP_EKS_FIT_FRAME_VARIANCE;
        LP_CHECK_OK(lp_eks_smooth(pred, 1, T, 1, &p, &s_frame, out));
        LP_CHECK(s_frame == s_hat);
        /* loglik(u) of both coordinates with eks's prior (mean, variance of y) */
        double info = 0.0, at[3];
        const double h = 0.01;
        for (int i = 0; i < 3; ++i) {
            double u = log(s_hat) + (i - 1) * h, total = 0.0;
            for (int d = 0; d < 2; ++d) {
                double m = 0.0, q = 0.0;
                for (int t = 0; t < T; ++t) {
                    yc[t] = pred[t * 3 + d];
                    rc[t] = r;
                    m += yc[t] / T;
                }
                for (int t = 0; t < T; ++t) q += (yc[t] - m) * (yc[t] - m) / T;
                double ll = NAN;
                lp_eks_loglik_1d(yc, rc, T, exp(u), m, q, &ll);
                total += ll;
            }
            at[i] = total;
        }
        info = -(at[0] - 2.0 * at[1] + at[2]) / (h * h);
        double sd = info > 0.0 ? 1.0 / sqrt(info) : INFINITY;
        double err = fabs(log(s_hat) - log(s));
        printf("# s = %g, r = %g: fitted %.5g, |log s_hat - log s| = %.4f, sd %.4f\n", s, r, s_hat,
               err, sd);
        LP_CHECK(at[1] >= at[0] && at[1] >= at[2]); /* a maximum, to within h */
        LP_CHECK(err <= 4.0 * sd);
        LP_CHECK(sd < 0.2); /* T = 4000 makes the estimate informative at all */
    }
    free(pred);
    free(out);
    free(yc);
}

/* Ensemble columns on a case small enough to do by hand. */
static void test_ensemble_columns(void) {
    enum { M = 3, T = 4, K = 2, C = LP_EKS_N_COLUMNS };
    double pred[M * T * K * 3];
    for (int i = 0; i < M * T * K * 3; ++i) pred[i] = NAN;
#define P(m, t, k) (pred + (((m) * T + (t)) * K + (k)) * 3)
    /* keypoint 0, frame 0: x 1, 2, 6; y 0, 0, 3; likelihoods 0.5, 1, 0.9 */
    const double fx[3] = { 1, 2, 6 }, fy[3] = { 0, 0, 3 }, fl[3] = { 0.5, 1.0, 0.9 };
    for (int m = 0; m < M; ++m) {
        P(m, 0, 0)[0] = fx[m];
        P(m, 0, 0)[1] = fy[m];
        P(m, 0, 0)[2] = fl[m];
        /* frames 2, 3: every model at (10, 20) with likelihood 1 */
        for (int t = 2; t < 4; ++t) {
            P(m, t, 0)[0] = 10;
            P(m, t, 0)[1] = 20;
            P(m, t, 0)[2] = 1;
        }
    }
    /* frame 1: only model 1, likelihood 0.25 */
    P(1, 1, 0)[0] = 4;
    P(1, 1, 0)[1] = 5;
    P(1, 1, 0)[2] = 0.25;
    /* keypoint 1: NaN everywhere but model 2's likelihood */
    P(2, 0, 1)[2] = 0.7;
#undef P
    double out[T * K * C], s[K];
    lp_eks_params p = lp_eks_default_params();
    p.smooth = 1.0;
    LP_CHECK_OK(lp_eks_smooth(pred, M, T, K, &p, s, out));
    const double *o = out; /* frame 0, keypoint 0 */
    double conf = (0.5 + 1.0 + 0.9) / 3.0;
    LP_CHECK(o[3] == 2.0 && o[4] == 0.0);                /* medians */
    LP_CHECK_CLOSE(o[2], conf, 1e-15);                   /* mean likelihood */
    LP_CHECK_CLOSE(o[5], (14.0 / 3.0) / conf, 1e-12);    /* var(1,2,6) = 14/3, / conf */
    LP_CHECK_CLOSE(o[6], 2.0 / conf, 1e-12);             /* var(0,0,3) = 2 */
    o = out + (1 * K + 0) * C; /* frame 1: one model -> 1 / likelihood */
    LP_CHECK(o[3] == 4.0 && o[4] == 5.0 && o[5] == 4.0 && o[6] == 4.0 && o[2] == 0.25);
    o = out + (2 * K + 0) * C; /* frames 2, 3: agreement, r = 0: the observation */
    LP_CHECK(o[5] == 0.0 && o[0] == 10.0 && o[1] == 20.0 && o[7] == 0.0);
    LP_CHECK(s[0] == 1.0);
    o = out + (0 * K + 1) * C; /* the NaN-only keypoint */
    LP_CHECK(isnan(s[1]) && isnan(o[0]) && isnan(o[1]) && isnan(o[3]) && isnan(o[7]));
    p.average = LP_EKS_MEAN;
    p.variance = LP_EKS_VAR_PLAIN;
    LP_CHECK_OK(lp_eks_smooth(pred, M, T, K, &p, s, out));
    LP_CHECK_CLOSE(out[3], 3.0, 1e-15);
    LP_CHECK_CLOSE(out[5], 14.0 / 3.0, 1e-12);
    /* x and y of the smoother equal lp_eks_smooth_1d on the ensemble columns */
    double y[T], r[T], mean[T], var[T], ybar = 0.0, q = 0.0;
    int n = 0;
    p = lp_eks_default_params();
    p.smooth = 0.7;
    LP_CHECK_OK(lp_eks_smooth(pred, M, T, K, &p, s, out));
    for (int t = 0; t < T; ++t) {
        y[t] = out[(t * K) * C + 3];
        r[t] = out[(t * K) * C + 5];
        ybar += y[t];
        ++n;
    }
    ybar /= n;
    for (int t = 0; t < T; ++t) q += (y[t] - ybar) * (y[t] - ybar) / n;
    LP_CHECK_OK(lp_eks_smooth_1d(y, r, T, 0.7, ybar, q, mean, var, NULL));
    int same = 1;
    for (int t = 0; t < T; ++t)
        same &= mean[t] == out[(t * K) * C + 0] && var[t] == out[(t * K) * C + 7];
    LP_CHECK(same);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = '\0';
    fclose(f);
    return s;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* The output CSV: eks's header, values that read back bit for bit through
 * the predictions reader (which picks x, y, likelihood by name). */
static void test_csv(void) {
    enum { T = 5, K = 2, C = LP_EKS_N_COLUMNS };
    double v[T * K * C];
    for (int i = 0; i < T * K * C; ++i) v[i] = uniform(-1e3, 1e3) / 7.0;
    v[C * K * 2 + 0] = NAN; /* frame 2, keypoint 0, x */
    const char *names[K] = { "nose", "tail, base" };
    char path[256];
    snprintf(path, sizeof path, "%s/eks.csv", g_dir);
    LP_CHECK_OK(lp_eks_write_csv(path, T, K, names, NULL, v));
    char *text = slurp(path);
    LP_CHECK(text && strncmp(text, "scorer,ensemble-kalman_tracker,", 31) == 0);
    LP_CHECK(text && strstr(text, "\ncoords,x,y,likelihood,x_ens_median,y_ens_median,x_ens_var,"
                                  "y_ens_var,x_posterior_var,y_posterior_var,x,y,") != NULL);
    LP_CHECK(text && strstr(text, ",\"tail, base\",") != NULL);
    free(text);
    lp_csv_table *tab = NULL;
    LP_CHECK_OK(lp_csv_table_read(path, &tab));
    if (tab) {
        LP_CHECK(lp_csv_table_n_rows(tab) == T && lp_csv_table_n_keypoints(tab) == K);
        LP_CHECK(strcmp(lp_csv_table_keypoint_name(tab, 1), "tail, base") == 0);
        LP_CHECK(strcmp(lp_csv_table_scorer(tab), "ensemble-kalman_tracker") == 0);
        const double *got = lp_csv_table_values(tab);
        int same = 1;
        for (int t = 0; t < T; ++t)
            for (int k = 0; k < K; ++k)
                for (int c = 0; c < 3; ++c) {
                    double a = got[(t * K + k) * 3 + c], b = v[(t * K + k) * C + c];
                    same &= a == b || (isnan(a) && isnan(b));
                }
        LP_CHECK(same);
        lp_csv_table_free(tab);
    }
    /* more rows than one formatting block (2048; several threads), with labels */
    {
        enum { TB = 5000 };
        double *vb = malloc(sizeof(double) * TB * C);
        char **labels = malloc(sizeof(char *) * TB);
        for (int i = 0; i < TB * C; ++i) vb[i] = i % 17 == 0 ? NAN : normal() * 1e3;
        for (int t = 0; t < TB; ++t) {
            labels[t] = malloc(32);
            snprintf(labels[t], 32, t % 3 ? "img%05d.png" : "a,\"%d\"", t);
        }
        char big[256];
        snprintf(big, sizeof big, "%s/eks_big.csv", g_dir);
        LP_CHECK_OK(lp_eks_write_csv(big, TB, 1, names, (const char *const *)labels, vb));
        lp_csv_table *tb = NULL;
        LP_CHECK_OK(lp_csv_table_read(big, &tb));
        if (tb) {
            int same = lp_csv_table_n_rows(tb) == TB;
            const double *got = lp_csv_table_values(tb);
            for (int t = 0; same && t < TB; ++t) {
                same &= strcmp(lp_csv_table_index(tb, t), labels[t]) == 0;
                for (int c = 0; c < 3; ++c) {
                    double a = got[t * 3 + c], b = vb[t * C + c];
                    same &= a == b || (isnan(a) && isnan(b));
                }
            }
            LP_CHECK(same);
            lp_csv_table_free(tb);
        }
        for (int t = 0; t < TB; ++t) free(labels[t]);
        free(labels);
        free(vb);
    }
    /* no leftover temporary file beside it */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    LP_CHECK(access(tmp, F_OK) != 0);
    /* predictions CSVs that do not name x, y, likelihood per keypoint */
    snprintf(path, sizeof path, "%s/bad_coords.csv", g_dir);
    write_text(path, "scorer,a,a,a\nbodyparts,nose,nose,nose\ncoords,x,y,conf\n0,1,2,3\n");
    LP_CHECK_FAILS(lp_csv_table_read(path, &tab), LP_STATUS_IO, "no 'likelihood' column");
    write_text(path, "scorer,a,a,a,a\nbodyparts,nose,nose,nose,nose\ncoords,x,y,likelihood,x\n0,1,2,3,4\n");
    LP_CHECK_FAILS(lp_csv_table_read(path, &tab), LP_STATUS_IO, "two 'x' columns");
    LP_CHECK(strstr(lp_last_error(), path) != NULL);
    /* a directory that does not exist: IO, naming the function */
    LP_CHECK_FAILS(lp_eks_write_csv("/nonexistent-dir/x/eks.csv", T, K, names, NULL, v),
                   LP_STATUS_IO, "lp_eks_write_csv");
}

/* The EKS CSV prints f64 values with lp_format_double, which tries 15, 16,
 * 17 digits only (predict_csv.c says why that is the shortest); here it is
 * checked against the plain search over 1..17 digits on random doubles of
 * many magnitudes, float32 values and short decimals: same digit count, and
 * the text reads back as the value. */
/* The significant digits of a number's text, trailing zeros dropped. */
static void digit_string(const char *s, char *out) {
    int lead = 1, n = 0, last = 0;
    for (; *s && *s != 'e'; ++s) {
        if (*s < '0' || *s > '9') continue;
        if (lead && *s == '0') continue;
        lead = 0;
        out[n++] = *s;
        if (*s != '0') last = n;
    }
    out[last ? last : 0] = '\0';
}

static int significant_digits(const char *s) {
    int n = 0, lead = 1, last = 0;
    for (; *s && *s != 'e'; ++s) {
        if (*s < '0' || *s > '9') continue;
        if (lead && *s == '0') continue;
        lead = 0;
        ++n;
        if (*s != '0') last = n;
    }
    return last ? last : 1;
}

static void test_repr_shortest(void) {
    int bad = 0;
    for (int i = 0; i < 300000; ++i) {
        double v;
        switch (i % 5) {
        case 0: v = normal() * pow(10.0, uniform(-8, 18)); break;
        case 1: v = (double)(float)(normal() * pow(10.0, uniform(-5, 5))); break;
        case 2: v = round(uniform(-1e4, 1e4)) / pow(10.0, (double)(i % 7)); break;
        case 3: /* powers of ten and their neighbours, the ends of the fast range */
            v = pow(10.0, (double)(i / 5 % 24 - 7));
            for (int k = i / 120 % 5; k > 0; --k) v = nextafter(v, i % 2 ? 0.0 : 1e300);
            break;
        default: /* binary ties; powers of two (a closer double below) and their neighbours */
            v = i % 2 ? ldexp(round(uniform(1, 1 << 20)), (int)uniform(-40, 40))
                      : ldexp(1.0, (int)uniform(-60, 80));
            if (i % 4 == 0) v = nextafter(v, i % 8 ? 0.0 : 1e300);
            break;
        }
        if (i % 11 == 0) v = -v;
        char got[48], ref[40];
        lp_format_double(v, sizeof got, got);
        int p = 1;
        for (; p <= 17; ++p) {
            snprintf(ref, sizeof ref, "%.*e", p - 1, v);
            if (strtod(ref, NULL) == v) break;
        }
        char dg[40], dr[40];
        digit_string(got, dg);
        digit_string(ref, dr);
        if (strtod(got, NULL) != v || significant_digits(got) != p || strcmp(dg, dr) != 0) {
            if (bad++ < 5) printf("#   %s has %d digits, the shortest has %d (%s)\n", got, significant_digits(got), p, ref);
        }
    }
    LP_CHECK(bad == 0);
}

static void test_bad_args(void) {
    double y[3] = { 1, 2, 3 }, r[3] = { 1, 1, 1 }, m[3], v[3], ll;
    LP_CHECK_FAILS(lp_eks_smooth_1d(y, r, 3, 0.0, 0, 1, m, v, &ll), LP_STATUS_BAD_ARG, "lp_eks_smooth_1d: s");
    LP_CHECK_FAILS(lp_eks_smooth_1d(y, r, 3, 1.0, 0, 0.0, m, v, &ll), LP_STATUS_BAD_ARG, "p0");
    LP_CHECK_FAILS(lp_eks_smooth_1d(y, r, 0, 1.0, 0, 1, m, v, &ll), LP_STATUS_BAD_ARG, "n >= 1");
    r[1] = -1;
    LP_CHECK_FAILS(lp_eks_loglik_1d(y, r, 3, 1.0, 0, 1, &ll), LP_STATUS_BAD_ARG, "r[1]");
    r[1] = NAN;
    LP_CHECK_FAILS(lp_eks_loglik_1d(y, r, 3, 1.0, 0, 1, &ll), LP_STATUS_BAD_ARG, "r[1]");
    double pred[6] = { 1, 2, 1, 1, 2, 1 }, out[2 * LP_EKS_N_COLUMNS], s;
    LP_CHECK_FAILS(lp_eks_smooth(pred, 0, 2, 1, NULL, &s, out), LP_STATUS_BAD_ARG, "lp_eks_smooth");
    LP_CHECK_FAILS(lp_eks_smooth(NULL, 1, 2, 1, NULL, &s, out), LP_STATUS_BAD_ARG, "lp_eks_smooth");
    lp_eks_params p = lp_eks_default_params();
    p.smooth = -1;
    LP_CHECK_FAILS(lp_eks_smooth(pred, 1, 2, 1, &p, &s, out), LP_STATUS_BAD_ARG, "smooth");
    p = lp_eks_default_params();
    p.average = 7;
    LP_CHECK_FAILS(lp_eks_smooth(pred, 1, 2, 1, &p, &s, out), LP_STATUS_BAD_ARG, "average");
    p = lp_eks_default_params();
    p.log_s_min = 3;
    p.log_s_max = 3;
    LP_CHECK_FAILS(lp_eks_smooth(pred, 1, 2, 1, &p, &s, out), LP_STATUS_BAD_ARG, "log_s_min");
    LP_CHECK(lp_eks_column_name(8) && strcmp(lp_eks_column_name(8), "y_posterior_var") == 0);
    LP_CHECK(lp_eks_column_name(9) == NULL && lp_eks_column_name(-1) == NULL);
    /* an interrupt stops it with INTERRUPTED, never a half answer called OK */
    lp_interrupt_request();
    LP_CHECK_FAILS(lp_eks_smooth(pred, 1, 2, 1, NULL, &s, out), LP_STATUS_INTERRUPTED, "interrupted");
    lp_interrupt_clear();
}

int main(void) {
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    test_dense();
    test_zero_variance();
    test_huge_variance();
    test_fit_recovers_s();
    test_ensemble_columns();
    test_csv();
    test_repr_shortest();
    test_bad_args();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", g_dir);
    LP_DONE();
}
