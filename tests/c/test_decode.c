/* test_decode.c: LP's subpixel decoding (docs/spec/lp-model.md §2.3): a Gaussian target
 * at a known subpixel location decodes to it, a flat map gives LP's
 * near-zero confidence 25/(H*W), a sharp peak gives ~1, the TCN's
 * per-keypoint choice between heads (§3.5), and the CPU float32 path (which
 * skips pixels of invisible softmax weight) equals the dense libtorch path
 * (LPOSE_DECODE_DENSE=1) up to rounding, with its kernels of either width:
 * 16 floats per vector where the CPU has AVX-512 and maps are 32k wide,
 * and 8 (LPOSE_SIMD_WIDTH=8). */
#include <stdlib.h>

#include "lp_test.h"
#include "model/model_internal.h"

enum { HH = 64, WH = 64 }; /* heatmap of a 256 x 256 input at downsample_factor 2 */

/* LP's target (§5): Gaussian sigma 1.25 at (x/4, y/4) in heatmap pixels, sum 1 */
static void gaussian(float *out, double x, double y) {
    double u0 = x / 4.0, v0 = y / 4.0, total = 0;
    for (int v = 0; v < HH; ++v)
        for (int u = 0; u < WH; ++u) {
            double g = exp(-((u - u0) * (u - u0) + (v - v0) * (v - v0)) / (2 * 1.25 * 1.25));
            out[v * WH + u] = (float)g;
            total += g;
        }
    for (int i = 0; i < HH * WH; ++i) out[i] = (float)(out[i] / total);
}

static double at(const lp_tensor *t, int64_t i) {
    float buf[64];
    if (lp_tensor_numel(t) > 64 || lp_tensor_to_buffer(t, buf, lp_tensor_numel(t) * 4)) return NAN;
    return buf[i];
}

static void test_gaussians(void) {
    static const double pts[][2] = {{100.3, 87.7}, {37.25, 150.6}, {128.0, 128.0}, {200.9, 31.1}};
    enum { K = 4 };
    static float maps[K * HH * WH];
    for (int k = 0; k < K; ++k) gaussian(maps + k * HH * WH, pts[k][0], pts[k][1]);
    const int64_t shape[4] = {1, K, HH, WH};
    lp_tensor *hm = NULL, *kp = NULL, *conf = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(maps, LP_DTYPE_F32, shape, 4, &hm));
    LP_CHECK_OK(lp_heatmaps_decode(hm, 2, &kp, &conf));
    LP_CHECK(kp && lp_tensor_dim(kp) == 3 && lp_tensor_size(kp, 1) == K && lp_tensor_size(kp, 2) == 2);
    LP_CHECK(conf && lp_tensor_dim(conf) == 2 && lp_tensor_size(conf, 1) == K);
    for (int k = 0; k < K && kp; ++k) {
        LP_CHECK_CLOSE(at(kp, 2 * k), pts[k][0], 0.05);
        LP_CHECK_CLOSE(at(kp, 2 * k + 1), pts[k][1], 0.05);
        LP_CHECK(at(conf, k) > 0.5 && at(conf, k) <= 1.0 + 1e-6);
    }
    lp_tensor_free(hm);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
}

static void test_flat_and_sharp(void) {
    const int64_t shape[4] = {2, 1, HH, WH};
    static float maps[2 * HH * WH];
    for (int i = 0; i < HH * WH; ++i) maps[i] = 1.0f / (HH * WH);
    maps[HH * WH + 20 * WH + 30] = 1.0f; /* a one-pixel spike */
    lp_tensor *hm = NULL, *kp = NULL, *conf = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(maps, LP_DTYPE_F32, shape, 4, &hm));
    LP_CHECK_OK(lp_heatmaps_decode(hm, 2, &kp, &conf));
    double flat = at(conf, 0), expect = 25.0 / (4.0 * HH * 4.0 * WH);
    printf("# flat map confidence %.3g (25/(H*W) = %.3g); spike %.4f\n", flat, expect, at(conf, 1));
    LP_CHECK(flat > 0.5 * expect && flat < 2.0 * expect);
    LP_CHECK_CLOSE(at(kp, 0), 127.5 - 1.5, 1.0); /* centre of a flat map */
    LP_CHECK(at(conf, 1) > 0.99);
    LP_CHECK_CLOSE(at(kp, 2), 4 * 30.0, 0.05); /* spike at heatmap (30, 20) */
    LP_CHECK_CLOSE(at(kp, 3), 4 * 20.0, 0.05);
    /* f64 input works too */
    lp_tensor *h64 = NULL, *kp64 = NULL, *c64 = NULL;
    LP_CHECK_OK(lp_tensor_to(hm, LP_DTYPE_F64, LP_DEVICE_CPU, &h64));
    LP_CHECK_OK(lp_heatmaps_decode(h64, 2, &kp64, &c64));
    LP_CHECK(kp64 && lp_tensor_dtype(kp64) == LP_DTYPE_F64);
    LP_CHECK_FAILS(lp_heatmaps_decode(kp, 2, &kp64, &c64), LP_STATUS_BAD_ARG, "lp_heatmaps_decode");
    lp_tensor *all[] = {hm, kp, conf, h64, kp64, c64};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
}

