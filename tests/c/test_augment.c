/* test_augment.c: LP's imgaug presets in C (docs/spec/lp-data-train.md §2). */
#include "lp_test.h"

enum { H = 64, W = 80 };

/* torch.nn.functional.interpolate(bicubic, align_corners=False) (= OpenCV INTER_CUBIC
 * without its fixed-point rounding), rounded and clipped, of the 8x10 pattern
 * (x*37 + y*91 + c*53) % 256; made with /usr/bin/python3 + torch 1.13. */
static const uint8_t cubic_5x7[105] = {27,82,147,89,147,144,148,196,171,158,179,130,176,47,88,17,96,163,102,157,143,198,197,47,80,32,85,49,101,133,90,128,202,129,199,255,220,170,32,53,52,93,43,107,203,130,219,152,192,95,146,87,168,39,160,63,128,36,125,222,148,212,140,203,202,52,85,35,117,56,126,176,127,165,228,154,206,22,223,175,63,58,57,131,98,153,181,159,238,74,208,79,135,76,97,99,59,107,172,108,166,164,173,228,91};
static const uint8_t cubic_11x13[429] = {0,44,97,14,67,118,46,99,160,76,129,203,102,154,228,127,197,255,169,255,147,222,194,10,228,7,67,34,34,93,0,70,121,49,102,162,73,126,199,43,94,176,63,137,219,110,182,157,158,212,63,181,239,106,228,125,144,148,103,112,72,115,80,112,63,120,56,87,168,58,138,223,110,185,175,154,205,64,134,193,151,167,150,197,153,144,120,122,188,8,156,215,54,206,80,88,110,35,140,12,99,190,64,159,208,124,193,162,173,161,192,164,146,141,121,180,11,176,247,27,228,81,50,127,3,87,0,60,122,33,86,148,60,120,168,95,153,194,130,180,236,156,200,245,175,250,67,229,106,33,151,5,89,0,56,118,42,99,88,71,78,107,73,82,158,61,124,215,92,171,239,139,207,87,183,255,39,225,211,93,235,59,116,77,92,94,56,86,106,81,87,158,60,117,206,36,86,190,54,144,230,112,210,183,177,197,112,200,101,153,108,118,62,87,168,39,137,147,90,154,55,138,58,78,183,45,143,234,111,201,199,169,219,110,138,195,184,168,174,233,169,199,145,163,178,17,196,20,65,44,30,119,0,72,166,48,116,173,84,163,153,131,194,180,173,182,235,177,184,168,156,213,21,199,255,50,250,104,74,149,26,102,5,80,124,55,99,151,75,125,185,102,160,242,135,195,185,169,222,13,195,255,41,252,128,77,174,27,105,8,79,122,75,134,90,109,91,133,94,82,184,62,131,225,96,191,250,156,243,115,220,145,83,175,49,102,40,99,60,67,133,84,111,102,133,105,88,186,62,121,216,50,101,190,70,145,138,117,197,127,168,199,171,192,143,198,140,183,84,152,107,49,130,27,106,16,74,155,43,97,190,73,145,150,118,192,129,161,212,164,129,182,254,153,206,74,185,255,0,221,221,45,248,27,71,61,33,113,0,86,150,58,128,179,101,153,206,126,179,255,156,209,100,188,241,0,211,255,42};


static void random_image(uint8_t *img, int h, int w, unsigned seed) {
    for (int i = 0; i < h * w * 3; ++i) {
        seed = seed * 1103515245u + 12345u;
        img[i] = (uint8_t)(seed >> 16);
    }
}

/* A 3x3 white square centred on pixel (cx, cy) of a black image. */
static void dot_image(uint8_t *img, int h, int w, int cx, int cy) {
    memset(img, 0, (size_t)h * w * 3);
    for (int y = cy - 1; y <= cy + 1; ++y)
        for (int x = cx - 1; x <= cx + 1; ++x) memset(img + ((size_t)y * w + x) * 3, 255, 3);
}

/* Intensity centroid (channel 0), in imgaug coordinates (pixel i covers [i, i+1)). */
static int centroid(const uint8_t *img, int h, int w, double *x, double *y) {
    double sx = 0, sy = 0, s = 0;
    for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i) {
            double v = img[((size_t)j * w + i) * 3];
            if (v < 40) continue;
            sx += v * (i + 0.5), sy += v * (j + 0.5), s += v;
        }
    if (s == 0) return 0;
    *x = sx / s, *y = sy / s;
    return 1;
}

/* Run a one-op pipeline on a dot and compare the keypoint with the dot, over seeds. */
static void check_geometry(const char *spec, int out_h, int out_w, double tol) {
    lp_augment *a = NULL;
    LP_CHECK_OK(lp_augment_open(spec, &a));
    static uint8_t img[H * W * 3], out[4 * H * W * 3];
    double worst = 0;
    int n = 0;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        int cx = 30 + (int)(seed % 5), cy = 25 + (int)(seed % 7);
        dot_image(img, H, W, cx, cy);
        float kp[2] = {cx + 0.5f, cy + 0.5f};
        if (lp_augment_apply(a, seed, 1, img, H, W, kp, 1, 0, NULL, out_h, out_w, out)) break;
        double x, y;
        if (!centroid(out, out_h, out_w, &x, &y)) continue;
        double d = hypot(x - kp[0], y - kp[1]);
        if (d > worst) worst = d;
        ++n;
    }
    char what[128];
    snprintf(what, sizeof what, "%s: keypoints follow pixels (worst %.2f px, %d seeds)", spec, worst, n);
    lp_test_report(n >= 10 && worst < tol, __FILE__, __LINE__, what);
    lp_augment_free(a);
}

