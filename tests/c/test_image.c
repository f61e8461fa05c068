/* test_image.c: image decoding (engine/src/data/image.c) and LP context frames
 * (engine/src/data/context.c). Runs from the repository root. */
#include <unistd.h>

#include "lp_fixtures.h"
#include "lp_test.h"

#define FIX "tests/fixtures/data"
#define LD FIX "/labeled-data"
#define MOUSE "../shared/data/mirror-mouse-example"

static float norm(int v, int c) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    return ((float)v / 255.0f - mean[c]) / std[c];
}

static void check_ctx(const char *path, int32_t offset, const char *want) {
    char buf[256];
    lp_status st = lp_context_path(path, offset, 0, sizeof buf, buf);
    char what[300];
    snprintf(what, sizeof what, "context %+d of %s is %s", offset, path, want);
    if (!lp_test_report(st == LP_STATUS_OK && strcmp(buf, want) == 0, __FILE__, __LINE__, what))
        printf("#   got '%s' (%s)\n", st ? lp_last_error() : buf, lp_status_name(st));
}

static void test_context_paths(void) {
    check_ctx("labeled-data/img05.png", -2, "labeled-data/img03.png");
    check_ctx("labeled-data/img05.png", 2, "labeled-data/img07.png");
    check_ctx("img00.png", -2, "img00.png"); /* index 0 -> [0,0,0,1,2] */
    check_ctx("img00.png", -1, "img00.png");
    check_ctx("img00.png", 2, "img02.png");
    check_ctx("img01.png", -2, "img00.png"); /* index 1 -> [0,0,1,2,3] (LP's test) */
    check_ctx("img01.png", -1, "img00.png");
    check_ctx("img01.png", 2, "img03.png");
    check_ctx("img99.png", 1, "img100.png");       /* never truncated */
    check_ctx("frame00000123.png", -2, "frame00000121.png");
    check_ctx("cam1_frame0050.png", 1, "cam2_frame0050.png"); /* first digit run */
    check_ctx("cam1_frame0050.png", -2, "cam0_frame0050.png");
    check_ctx("a7b7.jpg", 1, "a8b8.jpg");          /* every occurrence (str.replace) */
    check_ctx("dir3/img5.png", -1, "dir3/img4.png"); /* directories untouched */
    check_ctx("s.v2/img10.tiff", 1, "s.v2/img11.tiff");
    char buf[64];
    LP_CHECK_FAILS(lp_context_path("labeled-data/img.png", 0, 0, sizeof buf, buf),
                   LP_STATUS_BAD_ARG, "lp_context_path");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_context_path("img05.png", 3, 0, sizeof buf, buf), LP_STATUS_BAD_ARG,
                   "lp_context_path");
    LP_CHECK_FAILS(lp_context_path("img05.png", 0, 0, 4, buf), LP_STATUS_BAD_ARG,
                   "lp_context_path");
    /* missing neighbours fall back to the centre */
    LP_CHECK_OK(lp_context_path(LD "/frame0008.png", -2, 1, sizeof buf, buf));
    LP_CHECK(strcmp(buf, LD "/frame0006.png") == 0);
    LP_CHECK_OK(lp_context_path(LD "/frame0008.png", 2, 1, sizeof buf, buf));
    LP_CHECK(strcmp(buf, LD "/frame0008.png") == 0);
}

/* Raw RGB24 of `path` decoded by the ffmpeg CLI, as a reference. */
static int ffmpeg_rgb(const char *path, uint8_t *buf, size_t n) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -f rawvideo -pix_fmt rgb24 -", path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(buf, 1, n, p);
    return pclose(p) == 0 && got == n ? 0 : -1;
}

