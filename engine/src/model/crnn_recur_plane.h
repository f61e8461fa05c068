/* crnn_recur_plane.h: model_crnn_recur.c's kernel, one output plane, for
 * VW floats per vector (simd.h). Not a normal header: crnn_recur_v8.c and
 * crnn_recur_v16.c each include it once, after simd.h at their width, with
 * CR_PLANE naming the kernel (the pattern of decode_sparse_map.h). Its
 * includer has included <math.h>, <string.h>, crnn_recur.h and simd.h. */

/* Values q = 0..3 of VW consecutive patches. */
typedef struct quad {
    vf q[4];
} quad;

/* the 4 phase planes of one keypoint start at p, hw apart */
SIMD_INLINE quad load_quad(const float *p, int64_t hw) {
    quad r = {{vf_load(p), vf_load(p + hw), vf_load(p + 2 * hw), vf_load(p + 3 * hw)}};
    return r;
}

/* patches back into two map rows: (0,0) (0,1) on row0, (1,0) (1,1) on row1 */
SIMD_INLINE void store_quad(float *row0, float *row1, quad v) {
    vi lo, hi; /* interleave the first and the second half of two vectors */
    for (int i = 0; i < VW; ++i) {
        lo[i] = i / 2 + (i % 2) * VW;
        hi[i] = lo[i] + VW / 2;
    }
    vf_store(row0, __builtin_shuffle(v.q[0], v.q[1], lo));
    vf_store(row0 + VW, __builtin_shuffle(v.q[0], v.q[1], hi));
    vf_store(row1, __builtin_shuffle(v.q[2], v.q[3], lo));
    vf_store(row1 + VW, __builtin_shuffle(v.q[2], v.q[3], hi));
}

/* s <- (s mt + c) + x, per patch */
SIMD_INLINE quad step(quad s, const float *mt, const float *c, quad x) {
    quad r;
#pragma GCC unroll 4
    for (int o = 0; o < 4; ++o)
        r.q[o] = (((s.q[0] * mt[o] + s.q[1] * mt[4 + o]) + s.q[2] * mt[8 + o]) + s.q[3] * mt[12 + o] + c[o]) +
                 x.q[o];
    return r;
}

/* step for one patch whose values sit at p[0], p[hw], p[2 hw], p[3 hw] */
static void step1(float s[4], const float *mt, const float *c, const float *p, int64_t hw) {
    float h[4];
    for (int o = 0; o < 4; ++o)
        h[o] =
            (((s[0] * mt[o] + s[1] * mt[4 + o]) + s[2] * mt[8 + o]) + s[3] * mt[12 + o] + c[o]) + p[o * hw];
    memcpy(s, h, sizeof h);
}

/* The head's spatial softmax (temperature 1) of one map of n floats, in
 * place while it is in cache: e^(x - max) times 1 / sum, as libtorch's
 * softmax computes it. A value that is not finite makes the whole map NaN
 * (libtorch's too, but for -inf, which it weighs 0; vf_exp alone would give
 * 0 for NaN). The check adds x - x, NaN exactly for those: float operations
 * only, as lane masks of 16 floats compile to scalar code here. */
SIMD_INLINE void map_softmax(float *x, int64_t n) {
    const int64_t full = n / VW * VW;
    vf mv = vf_splat(-INFINITY), nonfinite = vf_splat(0);
    for (int64_t i = 0; i < full; i += VW) {
        const vf v = vf_load(x + i);
        nonfinite += v - v;
        mv = vf_max(mv, v);
    }
    float m = vf_hmax(mv), bad = vf_hsum(nonfinite);
    for (int64_t i = full; i < n; ++i) {
        bad += x[i] - x[i];
        m = x[i] > m ? x[i] : m;
    }
    if (bad != 0) { /* NaN */
        for (int64_t i = 0; i < n; ++i) x[i] = NAN;
        return;
    }
    const vf mm = vf_splat(m);
    vf sv = vf_splat(0);
    for (int64_t i = 0; i < full; i += VW) {
        const vf e = vf_exp(vf_load(x + i) - mm);
        vf_store(x + i, e);
        sv += e;
    }
    float sum = vf_hsum(sv);
    for (int64_t i = full; i < n; ++i) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < full; i += VW) vf_store(x + i, vf_load(x + i) * vf_splat(inv));
    for (int64_t i = full; i < n; ++i) x[i] *= inv;
}

/* One output plane: frame j, keypoint k. */
SIMD_HOT void CR_PLANE(const cr_job *jb, int64_t j, int64_t k) {
    const int64_t K = jb->K, h = jb->h, w = jb->w, hw = h * w, W = 2 * w;
    const float *mt_f = jb->mt_f + 16 * k, *c_f = jb->c_f + 4 * k;
    const float *mt_b = jb->mt_b + 16 * k, *c_b = jb->c_b + 4 * k;
    const float *pa[N_CONTEXT], *pb[N_CONTEXT];
    for (int t = 0; t < N_CONTEXT; ++t) {
        pa[t] = jb->ab + ((j * jb->step + t) * 8 * K + 4 * k) * hw;
        pb[t] = pa[t] + 4 * K * hw;
    }
    float *out = jb->out + (j * K + k) * 4 * hw;
    const int64_t full = w / VW * VW; /* patches per row in whole vectors */
    for (int64_t py = 0; py < h; ++py) {
        float *row0 = out + 2 * py * W, *row1 = row0 + W;
        int64_t px = 0;
        for (; px < full; px += VW) {
            const int64_t at = py * w + px;
            quad f = load_quad(pa[0] + at, hw), b = load_quad(pb[N_CONTEXT - 1] + at, hw);
#pragma GCC unroll 4
            for (int t = 1; t < N_CONTEXT; ++t) f = step(f, mt_f, c_f, load_quad(pa[t] + at, hw));
#pragma GCC unroll 4
            for (int t = N_CONTEXT - 2; t >= 0; --t) b = step(b, mt_b, c_b, load_quad(pb[t] + at, hw));
            quad avg;
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) avg.q[i] = (f.q[i] + b.q[i]) * 0.5f;
            store_quad(row0 + 2 * px, row1 + 2 * px, avg);
        }
        for (; px < w; ++px) { /* the patches a whole vector does not cover */
            const int64_t at = py * w + px;
            float f[4], b[4];
            for (int q = 0; q < 4; ++q) f[q] = pa[0][at + q * hw], b[q] = pb[N_CONTEXT - 1][at + q * hw];
            for (int t = 1; t < N_CONTEXT; ++t) step1(f, mt_f, c_f, pa[t] + at, hw);
            for (int t = N_CONTEXT - 2; t >= 0; --t) step1(b, mt_b, c_b, pb[t] + at, hw);
            for (int q = 0; q < 4; ++q) (q < 2 ? row0 : row1)[2 * px + q % 2] = (f[q] + b[q]) * 0.5f;
        }
    }
    if (jb->softmax) map_softmax(out, 4 * hw);
}

