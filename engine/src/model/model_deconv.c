/* model_deconv.c: the heads' ConvTranspose2d(3x3, stride 2, padding 1,
 * output_padding 1) layers. For inference on CPU float32 a layer runs in
 * sub-pixel form: a 2x2 convolution (oneDNN) of the input padded by one
 * row and column at the end, with four output channels per channel, one per
 * output phase. Per axis, output 2m takes x[m] w[1], and output 2m+1 takes
 * x[m] w[2] + x[m+1] w[0] (y = 2i - 1 + k), so channel 4 co + 2 ry + rx at
 * (m, l) is output pixel (2m + ry, 2l + rx): a pixel shuffle gives the map,
 * and the phase channels of a keypoint are exactly its 2x2 patches. libtorch
 * runs the transposed layer as im2col + GEMM, 1.7-2.4x slower here (measured
 * with bench/bench_predict.lua's heads). Same products, other summation
 * order (and exact zeros): tests/c/test_deconv.c bounds the difference. With
 * grad on, on other devices or dtypes, or with LPOSE_HEADS_REFERENCE=1, the
 * transposed convolution itself runs. */
#include <stdlib.h>
#include <string.h>

#include "core/fork_join.h"
#include "model_internal.h"

int lpm_heads_fast(const lp_tensor *x) {
    const char *env = getenv("LPOSE_HEADS_REFERENCE");
    if (env && *env && strcmp(env, "0") != 0) return 0;
    return !lp_grad_is_enabled() && lp_tensor_device(x) == LP_DEVICE_CPU &&
           lp_tensor_dtype(x) == LP_DTYPE_F32;
}

/* kernel tap of output phase r, input offset d (-1: none) */
static int tap(int r, int d) { return r == 0 ? (d == 0 ? 1 : -1) : (d == 0 ? 2 : 0); }

/* The n layers' sub-pixel weights stacked along the output channels:
 * (4 sum(Cout_i), Cin, 2, 2) and bias (4 sum(Cout_i)). w_i (Cin, Cout_i, 3, 3). */
static lp_status phase_weights(const lp_tensor *const *w, const lp_tensor *const *b, int n, lp_tensor **out_w,
                               lp_tensor **out_b) {
    const char *fn = "lpm_deconv3_phases";
    const int64_t cin = lp_tensor_size(w[0], 0);
    int64_t cout = 0;
    for (int i = 0; i < n; ++i) {
        if (lp_tensor_dim(w[i]) != 4 || lp_tensor_size(w[i], 0) != cin || lp_tensor_size(w[i], 2) != 3 ||
            lp_tensor_size(w[i], 3) != 3 || lp_tensor_dtype(w[i]) != LP_DTYPE_F32 ||
            lp_tensor_dtype(b[i]) != LP_DTYPE_F32 || lp_tensor_device(w[i]) != LP_DEVICE_CPU ||
            lp_tensor_device(b[i]) != LP_DEVICE_CPU)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected CPU float32 weights (%lld, Cout, 3, 3)",
                             (long long)cin);
        cout += lp_tensor_size(w[i], 1);
    }
    const int64_t sw[4] = {4 * cout, cin, 2, 2}, sb[1] = {4 * cout};
    lp_tensor *ww = NULL, *bb = NULL, *cw = NULL, *cb = NULL;
    float *pw, *pb;
    const float *src, *bias;
    lp_status st;
    if ((st = lp_tensor_empty(sw, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &ww)) ||
        (st = lp_tensor_empty(sb, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &bb)) ||
        (st = lp_tensor_data_ptr(ww, (void **)&pw)) || (st = lp_tensor_data_ptr(bb, (void **)&pb)))
        goto fail;
    for (int i = 0, base = 0; i < n; base += (int)lp_tensor_size(w[i], 1), ++i) {
        const int64_t co_n = lp_tensor_size(w[i], 1);
        if ((st = lp_tensor_contiguous(w[i], &cw)) || (st = lp_tensor_contiguous(b[i], &cb)) ||
            (st = lp_tensor_data_ptr(cw, (void **)&src)) || (st = lp_tensor_data_ptr(cb, (void **)&bias)))
            goto fail;
        for (int64_t co = 0; co < co_n; ++co)
            for (int q = 0; q < 4; ++q) {
                const int64_t row = 4 * (base + co) + q;
                pb[row] = bias[co];
                for (int64_t ci = 0; ci < cin; ++ci)
                    for (int dy = 0; dy < 2; ++dy)
                        for (int dx = 0; dx < 2; ++dx) {
                            const int ky = tap(q / 2, dy), kx = tap(q % 2, dx);
                            pw[((row * cin + ci) * 2 + dy) * 2 + dx] =
                                ky < 0 || kx < 0 ? 0.0f : src[((ci * co_n + co) * 3 + ky) * 3 + kx];
                        }
            }
        nnu_replace(&cw, NULL);
        nnu_replace(&cb, NULL);
    }
    *out_w = ww;
    *out_b = bb;
    ww = bb = NULL;