static void test_decode(void) {
    uint8_t png[16 * 12 * 3], other[16 * 12 * 3], ref[16 * 12 * 3];
    int64_t size[2] = {0, 0};
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/color.png", sizeof png, png, size));
    LP_CHECK(size[0] == 12 && size[1] == 16);
    if (ffmpeg_rgb(LD "/color.png", ref, sizeof ref) == 0)
        LP_CHECK(memcmp(png, ref, sizeof png) == 0);
    else
        LP_SKIP("ffmpeg CLI not available");
    /* the same lossless picture as BMP and TIFF decodes bit-exactly */
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/color.bmp", sizeof other, other, size));
    LP_CHECK(memcmp(png, other, sizeof png) == 0);
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/color.tif", sizeof other, other, size));
    LP_CHECK(memcmp(png, other, sizeof png) == 0);
    /* JPEG is lossy: close to the PNG */
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/color.jpg", sizeof other, other, size));
    double mad = 0;
    for (size_t i = 0; i < sizeof png; ++i) mad += abs((int)png[i] - (int)other[i]);
    mad /= sizeof png;
    LP_CHECK(mad < 12.0);
    printf("#   jpeg vs png mean abs diff %.2f\n", mad);
    /* gray is replicated to 3 channels, full range kept (80 stays 80) */
    uint8_t gray[8 * 6 * 3];
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/frame0008.png", sizeof gray, gray, size));
    int all80 = 1;
    for (size_t i = 0; i < sizeof gray; ++i) all80 &= gray[i] == 80;
    LP_CHECK(all80 && size[0] == 6 && size[1] == 8);
    LP_CHECK_OK(lp_image_read_rgb_into(LD "/gray.jpg", 0, NULL, size)); /* size query */
    LP_CHECK(size[0] == 12 && size[1] == 16);

    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_image_read_rgb(LD "/color.png", &t));
    if (t) {
        int64_t shape[LP_MAX_DIMS];
        LP_CHECK(lp_tensor_shape(t, shape) == 3 && shape[0] == 12 && shape[1] == 16 && shape[2] == 3);
        LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_U8);
        LP_CHECK_OK(lp_tensor_to_buffer(t, other, sizeof other));
        LP_CHECK(memcmp(png, other, sizeof png) == 0);
        lp_tensor_free(t);
    }
}

static void test_load(void) {
    lp_tensor *t = NULL;
    int64_t size[2] = {0, 0}, shape[LP_MAX_DIMS];
    LP_CHECK_OK(lp_image_load(LD "/frame0008.png", 0, 0, size, &t));
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 3 && shape[0] == 3 && shape[1] == 6 && shape[2] == 8);
        float v[3 * 6 * 8];
        LP_CHECK_OK(lp_tensor_to_buffer(t, v, sizeof v));
        LP_CHECK_CLOSE(v[0], norm(80, 0), 1e-6);
        LP_CHECK_CLOSE(v[48], norm(80, 1), 1e-6);
        LP_CHECK_CLOSE(v[96 + 47], norm(80, 2), 1e-6);
        lp_tensor_free(t);
        t = NULL;
    }
    /* resize: (3, 24, 32) from 12x16; original size reported */
    LP_CHECK_OK(lp_image_load(LD "/color.png", 24, 32, size, &t));
    LP_CHECK(size[0] == 12 && size[1] == 16);
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 3 && shape[0] == 3 && shape[1] == 24 && shape[2] == 32);
        lp_tensor_free(t);
        t = NULL;
    }
    /* a flat image stays flat through bicubic resizing */
    static float buf[3 * 37 * 50];
    LP_CHECK_OK(lp_image_load_into(LD "/frame0008.png", 37, 50, size, buf));
    float worst = 0;
    for (int i = 0; i < 37 * 50; ++i) worst = fmaxf(worst, fabsf(buf[i] - norm(80, 0)));
    LP_CHECK(worst < 1e-6f);
}

