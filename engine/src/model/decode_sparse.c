/* decode_sparse.c: LP's subpixel soft-argmax (docs/spec/lp-model.md §2.3-2.4) on raw
 * CPU float32 maps, computing the upsampled map U = A_h X A_w^T only where
 * its softmax weight can be seen in float32.
 *
 * Why that is exact to rounding: a pixel with U <= max U - DECODE_SKIP_GAP
 * has weight <= e^-30 = 9.4e-14 of the largest one; all of the at most
 * 2^20 pixels of a 1024 x 1024 map together stay below 1e-7 of the sum, and
 * for a 128 x 128 map below 2e-9 (float32's epsilon is 6e-8). Such pixels
 * are taken as weight 0.
 *
 * Which pixels can be skipped comes from an upper bound that needs no U:
 * U(i,j) = sum_k sum_l A_h[i,k] X[k,l] A_w[j,l] <= |A_h[i,:]|_1 |A_w[j,:]|_1
 * max |X| over the (k, l) band of (i, j). Whole output rows and columns are
 * dropped when their bound is below (a lower bound of max U) - gap, which
 * leaves one rectangle per map (the whole map for flat maps). Both matrices
 * are banded (bicubic + binomial blur: ~11 nonzeros of 32 per row), so even
 * a whole map costs ~2.5x fewer multiply-adds than the dense matmuls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fork_join.h"
#include "model_internal.h"
#include "simd.h"

/* Scaled units (1000 x the heatmap): see the top comment. */
#define DECODE_SKIP_GAP 30.0

/* Banded matrix (rows x cols, row-major): nonzeros of row r lie in
 * lo[r]..hi[r]; abs1[r] is the row's L1 norm. */
typedef struct ds_band {
    const float *a;
    int64_t rows, cols;
    int32_t *lo, *hi;
    double *abs1, abs1_max;
} ds_band;

/* Shared, read-only per call. */
typedef struct ds_plan {
    const float *x;        /* (M, h, w) */
    int64_t M, h, w, H, W; /* H = h << ds, W = w << ds; w % (2 VW) == 0 */
    int32_t ds;
    ds_band bh, bw;
    float *awt;            /* A_w^T, (w, W) */
    int32_t *blk_lo, *blk_hi; /* per VW-column block of U: the l range of its columns */
    float *kp, *conf;      /* (M, 2), (M) out */
} ds_plan;

/* Per thread. */
typedef struct ds_work {
    const ds_plan *p;
    int64_t *next;    /* shared: the first map no thread has taken */
    float *t;         /* (H, w): A_h X for the kept rows */
    float *u;         /* (H, W) */
    float *rmax, *cmax; /* per input row / column max |X| */
} ds_work;

static void band_free(ds_band *b) {
    free(b->lo);
    free(b->hi);
    free(b->abs1);
    b->lo = b->hi = NULL;
    b->abs1 = NULL;
}

static lp_status band_init(const float *a, int64_t rows, int64_t cols, ds_band *b) {
    memset(b, 0, sizeof *b);
    b->a = a;
    b->rows = rows;
    b->cols = cols;
    b->lo = malloc((size_t)rows * sizeof *b->lo);
    b->hi = malloc((size_t)rows * sizeof *b->hi);
    b->abs1 = malloc((size_t)rows * sizeof *b->abs1);
    if (!b->lo || !b->hi || !b->abs1) {
        band_free(b);
        return lp_errorf(LP_STATUS_OOM, "band_init", "out of memory");
    }
    for (int64_t r = 0; r < rows; ++r) {
        int32_t lo = (int32_t)cols, hi = -1;
        double s = 0;
        for (int64_t c = 0; c < cols; ++c) {
            float v = a[r * cols + c];
            if (v == 0) continue;
            if (lo > c) lo = (int32_t)c;
            hi = (int32_t)c;
            s += fabs((double)v);
        }
        if (hi < 0) lo = 0; /* an all-zero row: empty band */
        b->lo[r] = lo;
        b->hi[r] = hi;
        b->abs1[r] = s;
        if (s > b->abs1_max) b->abs1_max = s;
    }
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- vectors */

SIMD_INLINE vf vf_max(vf a, vf b) {
    vi gt = a > b;
    return (vf)((gt & (vi)a) | (~gt & (vi)b));
}
SIMD_INLINE float vf_hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < VW; ++i) m = v[i] > m ? v[i] : m;
    return m;
}
SIMD_INLINE double vf_hsum(vf v) {
    double s = 0;
    for (int i = 0; i < VW; ++i) s += v[i];
    return s;
}

