/* decode_sparse_map.h: the vector kernels of decode_sparse.c, one map at a
 * time, written for VW floats per vector (simd.h). Not a normal header: it
 * defines the kernels, and decode_sparse_v8.c and decode_sparse_v16.c each
 * include it once, after simd.h at their width, with DS_DECODE_MAP naming
 * the entry point. A block of 16 columns of U needs fewer multiply-add
 * instructions than two blocks of 8, as their bands of A_w overlap: for
 * 32-wide maps upsampled 4x, 11.0 columns of T per 16-column block against
 * 9.25 per 8-column block (18.5 for 16 columns). Its includer has included
 * <math.h>, decode_sparse.h and simd.h. */

/* ---------------------------------------------------------------- vectors */

/* Per-lane double sums: a row's float sums are added lane by lane, and the
 * lanes only once at the end (a chain of VW dependent scalar adds per row
 * would take longer than the row's own work). */
typedef double vd __attribute__((vector_size(VW * sizeof(double))));
SIMD_INLINE vd vf_to_vd(vf v) { return __builtin_convertvector(v, vd); }
SIMD_INLINE double vd_hsum(vd v) {
    double s = 0;
    for (int i = 0; i < VW; ++i) s += v[i];
    return s;
}

/* ---------------------------------------------------------------- one map */

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

/* The products of T below keep 8 independent vector sums (4 rows x 2 vectors)
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

/* U rows i..i+nr-1 (nr <= 8), column block b, stored; their max and min
 * go into *mx, *mn. One block at a time: its own band of A_w (two blocks
 * at once would run over the union of both bands, 36 % more products for
 * 16-column blocks), and 8 rows for 8 independent sums. */
SIMD_INLINE void u_block(const ds_plan *p, float *u, const float *t, int64_t i, int nr, int64_t b, vf *mx,
                         vf *mn) {
    const int64_t w = p->w, W = p->W;
    const float *ti = t + i * w, *awt = p->awt + b * VW;
    vf acc[8];
#pragma GCC unroll 8
    for (int r = 0; r < nr; ++r) acc[r] = vf_splat(0);
    for (int32_t l = p->blk_lo[b]; l <= p->blk_hi[b]; ++l) {
        const vf c = vf_load(awt + l * W);
#pragma GCC unroll 8
        for (int r = 0; r < nr; ++r) acc[r] += vf_splat(ti[r * w + l]) * c;
    }
#pragma GCC unroll 8
    for (int r = 0; r < nr; ++r) {
        vf_store(u + (i + r) * W + b * VW, acc[r]);
        *mx = vf_max(*mx, acc[r]);
        *mn = vf_max(*mn, -acc[r]);
    }
}

/* U = T A_w^T on rows r0..r1 and column blocks b0..b1; its max and min
 * in range[0], range[1]. */
SIMD_HOT static void rows_times_awt(const ds_plan *p, float *u, const float *t, int64_t r0,
                                  int64_t r1, int64_t b0, int64_t b1, float range[2]) {
    vf mx = vf_splat(-INFINITY), mn = mx; /* mn: max of -U */
    int64_t i = r0;
    for (; i + 7 <= r1; i += 8)
        for (int64_t b = b0; b <= b1; ++b) u_block(p, u, t, i, 8, b, &mx, &mn);
    for (; i <= r1; ++i)
        for (int64_t b = b0; b <= b1; ++b) u_block(p, u, t, i, 1, b, &mx, &mn);
    range[0] = vf_hmax(mx);
    range[1] = -vf_hmax(mn);
}

/* e^x for |x| <= r by its Taylor polynomial of degree deg, no range
 * reduction: for nearly flat maps (see ds_moment_degree). */
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
 * each, for latency), per lane. deg 0: vf_exp; else vf_exp_near0 of that degree. */
SIMD_INLINE void moments(const ds_plan *p, const float *u, float c, int64_t r0, int64_t r1,
                       int64_t b0, int64_t b1, double out[3], int deg) {
    const int64_t W = p->W;
    const vf m = vf_splat(c);
    vf j0;
    for (int k = 0; k < VW; ++k) j0[k] = (float)(b0 * VW + k);
    vd s = {0}, sx = {0}, sy = {0};
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
        vd rs = vf_to_vd(s0 + s1);
        s += rs;
        sx += vf_to_vd(x0 + x1);
        sy += rs * (double)i;
    }
    out[0] = vd_hsum(s);
    out[1] = vd_hsum(sx);
    out[2] = vd_hsum(sy);
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

/* Keypoint (x, y) and confidence of map m. */
void DS_DECODE_MAP(ds_work *wk, int64_t m) {
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
    const double floor_u = ds_u_at(p, x, kmax * f + f / 2, lmax * f + f / 2) - DECODE_SKIP_GAP;
    ds_kept_range(&p->bh, p->bw.abs1_max, wk->rmax, floor_u, &r0, &r1);
    ds_kept_range(&p->bw, p->bh.abs1_max, wk->cmax, floor_u, &c0, &c1);
    /* the bounds hold for the lower bound's own pixels, so neither is empty */
    const int64_t b0 = c0 / VW, b1 = c1 / VW;
    rows_times_x(p, x, wk->t, r0, r1);
    float range[2];
    rows_times_awt(p, wk->u, wk->t, r0, r1, b0, b1, range);
    /* weights e^(U - c): about the max, or about the middle of a flat map
     * (no range reduction, lower degree) */
    const double half = 0.5 * ((double)range[0] - range[1]);
    const int deg = ds_moment_degree(half);
    const float ref = deg ? (float)(0.5 * ((double)range[0] + range[1])) : range[0];
    double mom[3];
    softmax_moments(p, wk->u, ref, deg, r0, r1, b0, b1, mom);
    float ex = (float)(mom[1] / mom[0]), ey = (float)(mom[2] / mom[0]);
    double c = ds_window_sum(p, wk->u, ref, ex, ey, r0, r1, b0 * VW, b1 * VW + VW - 1);
    p->kp[2 * m] = ex - offset;
    p->kp[2 * m + 1] = ey - offset;
    p->conf[m] = (float)(c / mom[0]);
}
