/* test_decode.c: LP's subpixel decoding (lp-model.md §2.3): a Gaussian target
 * at a known subpixel location decodes to it, a flat map gives LP's
 * near-zero confidence 25/(H*W), a sharp peak gives ~1, and the TCN's
 * per-keypoint choice between heads (§3.5). */
#include "lp_test.h"

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

int main(void) {
    lp_runtime_init(0);
    test_gaussians();
    test_flat_and_sharp();
    test_matches_reference();
    test_choose();
    LP_DONE();
}
