/* phase_conv.h: what phase_conv.c (packing, threads) shares with its vector
 * kernel, phase_conv_rows.h, compiled once per vector width:
 * phase_conv_v8.c (AVX2 and baseline x86-64) and phase_conv_v16.c
 * (AVX-512), as decode_sparse.h does for the decoder. */
#ifndef LP_PHASE_CONV_H
#define LP_PHASE_CONV_H

#include <stdint.h>

/* The terms of one output phase q = 2 ry + rx: input channel ci at row
 * offset dy and column offset dx, for the taps that are not structural
 * zeros (1, 2, 2 and 4 per channel for q = 0..3). */
typedef struct pc_phase {
    int64_t n_terms;
    int64_t *off;   /* (n_terms): ci (h+1)(w+1) + dy (w+1) + dx */
    float *w;       /* (n_terms, cout_pad): the term's weight per output channel */
} pc_phase;

typedef struct pc_plan {
    const float *x;  /* input padded by a zero row below and column right: (N, cin, h + 1, w + 1) */
    float *y;        /* phase channels (N, 4 cout, h, w), channel 4 co + q */
    int64_t N, cin, cout, h, w;
    int64_t ob, cout_pad; /* output channels per block (even), and cout rounded up to blocks */
    float *bias;     /* (cout_pad) */
    pc_phase ph[4];
    int64_t *next;   /* shared: the first (frame, row) unit no thread has taken */
} pc_plan;

/* Output rows from the shared counter until none are left, by the kernel
 * of one width (the 16-wide one only where lpm_simd_wide()). */
void *pc_rows_v8(void *plan);
void *pc_rows_v16(void *plan);
/* The most output channels per block the kernel of width vw keeps in
 * registers. */
enum { PC_OB_MAX_V8 = 12, PC_OB_MAX_V16 = 24 };

#endif
