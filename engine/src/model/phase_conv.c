/* phase_conv.c: the heads' sub-pixel layers (model_deconv.c) as a direct
 * convolution on CPU float32, where oneDNN's 2x2 convolution runs far from
 * the machine's speed: small maps, and few channels in or out (the K = 17
 * channels into W_f and W_b, or into the single-frame head's second layer,
 * at 16x16 for a 128x128 input). It also skips the structural zeros: of
 * the 16 (tap, phase) pairs of the 2x2 form only 9 are taps of the 3x3
 * kernel. Each output sums the same products as the 2x2 convolution (the
 * zeros left out), in another order: tests/c/test_deconv.c bounds both
 * against f64. */
#include <stdlib.h>
#include <string.h>

#include "core/fork_join.h"
#include "model_internal.h"
#include "phase_conv.h"

/* The 8-float kernel only up to this many input channels: for 96 frames
 * at 8x8 and 34 output channels, oneDNN's convolution took 4.46 ms and the
 * 8-float kernel 4.74 ms at 128 input channels, 3.37 against 2.12 ms at 64.
 * The 16-float kernel was faster at every size tried: 2.5 against 4.0 ms
 * at 128 channels and 8x8, 13.4 against 18.6 at 512, 1.7 against 10.7 at
 * 17 channels and 16x16, 20.4 against 27.6 at 256. Measured here (Xeon,
 * AVX-512), best of 30 calls each. */
enum { PC_MAX_CIN_V8 = 64 };

static void plan_free(pc_plan *p) {
    free(p->bias);
    for (int q = 0; q < 4; ++q) {
        free(p->ph[q].off);
        free(p->ph[q].w);
    }
}

/* The terms of phase q from the 2x2 weights pw (4 cout, cin, 2, 2): channel
 * 4 co + q's taps (dy, dx) that phase_weights left nonzero by construction
 * (row taps: dy 0 for ry 0; dy 0 and 1 for ry 1; columns alike). */
static lp_status plan_phase(pc_plan *p, const float *pw, int q) {
    const int ry = q / 2, rx = q % 2;
    pc_phase *ph = &p->ph[q];
    ph->n_terms = p->cin * (1 + ry) * (1 + rx);
    ph->off = malloc((size_t)ph->n_terms * sizeof *ph->off);
    ph->w = calloc((size_t)(ph->n_terms * p->cout_pad), sizeof *ph->w);
    if (!ph->off || !ph->w) return lp_errorf(LP_STATUS_OOM, "lpm_phase_conv_direct", "out of memory");
    int64_t e = 0;
    for (int64_t ci = 0; ci < p->cin; ++ci)
        for (int dy = 0; dy <= ry; ++dy)
            for (int dx = 0; dx <= rx; ++dx, ++e) {
                ph->off[e] = (ci * (p->h + 1) + dy) * (p->w + 1) + dx;
                for (int64_t co = 0; co < p->cout; ++co)
                    ph->w[e * p->cout_pad + co] = pw[(((4 * co + q) * p->cin + ci) * 2 + dy) * 2 + dx];
            }
    return LP_STATUS_OK;
}

/* Rows of whole vectors, or of half a vector (each vector two rows; h even). */
static int fits(int64_t vw, int64_t h, int64_t w) { return w % vw == 0 || (2 * w == vw && h % 2 == 0); }

int32_t lpm_phase_conv_direct_width(int64_t cin, int64_t h, int64_t w) {
    if (fits(16, h, w) && lpm_simd_wide()) return 16;
    return fits(8, h, w) && cin <= PC_MAX_CIN_V8 ? 8 : 0;
}

lp_status lpm_phase_conv_direct(const float *xp, int64_t N, int64_t cin, int64_t h, int64_t w, const float *pw,
                                const float *pb, int64_t cout, float *y) {
    const int32_t vw = lpm_phase_conv_direct_width(cin, h, w);
    if (!vw || N < 1 || h < 1 || cout < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, "lpm_phase_conv_direct", "not for cin %lld, w %lld",
                         (long long)cin, (long long)w);
    /* blocks as even as the registers allow: 34 channels -> 2 x 18 (16-wide), 3 x 12 (8-wide) */
    const int64_t ob_max = vw == 16 ? PC_OB_MAX_V16 : PC_OB_MAX_V8;
    const int64_t n_blocks = (cout + ob_max - 1) / ob_max;
    int64_t ob = (cout + n_blocks - 1) / n_blocks;
    ob += ob % 2;
    int64_t next = 0;
    pc_plan p = {.x = xp, .y = y, .N = N, .cin = cin, .cout = cout, .h = h, .w = w, .ob = ob,
                 .cout_pad = n_blocks * ob, .next = &next};
    lp_status st = LP_STATUS_OK;
    p.bias = calloc((size_t)p.cout_pad, sizeof *p.bias);
    if (!p.bias) st = lp_errorf(LP_STATUS_OOM, "lpm_phase_conv_direct", "out of memory");
    for (int64_t co = 0; co < cout && !st; ++co) p.bias[co] = pb[4 * co]; /* the same for all 4 phases */
    for (int q = 0; q < 4 && !st; ++q) st = plan_phase(&p, pw, q);
    if (!st) {
        enum { MAX_THREADS = 8 };
        pc_plan jobs[MAX_THREADS];
        int64_t n = lp_get_num_threads();
        n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
        for (int64_t i = 0; i < n; ++i) jobs[i] = p; /* one counter: a slow thread does less */
        lp_fork_join(vw == 16 ? pc_rows_v16 : pc_rows_v8, jobs, sizeof *jobs, n);
    }
    plan_free(&p);
    return st;
}
