/* phase_conv_rows.h: phase_conv.c's kernel, for VW floats per vector
 * (simd.h): a block of OB output channels of one phase over VW pixels of a
 * row (or of two rows of VW / 2, for maps that narrow), OB accumulators in
 * registers, each term one load of the input and OB multiply-adds with
 * broadcast weights. Not a normal header: phase_conv_v8.c and
 * phase_conv_v16.c each include it once, after simd.h at their width, with
 * PC_ROWS naming the entry point (the pattern of decode_sparse_map.h). Its
 * includer has included <string.h>, phase_conv.h and simd.h. */

/* Half vectors, joined and split by shuffles (through memory they would
 * stall on store forwarding). */
typedef float vh __attribute__((vector_size(VW * sizeof(float) / 2)));
#if SIMD_VW == 16
#define PC_LO 0, 1, 2, 3, 4, 5, 6, 7
#define PC_HI 8, 9, 10, 11, 12, 13, 14, 15
#else
#define PC_LO 0, 1, 2, 3
#define PC_HI 4, 5, 6, 7
#endif

/* VW / 2 floats at p and VW / 2 at p2 as one vector. */
SIMD_INLINE vf vf_load_halves(const float *p, const float *p2) {
    vh a, b;
    memcpy(&a, p, sizeof a);
    memcpy(&b, p2, sizeof b);
    return __builtin_shufflevector(a, b, PC_LO, PC_HI);
}

/* The vector's halves to p and p2. */
SIMD_INLINE void vf_store_halves(float *p, float *p2, vf v) {
    vh a = __builtin_shufflevector(v, v, PC_LO), b = __builtin_shufflevector(v, v, PC_HI);
    memcpy(p, &a, sizeof a);
    memcpy(p2, &b, sizeof b);
}

/* TWO: the vector holds two rows of VW / 2 pixels (input rows w + 1 apart,
 * output rows w apart). */
SIMD_INLINE void pc_block(const pc_plan *p, const pc_phase *ph, const float *in, int64_t co0, float *out,
                          int OB, int TWO) {
    vf acc[PC_OB_MAX_V16];
#pragma GCC unroll 24
    for (int o = 0; o < OB; ++o) acc[o] = vf_splat(p->bias[co0 + o]);
    const float *wt = ph->w + co0;
    for (int64_t e = 0; e < ph->n_terms; ++e, wt += p->cout_pad) {
        const float *at = in + ph->off[e];
        const vf v = TWO ? vf_load_halves(at, at + p->w + 1) : vf_load(at);
#pragma GCC unroll 24
        for (int o = 0; o < OB; ++o) acc[o] += vf_splat(wt[o]) * v;
    }
    const int64_t plane = 4 * p->h * p->w; /* from channel 4 co + q to 4 (co + 1) + q */
#pragma GCC unroll 24
    for (int o = 0; o < OB; ++o) {
        if (co0 + o >= p->cout) continue;
        float *to = out + (co0 + o) * plane;
        if (TWO)
            vf_store_halves(to, to + p->w, acc[o]);
        else
            vf_store(to, acc[o]);
    }
}

#define PC_CASE(n) \
    case n:        \
        if (two)   \
            pc_block(p, ph, in, co0, out, n, 1); \
        else       \
            pc_block(p, ph, in, co0, out, n, 0); \
        break;

/* One unit: frame n, output row y (and y + 1 where the vectors hold two
 * rows), every phase and channel. */
SIMD_HOT static void pc_unit(const pc_plan *p, int64_t n, int64_t y) {
    const int64_t h = p->h, w = p->w;
    const int two = 2 * w == VW;
    for (int q = 0; q < 4; ++q)
        for (int64_t x0 = 0; x0 < w; x0 += two ? w : VW) {
            const float *in = p->x + ((n * p->cin) * (h + 1) + y) * (w + 1) + x0;
            float *out = p->y + ((n * 4 * p->cout + q) * h + y) * w + x0;
            const pc_phase *ph = &p->ph[q];
            for (int64_t co0 = 0; co0 < p->cout; co0 += p->ob) {
                switch (p->ob) {
                    PC_CASE(2) PC_CASE(4) PC_CASE(6) PC_CASE(8) PC_CASE(10) PC_CASE(12)
#if SIMD_VW == 16
                    PC_CASE(14) PC_CASE(16) PC_CASE(18) PC_CASE(20) PC_CASE(22) PC_CASE(24)
#endif
                default: /* not reached: phase_conv.c picks an even ob within PC_OB_MAX_V8 or _V16 */
                    for (int64_t c = co0; c < co0 + p->ob; c += 2) {
                        if (two)
                            pc_block(p, ph, in, c, out, 2, 1);
                        else
                            pc_block(p, ph, in, c, out, 2, 0);
                    }
                    break;
                }
            }
        }
}

/* Units (frame, row or pair of rows) a few at a time from the shared
 * counter. */
void *PC_ROWS(void *arg) {
    const pc_plan *p = arg;
    enum { CHUNK = 4 };
    const int64_t rows = 2 * p->w == VW ? 2 : 1, per_frame = p->h / rows, units = p->N * per_frame;
    for (;;) {
        int64_t u0 = __atomic_fetch_add(p->next, CHUNK, __ATOMIC_RELAXED);
        if (u0 >= units) return NULL;
        const int64_t u1 = u0 + CHUNK < units ? u0 + CHUNK : units;
        for (int64_t u = u0; u < u1; ++u) pc_unit(p, u / per_frame, (u % per_frame) * rows);
    }
}
