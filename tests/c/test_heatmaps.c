/* test_heatmaps.c: Gaussian heatmap targets (docs/spec/lp-model.md §5) against numpy
 * values (tests made with /usr/bin/python3 + numpy from the formula) and the
 * formula evaluated here in double. */
#include "lp_test.h"

/* The formula, straight: exp(-((u-x)^2+(v-y)^2)/(2 s^2)) / sum. */
static double expected(double x, double y, int H, int W, int ds, int u, int v) {
    int h = H >> ds, w = W >> ds;
    x *= (double)w / W, y *= (double)h / H;
    double sum = 0;
    for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i) sum += exp(-((i - x) * (i - x) + (j - y) * (j - y)) / (2 * 1.25 * 1.25));
    return exp(-((u - x) * (u - x) + (v - y) * (v - y)) / (2 * 1.25 * 1.25)) / sum;
}

int main(void) {
    /* 6 keypoints: interior, interior on grid, edge, out of frame (x >= W), NaN, negative */
    float kp[12] = {30.0f, 21.0f, 32.0f, 32.0f, 0.0f, 63.5f, 64.0f, 10.0f, NAN, NAN, -0.5f, 5.0f};
    float kp2[12];
    memcpy(kp2, kp, sizeof kp);
    float hm[6 * 16 * 16], hm2[6 * 16 * 16];
    LP_CHECK_OK(lp_heatmaps_fill(kp, NULL, 1, 6, 64, 64, 2, 0, 0, hm));
    /* numpy */
    LP_CHECK_CLOSE(hm[0 * 256 + 5 * 16 + 7], 0.0921660936696353, 1e-7);
    LP_CHECK_CLOSE(hm[0 * 256 + 5 * 16 + 8], 0.0921660936696353, 1e-7);
    LP_CHECK_CLOSE(hm[0 * 256 + 0], 2.292042279531728e-13, 1e-18);
    LP_CHECK_CLOSE(hm[1 * 256 + 8 * 16 + 8], 0.10185916366244174, 1e-7);
    LP_CHECK_CLOSE(hm[2 * 256 + 15 * 16 + 0], 0.31904935139066254, 1e-7);
    LP_CHECK_CLOSE(hm[2 * 256 + 14 * 16 + 1], 0.09609581795320983, 1e-7);
    LP_CHECK_CLOSE(hm[2 * 256 + 15 * 16 + 3], 0.017909759672699033, 1e-7);
    /* every pixel of the in-frame maps against the formula; sums are 1 */
    double maxerr = 0, sums[6] = {0};
    for (int k = 0; k < 3; ++k)
        for (int v = 0; v < 16; ++v)
            for (int u = 0; u < 16; ++u) {
                double e = expected(kp2[2 * k], kp2[2 * k + 1], 64, 64, 2, u, v);
                double d = fabs(e - hm[k * 256 + v * 16 + u]);
                if (d > maxerr) maxerr = d;
            }
    for (int k = 0; k < 6; ++k)
        for (int i = 0; i < 256; ++i) sums[k] += hm[k * 256 + i];
    LP_CHECK(maxerr < 1e-7);
    LP_CHECK_CLOSE(sums[0], 1.0, 1e-5);
    LP_CHECK_CLOSE(sums[2], 1.0, 1e-5);
    /* out of frame (x = W, x < 0): NaN keypoint, zero map; NaN: zero map (uniform off) */
    LP_CHECK(isnan(kp[6]) && isnan(kp[7]));
    LP_CHECK(isnan(kp[10]) && isnan(kp[11]));
    LP_CHECK(sums[3] == 0 && sums[4] == 0 && sums[5] == 0);
    LP_CHECK(kp[0] == 30.0f && kp[4] == 0.0f); /* in-frame keypoints untouched */

    /* uniform_heatmaps: NaN -> 1/(h*w); out of frame (labeled) stays zero */
    LP_CHECK_OK(lp_heatmaps_fill(kp2, NULL, 1, 6, 64, 64, 2, 1.25, 1, hm2));
    LP_CHECK_CLOSE(hm2[4 * 256 + 17], 1.0 / 256, 1e-9);
    double s3 = 0;
    for (int i = 0; i < 256; ++i) s3 += hm2[3 * 256 + i];
    LP_CHECK(s3 == 0);
    /* explicit visibility flags */
    float kp3[4] = {30.0f, 21.0f, 30.0f, 21.0f};
    uint8_t vis[2] = {0, 1};
    LP_CHECK_OK(lp_heatmaps_fill(kp3, vis, 1, 2, 64, 64, 2, 1.25, 0, hm2));
    LP_CHECK(hm2[5 * 16 + 7] == 0 && hm2[256 + 5 * 16 + 7] == 1.0f / 256);

    /* non-square, ds 3: 48 x 80 -> 6 x 10 */
    float kp4[2] = {41.0f, 17.0f};
    float hm4[60];
    LP_CHECK_OK(lp_heatmaps_fill(kp4, NULL, 1, 1, 48, 80, 3, 1.25, 0, hm4));
    LP_CHECK_CLOSE(hm4[2 * 10 + 5], expected(41, 17, 48, 80, 3, 5, 2), 1e-7);

    /* tensor form: (B, K, 2) -> (B, K, h, w), keypoints NaN-ed in place */
    float buf[8] = {30.0f, 21.0f, 70.0f, 1.0f, 1.0f, 2.0f, NAN, 3.0f};
    int64_t shape[3] = {2, 2, 2};
    lp_tensor *t = NULL, *h = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(buf, LP_DTYPE_F32, shape, 3, &t));
    LP_CHECK_OK(lp_heatmaps_generate(t, 64, 64, 2, 0, &h));
    LP_CHECK(lp_tensor_dim(h) == 4 && lp_tensor_size(h, 0) == 2 && lp_tensor_size(h, 1) == 2 &&
             lp_tensor_size(h, 2) == 16 && lp_tensor_size(h, 3) == 16);
    float back[8], hb[4 * 256];
    LP_CHECK_OK(lp_tensor_to_buffer(t, back, sizeof back));
    LP_CHECK(isnan(back[2]) && isnan(back[3]) && back[4] == 1.0f);
    LP_CHECK_OK(lp_tensor_to_buffer(h, hb, sizeof hb));
    LP_CHECK_CLOSE(hb[5 * 16 + 7], 0.0921660936696353, 1e-7);
    lp_tensor_free(h);
    LP_CHECK_FAILS(lp_heatmaps_generate(t, 64, 64, 9, 0, &h), LP_STATUS_BAD_ARG, "lp_heatmaps_generate");
    lp_tensor_free(t);
    LP_CHECK_FAILS(lp_heatmaps_fill(NULL, NULL, 1, 1, 64, 64, 2, 0, 0, hm), LP_STATUS_BAD_ARG, "lp_heatmaps_fill");
    LP_DONE();
}
