/* phase_conv_rows.h: phase_conv.c's kernel, for VW floats per vector
 * (simd.h): a block of OB output channels of one phase over VW pixels of a
 * row, OB accumulators in registers, each term one load of the input row
 * and OB multiply-adds with broadcast weights. Not a normal header:
 * phase_conv_v8.c and phase_conv_v16.c each include it once, after simd.h
 * at their width, with PC_ROWS naming the entry point (the pattern of
 * decode_sparse_map.h). Its includer has included phase_conv.h and simd.h. */

SIMD_INLINE void pc_block(const pc_plan *p, const pc_phase *ph, const float *in, int64_t co0, float *out,
                          int OB) {
    vf acc[PC_OB_MAX_V16];
#pragma GCC unroll 24
    for (int o = 0; o < OB; ++o) acc[o] = vf_splat(p->bias[co0 + o]);
    const float *wt = ph->w + co0;
    for (int64_t e = 0; e < ph->n_terms; ++e, wt += p->cout_pad) {
        const vf v = vf_load(in + ph->off[e]);
#pragma GCC unroll 24
        for (int o = 0; o < OB; ++o) acc[o] += vf_splat(wt[o]) * v;
    }
    const int64_t plane = 4 * p->h * p->w; /* from channel 4 co + q to 4 (co + 1) + q */
#pragma GCC unroll 24
    for (int o = 0; o < OB; ++o)
        if (co0 + o < p->cout) vf_store(out + (co0 + o) * plane, acc[o]);
}

#define PC_CASE(n) \
    case n: pc_block(p, ph, in, co0, out, n); break;

/* One unit: frame n, output row y, every phase and channel. */
SIMD_HOT static void pc_unit(const pc_plan *p, int64_t n, int64_t y) {
    const int64_t h = p->h, w = p->w;
    for (int q = 0; q < 4; ++q)
        for (int64_t x0 = 0; x0 < w; x0 += VW) {
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
                    for (int64_t c = co0; c < co0 + p->ob; c += 2) pc_block(p, ph, in, c, out, 2);
                    break;
                }
            }
        }
}

/* Units (frame, row) a few at a time from the shared counter. */
void *PC_ROWS(void *arg) {
    const pc_plan *p = arg;
    enum { CHUNK = 4 };
    const int64_t units = p->N * p->h;
    for (;;) {
        int64_t u0 = __atomic_fetch_add(p->next, CHUNK, __ATOMIC_RELAXED);
        if (u0 >= units) return NULL;
        const int64_t u1 = u0 + CHUNK < units ? u0 + CHUNK : units;
        for (int64_t u = u0; u < u1; ++u) pc_unit(p, u / p->h, u % p->h);
    }
}