/* LP's chain step by step: ds x (bicubic x2, 5x5 binomial blur as a grouped
 * conv2d with zero padding); lp_heatmaps_decode folds it into two matmuls. */
static lp_tensor *reference_upsample(const lp_tensor *hm, int32_t ds) {
    int64_t K = lp_tensor_size(hm, 1), H = lp_tensor_size(hm, 2), W = lp_tensor_size(hm, 3);
    static const float b[5] = {1, 4, 6, 4, 1};
    float *k = malloc((size_t)K * 25 * sizeof *k);
    for (int64_t c = 0; c < K; ++c)
        for (int i = 0; i < 25; ++i) k[c * 25 + i] = b[i / 5] * b[i % 5] / 256.0f;
    const int64_t ks[4] = {K, 1, 5, 5}, one[2] = {1, 1}, two[2] = {2, 2};
    lp_tensor *w = NULL, *x = NULL, *next = NULL;
    lp_tensor_from_buffer(k, LP_DTYPE_F32, ks, 4, &w);
    free(k);
    lp_tensor_ref(hm, &x);
    for (int32_t i = 0; i < ds && x; ++i) {
        H *= 2;
        W *= 2;
        const int64_t size[2] = {H, W};
        next = NULL;
        lp_nn_interpolate(x, size, LP_INTERP_BICUBIC, 0, &next);
        lp_tensor_free(x);
        x = NULL;
        if (next) lp_nn_conv2d(next, w, NULL, one, two, one, K, &x);
        lp_tensor_free(next);
    }
    lp_tensor_free(w);
    return x;
}

/* Subpixel maxima of 1000 * z (M maps of h x w) in double: expectations and
 * LP's 5x5 window confidence (zero padded). */
static void reference_maxima(const float *z, int64_t M, int64_t h, int64_t w, double *ex,
                             double *ey, double *conf) {
    double *p = malloc(sizeof *p * (size_t)(h * w));
    for (int64_t m = 0; m < M; ++m) {
        const float *zm = z + m * h * w;
        double mx = -INFINITY, total = 0, sx = 0, sy = 0, c = 0;
        for (int64_t i = 0; i < h * w; ++i) mx = fmax(mx, 1000.0 * zm[i]);
        for (int64_t i = 0; i < h * w; ++i) total += p[i] = exp(1000.0 * zm[i] - mx);
        for (int64_t i = 0; i < h * w; ++i) {
            p[i] /= total;
            sx += p[i] * (double)(i % w);
            sy += p[i] * (double)(i / w);
        }
        int64_t fx = (int64_t)floor(sx), fy = (int64_t)floor(sy);
        for (int64_t y = fy - 2; y <= fy + 2; ++y)
            for (int64_t x = fx - 2; x <= fx + 2; ++x)
                if (y >= 0 && y < h && x >= 0 && x < w) c += p[y * w + x];
        ex[m] = sx;
        ey[m] = sy;
        conf[m] = c;
    }
    free(p);
}

/* Peaked random maps (a softmax of scaled noise, as a head gives) decode as
 * LP's step-by-step chain does, for every downsample factor. */
