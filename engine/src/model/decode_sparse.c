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
#include "decode_sparse.h"
#include "model_internal.h"

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

/* ---------------------------------------------------------------- scalar steps */

/* Exact U(i, j) in float (as the dense path computes it, up to order). */
float ds_u_at(const ds_plan *p, const float *x, int64_t i, int64_t j) {
    const float *ah = p->bh.a + i * p->h, *aw = p->bw.a + j * p->w;
    float s = 0;
    for (int32_t k = p->bh.lo[i]; k <= p->bh.hi[i]; ++k) {
        float row = 0;
        for (int32_t l = p->bw.lo[j]; l <= p->bw.hi[j]; ++l) row += x[k * p->w + l] * aw[l];
        s += ah[k] * row;
    }
    return s;
}

/* The kept range [*r0, *r1] of output rows of one axis: those whose bound
 * abs1[i] * other_max * max(vmax over the band of i) reaches `floor`.
 * Bands repeat over runs of rows: their max is taken once per run. */
void ds_kept_range(const ds_band *b, double other_max, const float *vmax, double floor, int64_t *r0,
                   int64_t *r1) {
    if (floor <= 0) { /* every bound is >= 0: all rows (nearly flat maps, whose max U is below the gap) */
        *r0 = 0;
        *r1 = b->rows - 1;
        return;
    }
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

/* The lowest Taylor degree of e^x that is exact to float32 (remainder
 * r^(d+1)/(d+1)! * e^r < 6e-9, a tenth of float's epsilon) for |x| <= r,
 * among 1, 2, 3, 5, 7, 9 (up to r ~ 0.55: "flat" maps still span ~0.75 in
 * U, as the zero-padded blur dims their borders); 0: none, vf_exp. */
int ds_moment_degree(double r) {
    static const int degs[6] = {1, 2, 3, 5, 7, 9};
    for (int i = 0; i < 6; ++i) {
        double term = 1;
        for (int k = 1; k <= degs[i] + 1; ++k) term *= r / k;
        if (term * exp(r) < 6e-9) return degs[i];
    }
    return 0;
}

/* LP's confidence: the softmax summed over the 5x5 window at (floor(ey),
 * floor(ex)), zero outside the map and (weight < e^-30) outside the
 * computed rectangle. */
double ds_window_sum(const ds_plan *p, const float *u, float ref, float ex, float ey, int64_t r0,
                     int64_t r1, int64_t c0, int64_t c1) {
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

/* Threads take maps DS_CHUNK at a time until none are left, so a thread
 * that shares its core (with libtorch's spinning workers, or other jobs)
 * does less, instead of holding up the call. */
enum { DS_CHUNK = 16 };

static void *decode_maps(void *arg) {
    ds_work *wk = arg;
    void (*decode_map)(ds_work *, int64_t) = wk->p->vw == 16 ? ds_decode_map_v16 : ds_decode_map_v8;
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
    const int64_t vw = p->vw, nb = p->W / vw;
    p->awt = malloc((size_t)(p->w * p->W) * sizeof *p->awt);
    p->blk_lo = malloc((size_t)nb * sizeof *p->blk_lo);
    p->blk_hi = malloc((size_t)nb * sizeof *p->blk_hi);
    if (!p->awt || !p->blk_lo || !p->blk_hi)
        return lp_errorf(LP_STATUS_OOM, "decode_sparse", "out of memory");
    for (int64_t j = 0; j < p->W; ++j)
        for (int64_t l = 0; l < p->w; ++l) p->awt[l * p->W + j] = p->bw.a[j * p->w + l];
    for (int64_t b = 0; b < nb; ++b) {
        int32_t lo = (int32_t)p->w, hi = -1;
        for (int64_t j = b * vw; j < (b + 1) * vw; ++j)
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

/* The kernels' width: 16 where they may (lpm_simd_wide) and rows are
 * whole pairs of 16-float vectors, else 8. */
static int32_t kernel_width(int64_t w) { return w % 32 == 0 && lpm_simd_wide() ? 16 : 8; }

int32_t lpm_decode_sparse_width(int64_t w) { return w % 16 ? 0 : kernel_width(w); }

lp_status lpm_decode_sparse(const float *x, int64_t M, int64_t h, int64_t w, int32_t ds,
                            const float *ah, const float *aw, int32_t n_threads, float *out_kp,
                            float *out_conf) {
    ds_plan p = {.x = x, .M = M, .h = h, .w = w, .H = h << ds, .W = w << ds, .ds = ds,
                 .kp = out_kp, .conf = out_conf};
    if (ds < 1 || w % 16)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_decode_sparse", "needs ds >= 1 and w %% 16 == 0");
    p.vw = kernel_width(w);
    lp_status st = band_init(ah, p.H, h, &p.bh);
    if (!st) st = band_init(aw, p.W, w, &p.bw);
    if (!st) st = plan_columns(&p);
    if (!st) st = run_threads(&p, n_threads);
    plan_free(&p);
    return st;
}