fail:
    lp_tensor_free(ww);
    lp_tensor_free(bb);
    lp_tensor_free(cw);
    lp_tensor_free(cb);
    return st;
}

/* The 2x2 convolution by phase_conv.c's direct kernel: xp CPU float32
 * (N, Cin, h + 1, w + 1), w2 (4 cout, Cin, 2, 2), b2 (4 cout). */
static lp_status conv_direct(const lp_tensor *xp, const lp_tensor *w2, const lp_tensor *b2, lp_tensor **out) {
    int64_t s[4];
    lp_tensor_shape(xp, s);
    const int64_t cout4 = lp_tensor_size(w2, 0), so[4] = {s[0], cout4, s[2] - 1, s[3] - 1};
    lp_tensor *xc = NULL, *y = NULL;
    void *px, *pw, *pb, *py;
    lp_status st;
    if ((st = lp_tensor_contiguous(xp, &xc)) || (st = lp_tensor_empty(so, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &y)) ||
        (st = lp_tensor_data_ptr(xc, &px)) || (st = lp_tensor_data_ptr(w2, &pw)) ||
        (st = lp_tensor_data_ptr(b2, &pb)) || (st = lp_tensor_data_ptr(y, &py)) ||
        (st = lpm_phase_conv_direct(px, s[0], s[1], s[2] - 1, s[3] - 1, pw, pb, cout4 / 4, py))) {
        lp_tensor_free(xc);
        lp_tensor_free(y);
        return st;
    }
    lp_tensor_free(xc);
    *out = y;
    return LP_STATUS_OK;
}

/* The n layers' phase channels of xp, x padded by one zero row below and
 * one zero column right (N, Cin, h + 1, w + 1). */
static lp_status phase_conv(const lp_tensor *xp, const lp_tensor *const *w, const lp_tensor *const *b, int n,
                            lp_tensor **out) {
    lp_tensor *w2 = NULL, *b2 = NULL;
    lp_status st = phase_weights(w, b, n, &w2, &b2);
    /* the direct kernel for CPU float32 maps with frames and pixels (libtorch takes empty ones) */
    const int direct = lp_tensor_dim(xp) == 4 && lp_tensor_device(xp) == LP_DEVICE_CPU &&
                       lp_tensor_dtype(xp) == LP_DTYPE_F32 && lp_tensor_size(xp, 0) > 0 &&
                       lp_tensor_size(xp, 2) > 1 && lp_tensor_size(xp, 3) > 1 &&
                       lpm_phase_conv_direct_width(lp_tensor_size(xp, 1), lp_tensor_size(xp, 2) - 1,
                                                   lp_tensor_size(xp, 3) - 1) > 0;
    if (!st) st = direct ? conv_direct(xp, w2, b2, out) : nnu_conv2d(xp, w2, b2, 1, 0, 1, out);
    lp_tensor_free(w2);
    lp_tensor_free(b2);
    return st;
}

lp_status lpm_deconv3_phases(const lp_tensor *x, const lp_tensor *const *w, const lp_tensor *const *b, int n,
                             lp_tensor **out) {
    static const int64_t pads[4] = {0, 1, 0, 1}; /* one column right, one row below */
    lp_tensor *xp = NULL;
    lp_status st = lp_nn_pad(x, pads, 4, LP_PAD_CONSTANT, 0.0, &xp);
    if (!st) st = phase_conv(xp, w, b, n, out);
    lp_tensor_free(xp);
    return st;
}