int main(void) {
    static const char *presets[] = {"none", "default", "dlc", "dlc-lr", "dlc-top-down"};
    lp_augment *a = NULL;
    for (int i = 0; i < 5; ++i) {
        LP_CHECK_OK(lp_augment_open(presets[i], &a));
        lp_augment_free(a);
        a = NULL;
    }
    LP_CHECK_OK(lp_augment_open("dlc-lr", &a));
    LP_CHECK(!strncmp(lp_augment_describe(a), "Rot90,Affine,MotionBlur,CoarseDropout,CoarseSalt,CoarsePepper,", 62));
    lp_augment_free(a);
    LP_CHECK_FAILS(lp_augment_open("dlcc", &a), LP_STATUS_BAD_ARG, "lp_augment_open");
    LP_CHECK_FAILS(lp_augment_open("Affine=x", &a), LP_STATUS_BAD_ARG, "lp_augment_open");

    /* resize only: a constant image stays constant, keypoints scale by the size ratio */
    static uint8_t img[5 * H * W * 3], out[5 * 2 * H * 2 * W * 3], out2[5 * 2 * H * 2 * W * 3];
    memset(img, 77, sizeof img);
    LP_CHECK_OK(lp_augment_open("default", &a));
    float kp[4] = {10.0f, 20.0f, NAN, NAN};
    LP_CHECK_OK(lp_augment_apply(a, 1, 1, img, H, W, kp, 2, 0, NULL, 32, 160, out));
    int constant = 1;
    for (int i = 0; i < 32 * 160 * 3; ++i) constant &= out[i] == 77;
    LP_CHECK(constant);
    LP_CHECK(kp[0] == 20.0f && kp[1] == 10.0f && isnan(kp[2]));
    lp_augment_free(a);

    /* the final resize is OpenCV's cubic (a = -0.75, half-pixel centres, clamped border) */
    {
        static uint8_t pat[8 * 10 * 3], res[11 * 13 * 3];
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 10; ++x)
                for (int c = 0; c < 3; ++c) pat[(y * 10 + x) * 3 + c] = (uint8_t)((x * 37 + y * 91 + c * 53) % 256);
        LP_CHECK_OK(lp_augment_open("none", &a));
        int maxd = 0;
        LP_CHECK_OK(lp_augment_apply(a, 0, 1, pat, 8, 10, NULL, 0, 0, NULL, 5, 7, res));
        for (int i = 0; i < 105; ++i) maxd = abs(res[i] - cubic_5x7[i]) > maxd ? abs(res[i] - cubic_5x7[i]) : maxd;
        LP_CHECK_OK(lp_augment_apply(a, 0, 1, pat, 8, 10, NULL, 0, 0, NULL, 11, 13, res));
        for (int i = 0; i < 429; ++i) maxd = abs(res[i] - cubic_11x13[i]) > maxd ? abs(res[i] - cubic_11x13[i]) : maxd;
        printf("# cubic resize vs torch bicubic: max |diff| = %d\n", maxd);
        LP_CHECK(maxd <= 1);
        lp_augment_free(a);
    }

    /* one draw for the 5 frames: 5 identical inputs give 5 identical outputs;
     * the same seed repeats; another seed differs */
    static const char *all_ops = "Rot90=1,Affine=1,MotionBlur=1,CoarseDropout=1,CoarseSalt=1,CoarsePepper=1,"
                                 "ElasticTransformation=1,AllChannelsHistogramEqualization=1,AllChannelsCLAHE=1,"
                                 "Emboss=1,CropAndPad=1";
    const char *specs[] = {"dlc", "dlc-top-down", all_ops};
    for (int sp = 0; sp < 3; ++sp) {
        LP_CHECK_OK(lp_augment_open(specs[sp], &a));
        random_image(img, H, W, 7);
        for (int f = 1; f < 5; ++f) memcpy(img + f * H * W * 3, img, H * W * 3);
        int same_frames = 1, repeat = 1, differs = 0;
        for (uint64_t seed = 0; seed < 6; ++seed) {
            float k1[4] = {20, 30, 50, 10}, k2[4] = {20, 30, 50, 10};
            LP_CHECK_OK(lp_augment_apply(a, seed, 5, img, H, W, k1, 2, 1, NULL, 64, 64, out));
            for (int f = 1; f < 5; ++f) same_frames &= !memcmp(out, out + f * 64 * 64 * 3, 64 * 64 * 3);
            LP_CHECK_OK(lp_augment_apply(a, seed, 5, img, H, W, k2, 2, 1, NULL, 64, 64, out2));
            repeat &= !memcmp(out, out2, 5 * 64 * 64 * 3) && !memcmp(k1, k2, sizeof k1);
            LP_CHECK_OK(lp_augment_apply(a, seed + 100, 5, img, H, W, k2, 2, 1, NULL, 64, 64, out2));
            differs += memcmp(out, out2, 64 * 64 * 3) != 0;
        }
        LP_CHECK(same_frames);
        LP_CHECK(repeat);
        LP_CHECK(differs >= 5);
        lp_augment_free(a);
    }

    /* geometric ops move keypoints with the pixels */
    check_geometry("Affine=1", H, W, 1.0);
    check_geometry("Rot90=1", H, W, 1.0);
    check_geometry("CropAndPad=1", H, W, 1.0);
    check_geometry("ElasticTransformation=1", H, W, 1.0);
    check_geometry("Rot90=1,Affine=1,CropAndPad=1", 128, 128, 1.5);
    check_geometry("Rot90=1,Affine=1,ElasticTransformation=1,CropAndPad=1", 128, 96, 1.5);

    /* out of frame -> NaN after heatmaps: a corner keypoint under any rotation */
    LP_CHECK_OK(lp_augment_open("Affine=1", &a));
    int n_nan = 0;
    for (uint64_t seed = 0; seed < 10; ++seed) {
        float k[2] = {0.2f, 0.2f};
        float hm[16 * 20];
        LP_CHECK_OK(lp_augment_apply(a, seed, 1, img, H, W, k, 1, 0, NULL, H, W, out));
        int outside = k[0] < 0 || k[1] < 0;
        LP_CHECK_OK(lp_heatmaps_fill(k, NULL, 1, 1, H, W, 2, 0, 0, hm));
        double s = 0;
        for (int i = 0; i < 16 * 20; ++i) s += hm[i];
        n_nan += outside && isnan(k[0]) && s == 0;
    }
    LP_CHECK(n_nan >= 8);
    lp_augment_free(a);

    /* hflip: x' = W - x, partners swapped; the flip happens for about half the seeds */
    LP_CHECK_OK(lp_augment_open("none", &a));
    dot_image(img, H, W, 10, 20);
    int32_t swap[3] = {1, 0, 2};
    int flips = 0, ok = 1;
    for (uint64_t seed = 0; seed < 40; ++seed) {
        float k[6] = {10.5f, 20.5f, 30, 5, 40, 6};
        LP_CHECK_OK(lp_augment_apply(a, seed, 1, img, H, W, k, 3, 1, swap, H, W, out));
        double x = -1, y = -1;
        centroid(out, H, W, &x, &y);
        if (k[2] != 30) { /* flipped: keypoints 0 and 1 traded places */
            ++flips;
            ok &= k[0] == W - 30 && k[1] == 5 && k[2] == W - 10.5f && k[3] == 20.5f && k[4] == W - 40 &&
                  fabs(x - k[2]) < 0.01;
        } else {
            ok &= k[0] == 10.5f && fabs(x - 10.5) < 0.01;
        }
    }
    LP_CHECK(ok);
    LP_CHECK(flips > 10 && flips < 30);
    lp_augment_free(a);

    /* tensor form */
    LP_CHECK_OK(lp_augment_open("dlc", &a));
    int64_t ishape[4] = {5, H, W, 3}, kshape[2] = {1, 2};
    float kv[2] = {40, 30};
    lp_tensor *ti = NULL, *tk = NULL, *oi = NULL, *ok2 = NULL;
    LP_CHECK_OK(lp_tensor_from_buffer(img, LP_DTYPE_U8, ishape, 4, &ti));
    LP_CHECK_OK(lp_tensor_from_buffer(kv, LP_DTYPE_F32, kshape, 2, &tk));
    LP_CHECK_OK(lp_augment_images(a, 3, ti, tk, 0, 32, 48, &oi, &ok2));
    LP_CHECK(lp_tensor_size(oi, 0) == 5 && lp_tensor_size(oi, 1) == 32 && lp_tensor_size(oi, 2) == 48 &&
             lp_tensor_size(ok2, 0) == 1);
    lp_tensor_free(oi), lp_tensor_free(ok2);
    LP_CHECK_FAILS(lp_augment_images(a, 3, tk, tk, 0, 32, 48, &oi, &ok2), LP_STATUS_BAD_ARG, "lp_augment_images");
    LP_CHECK(oi == NULL && ok2 == NULL);
    lp_tensor_free(ti), lp_tensor_free(tk);
    lp_augment_free(a);

    /* normalisation */
    uint8_t px[3] = {255, 0, 124};
    float nv[3];
    lp_image_normalize_chw(px, 1, 1, nv);
    LP_CHECK_CLOSE(nv[0], (1 - 0.485) / 0.229, 1e-5);
    LP_CHECK_CLOSE(nv[1], -0.456 / 0.224, 1e-5);
    LP_CHECK_CLOSE(nv[2], (124 / 255.0 - 0.406) / 0.225, 1e-5);
    LP_DONE();
}