static void test_stack(void) {
    lp_tensor *t = NULL;
    int64_t size[2] = {0, 0}, shape[LP_MAX_DIMS];
    LP_CHECK_OK(lp_context_load_stack(LD "/frame0008.png", 0, 0, size, &t));
    if (!t) return;
    LP_CHECK(lp_tensor_shape(t, shape) == 4 && shape[0] == 5 && shape[1] == 3 && shape[2] == 6 &&
             shape[3] == 8);
    LP_CHECK(size[0] == 6 && size[1] == 8);
    static float v[5 * 3 * 6 * 8];
    LP_CHECK_OK(lp_tensor_to_buffer(t, v, sizeof v));
    /* frames 6, 7, 8, 9 and the missing 10 replaced by the centre (8) */
    int want[5] = {60, 70, 80, 90, 80};
    for (int i = 0; i < 5; ++i) LP_CHECK_CLOSE(v[i * 144 + 50], norm(want[i], 1), 1e-6);
    lp_tensor_free(t);
    t = NULL;
    LP_CHECK_OK(lp_context_load_stack(LD "/frame0008.png", 32, 32, NULL, &t));
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 4 && shape[2] == 32 && shape[3] == 32);
        lp_tensor_free(t);
    }
}

static void test_bad(void) {
    lp_tensor *t = NULL;
    uint8_t small[10];
    LP_CHECK_FAILS(lp_image_load(LD "/missing.png", 0, 0, NULL, &t), LP_STATUS_IO, "missing.png");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_image_load(LD "/corrupt.png", 0, 0, NULL, &t), LP_STATUS_UNSUPPORTED,
                   "corrupt.png");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_image_read_rgb(FIX "/labels_ok.csv", &t), LP_STATUS_UNSUPPORTED,
                   "lp_image_read_rgb");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_image_read_rgb(LD, &t), LP_STATUS_IO, "lp_image_read_rgb");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_image_read_rgb_into(LD "/color.png", sizeof small, small, NULL),
                   LP_STATUS_BAD_ARG, "need 576");
    LP_CHECK_FAILS(lp_image_load_into(LD "/color.png", 0, 10, NULL, (float *)small),
                   LP_STATUS_BAD_ARG, "lp_image_load");
    LP_CHECK_FAILS(lp_context_load_stack(LD "/nothing5.png", 0, 0, NULL, &t), LP_STATUS_IO,
                   "nothing5.png");
    LP_CHECK(t == NULL);
}

static void test_mirror_mouse(void) {
    if (access(MOUSE "/labeled-data/img01.png", R_OK) != 0) {
        LP_SKIP("mirror-mouse-example not found at " MOUSE);
        return;
    }
    int64_t size[2];
    size_t n = 406 * 396 * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    LP_CHECK_OK(lp_image_read_rgb_into(MOUSE "/labeled-data/img01.png", (int64_t)n, a, size));
    LP_CHECK(size[0] == 406 && size[1] == 396);
    LP_CHECK_OK(lp_image_read_rgb_into(MOUSE "/labeled-data/img00.png", (int64_t)n, b, size));
    LP_CHECK(memcmp(a, b, n) == 0); /* img00 duplicates img01 (docs/spec/lp-data-train.md §1.8) */
    free(a);
    free(b);
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_context_load_stack(MOUSE "/labeled-data/img01.png", 256, 256, size, &t));
    if (t) {
        int64_t shape[LP_MAX_DIMS];
        LP_CHECK(lp_tensor_shape(t, shape) == 4 && shape[0] == 5 && shape[1] == 3 &&
                 shape[2] == 256 && shape[3] == 256);
        size_t per = 3 * 256 * 256;
        float *v = malloc(5 * per * sizeof *v);
        LP_CHECK_OK(lp_tensor_to_buffer(t, v, (int64_t)(5 * per * sizeof *v)));
        /* img01's context is img00, img00, img01, img02, img03 */
        LP_CHECK(memcmp(v, v + per, per * sizeof *v) == 0);
        LP_CHECK(memcmp(v, v + 2 * per, per * sizeof *v) == 0);
        LP_CHECK(memcmp(v + 2 * per, v + 3 * per, per * sizeof *v) != 0);
        free(v);
        lp_tensor_free(t);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    /* run from the repository root even when started elsewhere */
    if (lp_fixture_chdir_root(argv[0], FIX) != 0) LP_SKIP_ALL("cannot find the repository root");
    test_context_paths();
    test_decode();
    test_load();
    test_stack();
    test_bad();
    test_mirror_mouse();
    LP_DONE();
}