/* e^x for x <= 0 (float32, ~1 ulp): x = n ln2 + r, |r| <= ln2/2, e^r by its
 * degree-7 Taylor polynomial (remainder < 6e-9 relative), times 2^n from the
 * exponent bits. Below -87 (under float32's normal range) gives 0. */
SIMD_INLINE vf vf_exp(vf x) {
    const vf lo = vf_splat(-87.0f), magic = vf_splat(12582912.0f); /* 1.5 * 2^23 */
    vi keep = x > lo;
    x = vf_max(x, lo);
    vf t = x * vf_splat(1.44269504f) + magic; /* round(x / ln2) in the low bits */
    vi n = (vi)t - (vi)magic;
    t = t - magic;
    vf r = x - t * vf_splat(0.693145752f) - t * vf_splat(1.42860677e-6f); /* ln2 hi + lo */
    vf q = vf_splat(1.0f / 5040);
    q = q * r + vf_splat(1.0f / 720);
    q = q * r + vf_splat(1.0f / 120);
    q = q * r + vf_splat(1.0f / 24);
    q = q * r + vf_splat(1.0f / 6);
    q = q * r + vf_splat(0.5f);
    q = q * r + vf_splat(1.0f);
    q = q * r + vf_splat(1.0f);
    vi scale = (n + 127) << 23;
    return (vf)((vi)(q * (vf)scale) & keep);
}

/* ---------------------------------------------------------------- one map */

/* Exact U(i, j) in float (as the dense path computes it, up to order). */
static float u_at(const ds_plan *p, const float *x, int64_t i, int64_t j) {
    const float *ah = p->bh.a + i * p->h, *aw = p->bw.a + j * p->w;
    float s = 0;
    for (int32_t k = p->bh.lo[i]; k <= p->bh.hi[i]; ++k) {
        float row = 0;
        for (int32_t l = p->bw.lo[j]; l <= p->bw.hi[j]; ++l) row += x[k * p->w + l] * aw[l];
        s += ah[k] * row;
    }
    return s;
}

/* Per input row and column max |X| and the argmax (*kmax,
 * *lmax). Returns 0 when a value is not finite. */
SIMD_HOT static int scan_map(const ds_plan *p, const float *x, ds_work *wk, int64_t *kmax,
                           int64_t *lmax) {
    const int64_t w = p->w;
    const vi abs_mask = (vi){0} + 0x7fffffff; /* clears the sign bit */
    vf finite = vf_splat(0); /* stays 0 unless some x * 0 is NaN (x inf or NaN) */
    float best = -1;
    for (int64_t l = 0; l < w; ++l) wk->cmax[l] = 0;
    for (int64_t k = 0; k < p->h; ++k) {
        vf rm = vf_splat(0);
        for (int64_t l = 0; l < w; l += VW) {
            vf v = vf_load(x + k * w + l);
            finite += v * vf_splat(0);
            v = (vf)((vi)v & abs_mask);
            rm = vf_max(rm, v);
            vf_store(wk->cmax + l, vf_max(vf_load(wk->cmax + l), v));
        }
        wk->rmax[k] = vf_hmax(rm);
        if (wk->rmax[k] > best) {
            best = wk->rmax[k];
            *kmax = k;
        }
    }
    for (int64_t l = 0; l < w; ++l)
        if (fabsf(x[*kmax * w + l]) == best) *lmax = l;
    for (int i = 0; i < VW; ++i)
        if (finite[i] != 0) return 0;
    return 1;
}

/* The kept range [*r0, *r1] of output rows of one axis: those whose bound
 * abs1[i] * other_max * max(vmax over the band of i) reaches `floor`.
 * Bands repeat over runs of rows: their max is taken once per run. */