static void test_matches_reference(void) {
    enum { N = 3, K = 5, H = 16, W = 24, M = N * K };
    const int64_t shape[4] = {N, K, H, W}, fshape[3] = {N, K, H * W};
    lp_tensor *noise = NULL, *flat = NULL, *soft = NULL, *hm = NULL;
    LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 11, &noise));
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, noise, 3.0));
    LP_CHECK_OK(lp_tensor_reshape(noise, fshape, 3, &flat));
    LP_CHECK_OK(lp_nn_softmax(flat, -1, &soft));
    LP_CHECK_OK(lp_tensor_reshape(soft, shape, 4, &hm));
    for (int32_t ds = 0; ds <= 3; ++ds) {
        const int64_t hu = (int64_t)H << ds, wu = (int64_t)W << ds;
        lp_tensor *kp = NULL, *conf = NULL, *up = reference_upsample(hm, ds);
        float *z = malloc(sizeof *z * (size_t)(M * hu * wu)), got_kp[M * 2], got_c[M];
        double ex[M], ey[M], c[M], dk = 0, dc = 0, offset = ldexp(1.0, ds - 1) - 0.5;
        LP_CHECK_OK(lp_heatmaps_decode(hm, ds, &kp, &conf));
        LP_CHECK_OK(lp_tensor_to_buffer(up, z, (int64_t)sizeof *z * M * hu * wu));
        LP_CHECK_OK(lp_tensor_to_buffer(kp, got_kp, (int64_t)sizeof got_kp));
        LP_CHECK_OK(lp_tensor_to_buffer(conf, got_c, (int64_t)sizeof got_c));
        reference_maxima(z, M, hu, wu, ex, ey, c);
        for (int m = 0; m < M; ++m) {
            dk = fmax(dk, fmax(fabs(got_kp[2 * m] - (ex[m] - offset)),
                               fabs(got_kp[2 * m + 1] - (ey[m] - offset))));
            dc = fmax(dc, fabs(got_c[m] - c[m]) / c[m]);
        }
        printf("# ds %d vs the step-by-step chain: keypoints %.3g px, confidences %.3g relative\n",
               ds, dk, dc);
        LP_CHECK(dk < 1e-3 && dc < 1e-4);
        free(z);
        lp_tensor_free(kp);
        lp_tensor_free(conf);
        lp_tensor_free(up);
    }
    lp_tensor *all[] = {noise, flat, soft, hm};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
}

static void test_choose(void) {
    /* 1 frame, 3 keypoints: MF wins only where strictly more confident */
    const float ksf[6] = {1, 1, 2, 2, 3, 3}, kmf[6] = {10, 10, 20, 20, 30, 30};
    const float csf[3] = {0.5f, 0.5f, 0.9f}, cmf[3] = {0.6f, 0.5f, 0.1f};
    const int64_t sk[3] = {1, 3, 2}, sc[2] = {1, 3};
    lp_tensor *a = NULL, *b = NULL, *c = NULL, *d = NULL, *kp = NULL, *conf = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(ksf, LP_DTYPE_F32, sk, 3, &a));
    LP_CHECK_OK(lp_tensor_from_buffer(csf, LP_DTYPE_F32, sc, 2, &b));
    LP_CHECK_OK(lp_tensor_from_buffer(kmf, LP_DTYPE_F32, sk, 3, &c));
    LP_CHECK_OK(lp_tensor_from_buffer(cmf, LP_DTYPE_F32, sc, 2, &d));
    LP_CHECK_OK(lp_keypoints_choose(a, b, c, d, &kp, &conf));
    LP_CHECK(at(kp, 0) == 10 && at(kp, 1) == 10); /* mf more confident */
    LP_CHECK(at(kp, 2) == 2 && at(kp, 3) == 2);   /* tie goes to sf */
    LP_CHECK(at(kp, 4) == 3 && at(conf, 2) == (double)0.9f);
    LP_CHECK_CLOSE(at(conf, 0), 0.6, 1e-6);
    lp_tensor *all[] = {a, b, c, d, kp, conf};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
}


/* ------------------------------------------------------------ sparse == dense */

enum { N_WAYS = 4 }; /* the ways decode4 decodes */

/* Keypoints and confidences of f32 maps hm (n maps) by the default (CPU
 * sparse) path (v = 0), the dense one (1), the dense one in f64 (2), and
 * the sparse one with 8-float vectors (3). */
static void decode4(const lp_tensor *hm, int32_t ds, int64_t n, float *k[N_WAYS], float *c[N_WAYS]) {
    lp_tensor *h64 = NULL;
    LP_CHECK_OK(lp_tensor_to(hm, LP_DTYPE_F64, LP_DEVICE_CPU, &h64));
    for (int v = 0; v < N_WAYS; ++v) {
        lp_tensor *kp = NULL, *conf = NULL, *k32 = NULL, *c32 = NULL;
        setenv("LPOSE_DECODE_DENSE", v == 1 || v == 2 ? "1" : "0", 1);
        setenv("LPOSE_SIMD_WIDTH", v == 3 ? "8" : "", 1);
        k[v] = calloc((size_t)(2 * n), sizeof(float));
        c[v] = calloc((size_t)n, sizeof(float));
        LP_CHECK_OK(lp_heatmaps_decode(v == 2 ? h64 : hm, ds, &kp, &conf));
        if (kp && conf && !lp_tensor_to(kp, LP_DTYPE_F32, LP_DEVICE_CPU, &k32) &&
            !lp_tensor_to(conf, LP_DTYPE_F32, LP_DEVICE_CPU, &c32)) {
            lp_tensor_to_buffer(k32, k[v], (int64_t)sizeof(float) * 2 * n);
            lp_tensor_to_buffer(c32, c[v], (int64_t)sizeof(float) * n);
        }
        lp_tensor *all[] = {kp, conf, k32, c32};
        for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    }
    unsetenv("LPOSE_DECODE_DENSE");
    unsetenv("LPOSE_SIMD_WIDTH");
    lp_tensor_free(h64);
}