lp_status lpm_phase_conv_shuffled(const lp_tensor *x, const lp_tensor *const *w, const lp_tensor *const *b, int n,
                                  lp_tensor **out) {
    lp_tensor *xp = NULL;
    lp_status st = lpm_shuffle2(x, 1, &xp);
    if (!st) st = phase_conv(xp, w, b, n, out);
    lp_tensor_free(xp);
    return st;
}

lp_status lpm_deconv3(const lp_tensor *x, const lp_tensor *w, const lp_tensor *b, lp_tensor **out) {
    if (!lpm_heads_fast(x) || lp_tensor_dtype(w) != LP_DTYPE_F32 || lp_tensor_dtype(b) != LP_DTYPE_F32)
        return nnu_conv_t2d(x, w, b, 2, 1, 1, 1, out);
    lp_tensor *phases = NULL;
    lp_status st = lpm_deconv3_phases(x, &w, &b, 1, &phases);
    if (!st) st = lpm_shuffle2(phases, 0, out);
    lp_tensor_free(phases);
    return st;
}

/* ---------------------------------------------------------------- shuffle */

/* One block of lpm_shuffle2's channels: output channels c0..c1-1 of all
 * N images, flattened as n * C + c. */
typedef struct shuffle_job {
    const float *x;
    float *y;
    int64_t C, h, w, pad, c0, c1;
} shuffle_job;

static void *shuffle_block(void *arg) {
    const shuffle_job *j = arg;
    const int64_t h = j->h, w = j->w, H = 2 * h + j->pad, W = 2 * w + j->pad;
    for (int64_t nc = j->c0; nc < j->c1; ++nc) {
        const float *in = j->x + nc * 4 * h * w; /* its 4 phase planes */
        float *out = j->y + nc * H * W;
        for (int64_t r = 0; r < 2 * h; ++r) {
            const float *p0 = in + (2 * (r % 2)) * h * w + (r / 2) * w, *p1 = p0 + h * w;
            float *o = out + r * W;
            for (int64_t l = 0; l < w; ++l) {
                o[2 * l] = p0[l];
                o[2 * l + 1] = p1[l];
            }
            if (j->pad) o[2 * w] = 0;
        }
        if (j->pad) memset(out + 2 * h * W, 0, (size_t)W * sizeof *out);
    }
    return NULL;
}

lp_status lpm_shuffle2(const lp_tensor *x, int32_t pad, lp_tensor **out) {
    const char *fn = "lpm_shuffle2";
    int64_t s[LP_MAX_DIMS];
    if (lp_tensor_shape(x, s) != 4 || s[1] % 4 || lp_tensor_dtype(x) != LP_DTYPE_F32 ||
        lp_tensor_device(x) != LP_DEVICE_CPU || (pad != 0 && pad != 1))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected CPU float32 (N, 4C, h, w) and pad 0 or 1");
    const int64_t N = s[0], C = s[1] / 4, h = s[2], w = s[3];
    const int64_t so[4] = {N, C, 2 * h + pad, 2 * w + pad};
    enum { MAX_BLOCKS = 8 };
    lp_tensor *xc = NULL, *y = NULL;
    void *px, *py;
    lp_status st;
    if ((st = lp_tensor_contiguous(x, &xc)) || (st = lp_tensor_empty(so, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &y)) ||
        (st = lp_tensor_data_ptr(xc, &px)) || (st = lp_tensor_data_ptr(y, &py))) {
        lp_tensor_free(xc);
        lp_tensor_free(y);
        return st;
    }
    int64_t n = lp_get_num_threads();
    n = n < 1 ? 1 : n > MAX_BLOCKS ? MAX_BLOCKS : n;
    if (n > N * C) n = N * C > 0 ? N * C : 1;
    shuffle_job jobs[MAX_BLOCKS];
    for (int64_t i = 0; i < n; ++i)
        jobs[i] = (shuffle_job){px, py, C, h, w, pad, N * C * i / n, N * C * (i + 1) / n};
    lp_fork_join(shuffle_block, jobs, sizeof *jobs, n);
    lp_tensor_free(xc);
    *out = y;
    return LP_STATUS_OK;
}