static void kept_range(const ds_band *b, double other_max, const float *vmax, double floor,
                       int64_t *r0, int64_t *r1) {
    *r0 = b->rows;
    *r1 = -1;
    float m = 0;
    for (int64_t i = 0; i < b->rows; ++i) {
        if (i == 0 || b->lo[i] != b->lo[i - 1] || b->hi[i] != b->hi[i - 1]) {
            m = 0;
            for (int32_t k = b->lo[i]; k <= b->hi[i]; ++k) m = vmax[k] > m ? vmax[k] : m;
        }
        if (b->abs1[i] * other_max * m < floor) continue;
        if (*r0 > i) *r0 = i;
        *r1 = i;
    }
}

/* The products below keep 8 independent vector sums (4 rows x 2 vectors)
 * so that multiply-add latency overlaps. Bands grow with the row, so the
 * band of rows i..i+3 is lo[i]..hi[i+3]; entries outside a row's own band
 * are exact zeros and change no sum. */

/* Rows i..i+nr-1 (nr <= 4) of T = A_h X, columns l..l+2VW-1. */
SIMD_INLINE void t_block(const ds_plan *p, const float *x, float *t, int64_t i, int nr, int64_t l) {
    const int64_t w = p->w, h = p->h;
    const float *ah = p->bh.a + i * h;
    vf acc[4][2] = {{{0}}};
    for (int32_t k = p->bh.lo[i]; k <= p->bh.hi[i + nr - 1]; ++k) {
        vf x0 = vf_load(x + k * w + l), x1 = vf_load(x + k * w + l + VW);
#pragma GCC unroll 4
        for (int r = 0; r < nr; ++r) {
            vf a = vf_splat(ah[r * h + k]);
            acc[r][0] += a * x0;
            acc[r][1] += a * x1;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; ++r) {
        vf_store(t + (i + r) * w + l, acc[r][0]);
        vf_store(t + (i + r) * w + l + VW, acc[r][1]);
    }
}

/* T[i, :] = A_h[i, band] X[band, :] for rows r0..r1 (w % (2 VW) == 0). */
SIMD_HOT static void rows_times_x(const ds_plan *p, const float *x, float *t, int64_t r0,
                                int64_t r1) {
    int64_t i = r0;
    for (; i + 3 <= r1; i += 4)
        for (int64_t l = 0; l < p->w; l += 2 * VW) t_block(p, x, t, i, 4, l);
    for (; i <= r1; ++i)
        for (int64_t l = 0; l < p->w; l += 2 * VW) t_block(p, x, t, i, 1, l);
}

/* U rows i..i+nr-1 (nr <= 4), column blocks b..b+nb-1 (nb <= 2), stored;
 * their max and min go into *mx, *mn. */
SIMD_INLINE void u_block(const ds_plan *p, float *u, const float *t, int64_t i, int nr, int64_t b,
                       int nb, vf *mx, vf *mn) {
    const int64_t w = p->w, W = p->W;
    const float *ti = t + i * w, *awt = p->awt + b * VW;
    vf acc[4][2] = {{{0}}};
    for (int32_t l = p->blk_lo[b]; l <= p->blk_hi[b + nb - 1]; ++l) {
        vf c0 = vf_load(awt + l * W), c1 = nb > 1 ? vf_load(awt + l * W + VW) : c0;
#pragma GCC unroll 4
        for (int r = 0; r < nr; ++r) {
            vf a = vf_splat(ti[r * w + l]);
            acc[r][0] += a * c0;
            if (nb > 1) acc[r][1] += a * c1;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; ++r)
#pragma GCC unroll 2
        for (int c = 0; c < nb; ++c) {
            vf_store(u + (i + r) * W + (b + c) * VW, acc[r][c]);
            *mx = vf_max(*mx, acc[r][c]);
            *mn = vf_max(*mn, -acc[r][c]);
        }
}

/* U = T A_w^T on rows r0..r1 and column blocks b0..b1; its max and min
 * in range[0], range[1]. */
SIMD_HOT static void rows_times_awt(const ds_plan *p, float *u, const float *t, int64_t r0,
                                  int64_t r1, int64_t b0, int64_t b1, float range[2]) {
    vf mx = vf_splat(-INFINITY), mn = mx; /* mn: max of -U */
    int64_t i = r0;
    for (; i + 3 <= r1; i += 4) {
        int64_t b = b0;
        for (; b + 1 <= b1; b += 2) u_block(p, u, t, i, 4, b, 2, &mx, &mn);
        if (b <= b1) u_block(p, u, t, i, 4, b, 1, &mx, &mn);
    }
    for (; i <= r1; ++i) {
        int64_t b = b0;
        for (; b + 1 <= b1; b += 2) u_block(p, u, t, i, 1, b, 2, &mx, &mn);
        if (b <= b1) u_block(p, u, t, i, 1, b, 1, &mx, &mn);
    }
    range[0] = vf_hmax(mx);
    range[1] = -vf_hmax(mn);
}

/* e^x for |x| <= r by its Taylor polynomial of degree deg, no range
 * reduction: for nearly flat maps (see moment_degree). */
SIMD_INLINE vf vf_exp_near0(vf x, int deg) {
    static const float inv_fact[10] = {1.0f,        1.0f,         0.5f,          1.0f / 6,
                                       1.0f / 24,   1.0f / 120,   1.0f / 720,    1.0f / 5040,
                                       1.0f / 40320, 1.0f / 362880};
    vf q = vf_splat(inv_fact[deg]);
#pragma GCC unroll 10
    for (int k = deg - 1; k >= 0; --k) q = q * x + vf_splat(inv_fact[k]);
    return q;
}

/* Sums of e^(U - c) and of it times x and y over the rectangle, in double
 * across rows (float within a row of at most W / VW vectors; two sums
 * each, for latency). deg 0: vf_exp; else vf_exp_near0 of that degree. */
SIMD_INLINE void moments(const ds_plan *p, const float *u, float c, int64_t r0, int64_t r1,
                       int64_t b0, int64_t b1, double out[3], int deg) {
    const int64_t W = p->W;
    const vf m = vf_splat(c);
    vf j0;
    for (int k = 0; k < VW; ++k) j0[k] = (float)(b0 * VW + k);
    double s = 0, sx = 0, sy = 0;
    for (int64_t i = r0; i <= r1; ++i) {
        const float *ui = u + i * W;
        vf s0 = vf_splat(0), s1 = s0, x0 = s0, x1 = s0, j = j0;
        int64_t b = b0;
        for (; b + 1 <= b1; b += 2, j += 2 * VW) {
            vf d0 = vf_load(ui + b * VW) - m, d1 = vf_load(ui + b * VW + VW) - m;
            vf e0 = deg ? vf_exp_near0(d0, deg) : vf_exp(d0);
            vf e1 = deg ? vf_exp_near0(d1, deg) : vf_exp(d1);
            s0 += e0;
            s1 += e1;
            x0 += e0 * j;
            x1 += e1 * (j + VW);
        }
        if (b <= b1) {
            vf d = vf_load(ui + b * VW) - m;
            vf e = deg ? vf_exp_near0(d, deg) : vf_exp(d);
            s0 += e;
            x0 += e * j;
        }
        double rs = vf_hsum(s0 + s1);
        s += rs;
        sx += vf_hsum(x0 + x1);
        sy += rs * (double)i;
    }
    out[0] = s;
    out[1] = sx;
    out[2] = sy;
}

/* The lowest Taylor degree of e^x that is exact to float32 (remainder
 * r^(d+1)/(d+1)! * e^r < 6e-9, a tenth of float's epsilon) for |x| <= r,
 * among 1, 2, 3, 5, 7, 9 (up to r ~ 0.55: "flat" maps still span ~0.75 in
 * U, as the zero-padded blur dims their borders); 0: none, vf_exp. */
static int moment_degree(double r) {
    static const int degs[6] = {1, 2, 3, 5, 7, 9};
    for (int i = 0; i < 6; ++i) {
        double term = 1;
        for (int k = 1; k <= degs[i] + 1; ++k) term *= r / k;
        if (term * exp(r) < 6e-9) return degs[i];
    }
    return 0;
}

/* moments() about c, specialised by degree. */
SIMD_HOT static void softmax_moments(const ds_plan *p, const float *u, float c, int deg, int64_t r0,
                                   int64_t r1, int64_t b0, int64_t b1, double out[3]) {
    switch (deg) {
    case 1: moments(p, u, c, r0, r1, b0, b1, out, 1); break;
    case 2: moments(p, u, c, r0, r1, b0, b1, out, 2); break;
    case 3: moments(p, u, c, r0, r1, b0, b1, out, 3); break;
    case 5: moments(p, u, c, r0, r1, b0, b1, out, 5); break;
    case 7: moments(p, u, c, r0, r1, b0, b1, out, 7); break;
    case 9: moments(p, u, c, r0, r1, b0, b1, out, 9); break;
    default: moments(p, u, c, r0, r1, b0, b1, out, 0); break;
    }
}

/* LP's confidence: the softmax summed over the 5x5 window at (floor(ey),
 * floor(ex)), zero outside the map and (weight < e^-30) outside the
 * computed rectangle. */
static double window_sum(const ds_plan *p, const float *u, float ref, float ex, float ey,
                         int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    int64_t fx = (int64_t)floorf(ex), fy = (int64_t)floorf(ey);
    fx = fx < 0 ? 0 : fx > p->W - 1 ? p->W - 1 : fx;
    fy = fy < 0 ? 0 : fy > p->H - 1 ? p->H - 1 : fy;
    double c = 0;
    for (int64_t y = fy - 2; y <= fy + 2; ++y)
        for (int64_t x = fx - 2; x <= fx + 2; ++x)
            if (y >= r0 && y <= r1 && x >= c0 && x <= c1)
                c += exp((double)u[y * p->W + x] - (double)ref);
    return c;
}

/* Keypoint (x, y) and confidence of map m. */
static void decode_map(ds_work *wk, int64_t m) {
    const ds_plan *p = wk->p;
    const float *x = p->x + m * p->h * p->w;
    const float offset = (float)(ldexp(1.0, p->ds - 1) - 0.5);
    int64_t kmax = 0, lmax = 0, r0, r1, c0, c1;
    if (!scan_map(p, x, wk, &kmax, &lmax)) {
        p->kp[2 * m] = p->kp[2 * m + 1] = p->conf[m] = NAN;
        return;
    }
    /* a lower bound of max U: U at the output pixel over the argmax of X */
    const int64_t f = (int64_t)1 << p->ds;
    const double floor_u = u_at(p, x, kmax * f + f / 2, lmax * f + f / 2) - DECODE_SKIP_GAP;
    kept_range(&p->bh, p->bw.abs1_max, wk->rmax, floor_u, &r0, &r1);
    kept_range(&p->bw, p->bh.abs1_max, wk->cmax, floor_u, &c0, &c1);
    /* the bounds hold for the lower bound's own pixels, so neither is empty */
    const int64_t b0 = c0 / VW, b1 = c1 / VW;
    rows_times_x(p, x, wk->t, r0, r1);
    float range[2];
    rows_times_awt(p, wk->u, wk->t, r0, r1, b0, b1, range);
    /* weights e^(U - c): about the max, or about the middle of a flat map
     * (no range reduction, lower degree) */
    const double half = 0.5 * ((double)range[0] - range[1]);
    const int deg = moment_degree(half);
    const float ref = deg ? (float)(0.5 * ((double)range[0] + range[1])) : range[0];
    double mom[3];
    softmax_moments(p, wk->u, ref, deg, r0, r1, b0, b1, mom);
    float ex = (float)(mom[1] / mom[0]), ey = (float)(mom[2] / mom[0]);
    double c = window_sum(p, wk->u, ref, ex, ey, r0, r1, b0 * VW, b1 * VW + VW - 1);
    p->kp[2 * m] = ex - offset;
    p->kp[2 * m + 1] = ey - offset;
    p->conf[m] = (float)(c / mom[0]);
}

/* Threads take maps DS_CHUNK at a time until none are left, so a thread
 * that shares its core (with libtorch's spinning workers, or other jobs)
 * does less, instead of holding up the call. */
enum { DS_CHUNK = 16 };

static void *decode_maps(void *arg) {
    ds_work *wk = arg;
    for (;;) {
        int64_t m0 = __atomic_fetch_add(wk->next, DS_CHUNK, __ATOMIC_RELAXED);
        if (m0 >= wk->p->M) return NULL;
        int64_t m1 = m0 + DS_CHUNK < wk->p->M ? m0 + DS_CHUNK : wk->p->M;
        for (int64_t m = m0; m < m1; ++m) decode_map(wk, m);
    }
}

/* ---------------------------------------------------------------- setup */

static void work_free(ds_work *wk) {
    free(wk->t);
    free(wk->u);
    free(wk->rmax);
    free(wk->cmax);
}

static lp_status work_init(const ds_plan *p, int64_t *next, ds_work *wk) {
    memset(wk, 0, sizeof *wk);
    wk->p = p;
    wk->next = next;
    wk->t = malloc((size_t)(p->H * p->w) * sizeof *wk->t);
    wk->u = malloc((size_t)(p->H * p->W) * sizeof *wk->u);
    wk->rmax = malloc((size_t)p->h * sizeof *wk->rmax);
    wk->cmax = malloc((size_t)p->w * sizeof *wk->cmax);
    if (wk->t && wk->u && wk->rmax && wk->cmax) return LP_STATUS_OK;
    work_free(wk);
    return lp_errorf(LP_STATUS_OOM, "decode_sparse", "out of memory");
}

static void plan_free(ds_plan *p) {
    band_free(&p->bh);
    band_free(&p->bw);
    free(p->awt);
    free(p->blk_lo);
    free(p->blk_hi);
}

/* A_w^T and, per column block, the union of its columns' bands. */
static lp_status plan_columns(ds_plan *p) {
    const int64_t nb = p->W / VW;
    p->awt = malloc((size_t)(p->w * p->W) * sizeof *p->awt);
    p->blk_lo = malloc((size_t)nb * sizeof *p->blk_lo);
    p->blk_hi = malloc((size_t)nb * sizeof *p->blk_hi);
    if (!p->awt || !p->blk_lo || !p->blk_hi)
        return lp_errorf(LP_STATUS_OOM, "decode_sparse", "out of memory");
    for (int64_t j = 0; j < p->W; ++j)
        for (int64_t l = 0; l < p->w; ++l) p->awt[l * p->W + j] = p->bw.a[j * p->w + l];
    for (int64_t b = 0; b < nb; ++b) {
        int32_t lo = (int32_t)p->w, hi = -1;
        for (int64_t j = b * VW; j < (b + 1) * VW; ++j)
            if (p->bw.hi[j] >= p->bw.lo[j]) {
                lo = p->bw.lo[j] < lo ? p->bw.lo[j] : lo;
                hi = p->bw.hi[j] > hi ? p->bw.hi[j] : hi;
            }
        p->blk_lo[b] = lo;
        p->blk_hi[b] = hi;
    }
    return LP_STATUS_OK;
}

/* Decode all maps on up to n_threads threads, the caller included; the
 * workers share one counter of maps, so a thread that could not start
 * leaves its maps to the others. */
static lp_status run_threads(const ds_plan *p, int32_t n_threads) {
    enum { MAX_THREADS = 8 };
    ds_work wk[MAX_THREADS];
    int64_t next = 0, n = n_threads < 1 ? 1 : n_threads > MAX_THREADS ? MAX_THREADS : n_threads;
    if (n > (p->M + DS_CHUNK - 1) / DS_CHUNK) n = (p->M + DS_CHUNK - 1) / DS_CHUNK;
    if (n < 1) n = 1;
    lp_status st = LP_STATUS_OK;
    int64_t made = 0;
    for (; made < n && !st; ++made) st = work_init(p, &next, &wk[made]);
    if (st) --made; /* the failed one freed itself */
    if (!st) lp_fork_join(decode_maps, wk, sizeof *wk, made);
    for (int64_t t = 0; t < made; ++t) work_free(&wk[t]);
    return st;
}

lp_status lpm_decode_sparse(const float *x, int64_t M, int64_t h, int64_t w, int32_t ds,
                            const float *ah, const float *aw, int32_t n_threads, float *out_kp,
                            float *out_conf) {
    ds_plan p = {.x = x, .M = M, .h = h, .w = w, .H = h << ds, .W = w << ds, .ds = ds,
                 .kp = out_kp, .conf = out_conf};
    if (ds < 1 || w % (2 * VW))
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_decode_sparse", "needs ds >= 1 and w %% %d == 0",
                         2 * VW);
    lp_status st = band_init(ah, p.H, h, &p.bh);
    if (!st) st = band_init(aw, p.W, w, &p.bw);
    if (!st) st = plan_columns(&p);
    if (!st) st = run_threads(&p, n_threads);
    plan_free(&p);
    return st;
}