/* Largest keypoint and confidence differences of decodings a and b. */
static void max_diff(int64_t n, const float *ka, const float *ca, const float *kb, const float *cb,
                     double *dk, double *dc) {
    *dk = *dc = 0;
    for (int64_t i = 0; i < n; ++i) {
        double d = fmax(fabs(ka[2 * i] - kb[2 * i]), fabs(ka[2 * i + 1] - kb[2 * i + 1]));
        *dk = isnan(d) ? INFINITY : fmax(*dk, d);
        *dc = isnan(ca[i] - cb[i]) ? INFINITY : fmax(*dc, fabs(ca[i] - cb[i]));
    }
}

/* The sparse path, at both widths, within 1e-3 px and 1e-5 of the dense
 * one, or (where the dense float32 sums themselves drift, large maps) at
 * least as close to the f64 decoding. */
static void check_same(const char *what, const lp_tensor *hm, int32_t ds) {
    int64_t n = lp_tensor_size(hm, 0) * lp_tensor_size(hm, 1);
    int32_t width = lpm_decode_sparse_width(lp_tensor_size(hm, 3));
    float *k[N_WAYS], *c[N_WAYS];
    double ek[N_WAYS], ec[N_WAYS];
    decode4(hm, ds, n, k, c);
    for (int v = 0; v < N_WAYS; ++v) max_diff(n, k[v], c[v], k[2], c[2], &ek[v], &ec[v]);
    for (int v = 0; v < N_WAYS; v += 3) {
        double dk, dc;
        max_diff(n, k[v], c[v], k[1], c[1], &dk, &dc);
        printf("# %s, ds %d, sparse %d-wide: vs dense keypoints %.3g px, confidences %.3g; vs f64: "
               "sparse %.3g / %.3g, dense %.3g / %.3g\n", what, ds, v ? 8 : width, dk, dc, ek[v], ec[v],
               ek[1], ec[1]);
        LP_CHECK((dk <= 1e-3 || ek[v] <= ek[1]) && (dc <= 1e-5 || ec[v] <= ec[1]));
    }
    for (int v = 0; v < N_WAYS; ++v) {
        free(k[v]);
        free(c[v]);
    }
}

/* A tensor (M / K, K, h, w) from M maps of floats. */
static lp_tensor *maps_tensor(const float *v, int64_t M, int64_t K, int64_t h, int64_t w) {
    const int64_t shape[4] = {M / K, K, h, w};
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(v, LP_DTYPE_F32, shape, 4, &t));
    return t;
}

/* Sum-1 map of Gaussians (x, y, sigma, weight) in heatmap pixels. */
static void gaussians(float *out, int h, int w, const double (*g)[4], int n) {
    double total = 0;
    for (int v = 0; v < h; ++v)
        for (int u = 0; u < w; ++u) {
            double s = 0;
            for (int i = 0; i < n; ++i) {
                double dx = u - g[i][0], dy = v - g[i][1];
                s += g[i][3] * exp(-(dx * dx + dy * dy) / (2 * g[i][2] * g[i][2]));
            }
            out[v * w + u] = (float)s;
            total += s;
        }
    for (int i = 0; i < h * w; ++i) out[i] = (float)(out[i] / total);
}

/* (a) softmax of scaled noise: from nearly flat to one-pixel peaks */
static void test_sparse_random(void) {
    const int64_t shape[4] = {4, 17, 32, 32}, fshape[3] = {4, 17, 32 * 32};
    static const double scales[] = {0.01, 1, 3, 10, 30};
    for (size_t i = 0; i < sizeof scales / sizeof *scales; ++i) {
        lp_tensor *noise = NULL, *flat = NULL, *soft = NULL, *hm = NULL;
        char what[64];
        LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 5 + (int64_t)i, &noise));
        LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, noise, scales[i]));
        LP_CHECK_OK(lp_tensor_reshape(noise, fshape, 3, &flat));
        LP_CHECK_OK(lp_nn_softmax(flat, -1, &soft));
        LP_CHECK_OK(lp_tensor_reshape(soft, shape, 4, &hm));
        snprintf(what, sizeof what, "softmax(%g * noise)", scales[i]);
        for (int32_t ds = 1; ds <= 3; ++ds) check_same(what, hm, ds);
        lp_tensor *all[] = {noise, flat, soft, hm};
        for (size_t j = 0; j < sizeof all / sizeof *all; ++j) lp_tensor_free(all[j]);
    }
}

