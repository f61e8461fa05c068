/* decode_sparse.h: what decode_sparse.c (the plan, the threads, the scalar
 * steps) shares with its vector kernels, decode_sparse_map.h, which is
 * compiled once per vector width: decode_sparse_v8.c (AVX2 and baseline
 * x86-64) and decode_sparse_v16.c (AVX-512). */
#ifndef LP_DECODE_SPARSE_H
#define LP_DECODE_SPARSE_H

#include <stdint.h>

/* Scaled units (1000 x the heatmap): see decode_sparse.c's top comment. */
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
    int64_t M, h, w, H, W; /* H = h << ds, W = w << ds; w % (2 vw) == 0 */
    int32_t ds;
    int32_t vw;            /* floats per vector of the kernels in use */
    ds_band bh, bw;
    float *awt;            /* A_w^T, (w, W) */
    int32_t *blk_lo, *blk_hi; /* per vw-column block of U: the l range of its columns */
    float *kp, *conf;      /* (M, 2), (M) out */
} ds_plan;

/* Per thread. */
typedef struct ds_work {
    const ds_plan *p;
    int64_t *next;      /* shared: the first map no thread has taken */
    float *t;           /* (H, w): A_h X for the kept rows */
    float *u;           /* (H, W) */
    float *rmax, *cmax; /* per input row / column max |X| */
} ds_work;

/* The scalar steps (decode_sparse.c). */
float ds_u_at(const ds_plan *p, const float *x, int64_t i, int64_t j);
void ds_kept_range(const ds_band *b, double other_max, const float *vmax, double floor, int64_t *r0,
                   int64_t *r1);
int ds_moment_degree(double r);
double ds_window_sum(const ds_plan *p, const float *u, float ref, float ex, float ey, int64_t r0,
                     int64_t r1, int64_t c0, int64_t c1);

/* Keypoint and confidence of map m, by the kernels of one width; the
 * 16-wide ones only where lpm_simd_wide(). */
void ds_decode_map_v8(ds_work *wk, int64_t m);
void ds_decode_map_v16(ds_work *wk, int64_t m);

#endif