/* (b) sharp Gaussians at subpixel positions, the border included;
 * (c) two (nearly) equal peaks far apart */
static void test_sparse_peaks(void) {
    enum { H = 32, W = 48, M = 12 };
    static float maps[M * H * W];
    static const double one[8][2] = {{0.3, 0.2},  {47.8, 31.6}, {0, 31},     {24.37, 11.61},
                                     {47, 0.5},   {12.5, 30.9}, {5.25, 5.75}, {33.1, 17.9}};
    for (int m = 0; m < 8; ++m) {
        const double g[1][4] = {{one[m][0], one[m][1], m % 2 ? 0.6 : 1.25, 1}};
        gaussians(maps + m * H * W, H, W, g, 1);
    }
    const double two[4][2][4] = {{{3, 4, 1, 1}, {44, 28, 1, 1}},
                                 {{3, 4, 0.7, 1}, {44, 28, 0.7, 0.999}},
                                 {{0.5, 30, 1.25, 1}, {46.5, 1, 1.25, 1.0001}},
                                 {{10, 16, 1, 1}, {38, 16, 1.1, 1.2}}};
    for (int m = 0; m < 4; ++m) gaussians(maps + (8 + m) * H * W, H, W, two[m], 2);
    lp_tensor *hm = maps_tensor(maps, M, 4, H, W);
    for (int32_t ds = 1; ds <= 3; ++ds) check_same("Gaussian peaks, pairs of peaks", hm, ds);
    lp_tensor_free(hm);
}

/* (d) flat maps: uniform, zero, uniform plus a tiny ramp, one hot pixel on a
 * flat floor; a NaN map decodes to NaN */
static void test_sparse_flat(void) {
    enum { H = 16, W = 32, M = 4 };
    static float maps[M * H * W];
    for (int i = 0; i < H * W; ++i) {
        maps[i] = 1.0f / (H * W);
        maps[H * W + i] = 0;
        maps[2 * H * W + i] = (1.0f + 1e-4f * (float)(i % W)) / (H * W);
        maps[3 * H * W + i] = 0.5f / (H * W);
    }
    maps[3 * H * W + 7 * W + 9] += 0.5f;
    lp_tensor *hm = maps_tensor(maps, M, 2, H, W), *kp = NULL, *conf = NULL;
    for (int32_t ds = 1; ds <= 3; ++ds) check_same("flat maps", hm, ds);
    maps[2 * H * W + 5] = NAN;
    lp_tensor *bad = maps_tensor(maps, M, 2, H, W);
    LP_CHECK_OK(lp_heatmaps_decode(bad, 2, &kp, &conf));
    LP_CHECK(isnan(at(kp, 4)) && isnan(at(conf, 2)) && !isnan(at(conf, 1)));
    lp_tensor *all[] = {hm, bad, kp, conf};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
}

/* (e) real model outputs: both heads of random-weight models on random
 * images (the heatmaps test_predict streams, 16 x 16) and at 128 x 128 input
 * (32 x 32, near-flat maps, as bench_predict decodes). */
static void test_sparse_model(void) {
    static const int32_t sizes[2] = {64, 128};
    for (int s = 0; s < 2; ++s) {
        const int64_t shape[4] = {8, 3, sizes[s], sizes[s]};
        lp_model *m = lp_test_model(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 5, sizes[s], sizes[s], 7);
        lp_tensor *img = NULL, *sf = NULL, *mf = NULL;
        LP_CHECK(m != NULL);
        if (m) lp_model_set_training(m, 0);
        LP_CHECK_OK(lp_tensor_rand(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 3, &img));
        LP_CHECK_OK(lp_model_forward_window(m, img, &sf, &mf));
        if (sf && mf) {
            check_same("model, single-frame head", sf, 2);
            check_same("model, multi-frame head", mf, 2);
        }
        lp_tensor_free(img);
        lp_tensor_free(sf);
        lp_tensor_free(mf);
        lp_model_free(m);
    }
}

int main(void) {
    lp_runtime_init(0);
    test_gaussians();
    test_flat_and_sharp();
    test_matches_reference();
    test_choose();
    test_sparse_random();
    test_sparse_peaks();
    test_sparse_flat();
    test_sparse_model();
    LP_DONE();
}
