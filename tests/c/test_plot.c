/* test_plot.c: plots and labeled videos drawn with cairo + pango, read back
 * with the engine's own image and video readers: sizes, where a known series
 * lands against the axes' ticks, legends holding text, hollow markers for
 * low-likelihood keypoints, and the error cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lp_test.h"
#include "lpose.h"

static char g_dir[] = "/tmp/lp_test_plot_XXXXXX";

typedef struct image {
    uint8_t *px;
    int64_t h, w;
} image;

static int read_png(const char *path, image *out) {
    int64_t size[2];
    if (lp_image_read_rgb_into(path, 0, NULL, size) != LP_STATUS_OK) return 0;
    out->h = size[0], out->w = size[1];
    out->px = malloc((size_t)(size[0] * size[1] * 3));
    return out->px && lp_image_read_rgb_into(path, size[0] * size[1] * 3, out->px, size) == LP_STATUS_OK;
}

static const uint8_t *at(const image *im, int64_t x, int64_t y) { return im->px + (y * im->w + x) * 3; }

/* Pixels in [x0, x1) x [y0, y1) for which pred holds. */
static long count(const image *im, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                  int (*pred)(const uint8_t *)) {
    long n = 0;
    for (int64_t y = y0 < 0 ? 0 : y0; y < y1 && y < im->h; ++y)
        for (int64_t x = x0 < 0 ? 0 : x0; x < x1 && x < im->w; ++x) n += pred(at(im, x, y));
    return n;
}
static int not_white(const uint8_t *p) { return p[0] < 240 || p[1] < 240 || p[2] < 240; }
static int dark(const uint8_t *p) { return p[0] < 110 && p[1] < 110 && p[2] < 110; }
static int bright(const uint8_t *p) { return p[0] > 200 && p[1] > 200 && p[2] > 200; }
static int pure_red(const uint8_t *p) { return p[0] > 200 && p[1] < 90 && p[2] < 90; }
/* tab10's orange 0xff7f0e: red well above blue, unlike any grey */
static int orangeish(const uint8_t *p) { return p[0] > 170 && p[0] - p[2] > 80 && p[1] > 60 && p[1] < 190; }

static void test_line_plot(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/line.png", g_dir);
    lp_plot *p = NULL;
    LP_CHECK_OK(lp_plot_new(640, 480, 1, 1, NULL, &p));
    LP_CHECK_OK(lp_plot_axes(p, 0, "constant", "time (s)", "value (a.u.)", 0));
    LP_CHECK_OK(lp_plot_limits(p, 0, 0, 10, 0, 1));
    double x[2] = {0, 10}, y[2] = {0.6, 0.6};
    LP_CHECK_OK(lp_plot_series(p, 0, "y = 0.6", x, y, 2, LP_PLOT_LINE, 0xff0000));
    LP_CHECK_OK(lp_plot_save_png(p, path));
    double area[4];
    LP_CHECK_OK(lp_plot_panel_area(p, 0, area));
    lp_plot_free(p);
    image im = {0};
    LP_CHECK(read_png(path, &im));
    if (!im.px) return;
    LP_CHECK(im.w == 640 && im.h == 480);
    LP_CHECK(count(&im, 0, 0, im.w, im.h, not_white) > 2000); /* axes, text, line: not blank */
    /* the red line's rows, in the middle of the area: its centre must be where
     * the y limits put 0.6 (pixel row r spans [r, r+1)) */
    const double y_expect = area[1] + area[3] * (1 - 0.6);
    double sum = 0;
    long n = 0;
    for (int64_t xx = (int64_t)(area[0] + 10); xx < (int64_t)(area[0] + area[2] - 10); ++xx)
        for (int64_t yy = 0; yy < im.h; ++yy)
            if (pure_red(at(&im, xx, yy))) sum += yy + 0.5, ++n;
    LP_CHECK(n > 0);
    if (n) LP_CHECK_CLOSE(sum / n, y_expect, 1.0);
    /* the y axis has a tick (dark, left of the frame) on that row: 0.6 is a tick
     * of 0..1 in steps of 0.2, and its label (dark text) sits left of it */
    LP_CHECK(dark(at(&im, (int64_t)area[0] - 3, (int64_t)floor(y_expect))));
    LP_CHECK(count(&im, (int64_t)area[0] - 45, (int64_t)y_expect - 6, (int64_t)area[0] - 7,
                   (int64_t)y_expect + 6, dark) > 5);
    /* the legend, right of the area, holds text */
    LP_CHECK(count(&im, (int64_t)(area[0] + area[2]) + 12, (int64_t)area[1], im.w,
                   (int64_t)area[1] + 40, dark) > 20);
    free(im.px);
}

static void test_log_plot(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/log.png", g_dir);
    lp_plot *p = NULL;
    LP_CHECK_OK(lp_plot_new(800, 600, 2, 1, "two panels", &p));
    LP_CHECK_OK(lp_plot_axes(p, 0, "log", "step", "loss", LP_PLOT_LOG_Y));
    LP_CHECK_OK(lp_plot_axes(p, 1, "linear", "step", "pixels", 0));
    double x[50], y[50];
    for (int i = 0; i < 50; ++i) x[i] = i, y[i] = pow(10, 1 - 4.0 * i / 49); /* 10 .. 1e-3 */
    LP_CHECK_OK(lp_plot_series(p, 0, "loss", x, y, 50, LP_PLOT_LINE_MARKERS, -1));
    /* values <= 0 on a log axis are left out, not an error */
    y[3] = 0;
    y[4] = -1;
    LP_CHECK_OK(lp_plot_series(p, 0, "with zeros", x, y, 50, LP_PLOT_LINE, -1));
    LP_CHECK_OK(lp_plot_series(p, 1, "px", x, x, 50, LP_PLOT_LINE, -1));
    const double ex[3] = {0, 20, 40};
    const char *const el[3] = {"0", "1", "2"};
    LP_CHECK_OK(lp_plot_top_axis(p, 0, "epoch", ex, el, 3));
    LP_CHECK_OK(lp_plot_save_png(p, path));
    double a0[4], a1[4];
    LP_CHECK_OK(lp_plot_panel_area(p, 0, a0));
    LP_CHECK_OK(lp_plot_panel_area(p, 1, a1));
    LP_CHECK(a1[1] > a0[1] + a0[3]); /* the second panel is below the first */
    LP_CHECK(a0[0] == a1[0] && a0[2] == a1[2]); /* panels in a column share their x extent */
    lp_plot_free(p);
    image im = {0};
    LP_CHECK(read_png(path, &im));
    if (!im.px) return;
    LP_CHECK(im.w == 800 && im.h == 600);
    /* decade ticks 1e-3 .. 10 (4 decades): the tick of 1e-2 is a quarter up */
    const double y01 = a0[1] + a0[3] * (1 - (log10(1e-2) + 3) / 4);
    LP_CHECK(dark(at(&im, (int64_t)a0[0] - 3, (int64_t)floor(y01))));
    free(im.px);
}

static void test_plot_errors(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/err.png", g_dir);
    lp_plot *p = NULL;
    LP_CHECK_FAILS(lp_plot_new(10, 10, 1, 1, NULL, &p), LP_STATUS_BAD_ARG, "lp_plot_new");
    LP_CHECK_OK(lp_plot_new(400, 300, 1, 2, NULL, &p));
    double x[2] = {1, 2}, y[2] = {1, 2};
    LP_CHECK_FAILS(lp_plot_series(p, 0, "s", x, y, 2, LP_PLOT_LINE, -1), LP_STATUS_BAD_ARG,
                   "lp_plot_axes first");
    LP_CHECK_FAILS(lp_plot_axes(p, 2, "t", "x", "y", 0), LP_STATUS_BAD_ARG, "panel 2 does not exist");
    LP_CHECK_OK(lp_plot_axes(p, 0, "t", "x", "y", LP_PLOT_LOG_Y));
    LP_CHECK_FAILS(lp_plot_series(p, 0, "empty", x, y, 0, LP_PLOT_LINE, -1), LP_STATUS_BAD_ARG,
                   "series 'empty' is empty");
    LP_CHECK_FAILS(lp_plot_limits(p, 0, 0, 1, 0, 1), LP_STATUS_BAD_ARG, "log axis needs limits > 0");
    double neg[2] = {-1, 0};
    LP_CHECK_OK(lp_plot_series(p, 0, "nothing positive", x, neg, 2, LP_PLOT_LINE, -1));
    LP_CHECK_FAILS(lp_plot_save_png(p, path), LP_STATUS_BAD_ARG, "has no point to draw");
    LP_CHECK(access(path, F_OK) != 0);
    lp_plot_free(p);
    LP_CHECK_OK(lp_plot_new(400, 300, 1, 1, NULL, &p));
    LP_CHECK_OK(lp_plot_axes(p, 0, "t", "x", "y", 0));
    LP_CHECK_OK(lp_plot_series(p, 0, "s", x, y, 2, LP_PLOT_LINE, -1));
    LP_CHECK_FAILS(lp_plot_save_png(p, "/nonexistent-dir/plot.png"), LP_STATUS_IO, "/nonexistent-dir/plot.png");
    lp_plot_free(p);
}

static void test_image_plot(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/image.png", g_dir);
    enum { W = 40, H = 30 };
    uint8_t grey[W * H * 3];
    memset(grey, 128, sizeof grey);
    const char *names[2] = {"nose", "tail"};
    double gt[4] = {10, 10, 25, 20}, pred[4] = {12, 10, 30, 20}, conf[2] = {0.95, 0.3};
    lp_plot_keypoints sets[2] = {{"ground truth", gt, NULL}, {"prediction", pred, conf}};
    int32_t edge[2] = {0, 1};
    /* no skeleton here: its line would cross the hollow marker's centre */
    lp_plot_image_options o = {NULL, names, 2, sets, 2, NULL, 0, 0.9, 0};
    LP_CHECK_OK(lp_plot_image_png(grey, H, W, W * 3, &o, path));
    image im = {0};
    LP_CHECK(read_png(path, &im));
    if (!im.px) return;
    /* automatic scale: 600 / 40 = 15, capped at 12 -> a 480 x 360 image and the legend */
    const double s = 12;
    LP_CHECK(im.h == 360 && im.w > 480);
    /* ground truth nose: a filled circle of tab10 blue (0x1f77b4) at the pixel's centre */
    const uint8_t *c = at(&im, (int64_t)((10 + 0.5) * s), (int64_t)((10 + 0.5) * s));
    LP_CHECK(abs(c[0] - 0x1f) <= 2 && abs(c[1] - 0x77) <= 2 && abs(c[2] - 0xb4) <= 2);
    /* predicted tail below the threshold: a hollow square, grey inside, orange edge */
    const int64_t tx = (int64_t)((30 + 0.5) * s), ty = (int64_t)((20 + 0.5) * s);
    c = at(&im, tx, ty);
    LP_CHECK(abs(c[0] - 128) <= 2 && abs(c[1] - 128) <= 2 && abs(c[2] - 128) <= 2);
    LP_CHECK(count(&im, tx - 7, ty - 7, tx + 8, ty + 8, orangeish) > 8);
    /* the legend panel holds light text (names, sets, the threshold note) */
    LP_CHECK(count(&im, 480, 0, im.w, im.h, bright) > 100);
    free(im.px);

    o.skeleton = edge, o.n_edges = 1;
    LP_CHECK_OK(lp_plot_image_png(grey, H, W, W * 3, &o, path));
    int32_t bad_edge[2] = {0, 5};
    o.skeleton = bad_edge;
    LP_CHECK_FAILS(lp_plot_image_png(grey, H, W, W * 3, &o, path), LP_STATUS_BAD_ARG,
                   "skeleton edge 0 names keypoint 5");
    o.skeleton = edge;
    LP_CHECK_FAILS(lp_plot_image_png(grey, H, W, W * 3, &o, "/nonexistent-dir/i.png"), LP_STATUS_IO,
                   "/nonexistent-dir/i.png");

    /* viridis ends exactly, NaN black, clamped outside the range */
    float v[4] = {0, 1, NAN, 7};
    uint8_t rgb[12];
    LP_CHECK_OK(lp_plot_colormap(v, 4, 0, 1, rgb));
    LP_CHECK(rgb[0] == 0x44 && rgb[1] == 0x01 && rgb[2] == 0x54);
    LP_CHECK(rgb[3] == 0xfd && rgb[4] == 0xe7 && rgb[5] == 0x25);
    LP_CHECK(rgb[6] == 0 && rgb[7] == 0 && rgb[8] == 0);
    LP_CHECK(memcmp(rgb + 9, rgb + 3, 3) == 0);
    LP_CHECK_FAILS(lp_plot_colormap(v, 4, 1, 0, rgb), LP_STATUS_BAD_ARG, "lp_plot_colormap");
}

/* A grey 160x120 clip, a CSV with a confident nose and an unsure tail; the
 * labeled video (a side <= 192: upsampled x2) must show both markers, the tail hollow, the
 * legend and the frame number. */
static void test_labeled_video(void) {
    char video[512], csv[512], out[512];
    snprintf(video, sizeof video, "%s/grey.mp4", g_dir);
    snprintf(csv, sizeof csv, "%s/preds.csv", g_dir);
    snprintf(out, sizeof out, "%s/labeled.mp4", g_dir);
    enum { W = 160, H = 120, N = 5 };
    static uint8_t frame[W * H * 3];
    memset(frame, 128, sizeof frame);
    lp_video_writer *wr = NULL;
    LP_CHECK_OK(lp_video_writer_open(video, W, H, 25, &wr));
    for (int i = 0; i < N && wr; ++i) LP_CHECK_OK(lp_video_writer_write_rgb(wr, frame, W * 3));
    LP_CHECK_OK(lp_video_writer_close(wr));
    lp_video_writer_free(wr);
    FILE *f = fopen(csv, "w");
    fprintf(f, "scorer,m,m,m,m,m,m\nbodyparts,nose,nose,nose,tail,tail,tail\n"
               "coords,x,y,likelihood,x,y,likelihood\n");
    for (int i = 0; i < N; ++i) fprintf(f, "%d,30,30,0.99,80,60,0.2\n", i);
    fclose(f);

    LP_CHECK_OK(lp_predict_draw_video(video, csv, out, 0.9));
    lp_video *v = NULL;
    LP_CHECK_OK(lp_video_open(out, 0, &v));
    if (!v) return;
    const int64_t w = lp_video_width(v), h = lp_video_height(v);
    LP_CHECK(lp_video_n_frames(v) == N && h == 240 && w > 320 && w % 2 == 0);
    image im = {malloc((size_t)(w * h * 3)), h, w};
    LP_CHECK_OK(lp_video_read_frame_rgb_into(v, 2, im.px));
    lp_video_free(v);
    /* H.264 (yuv420p, half-resolution chroma) blurs colours: compare loosely */
    const uint8_t *c = at(&im, 60, 60); /* the nose, filled tab10 blue (31, 119, 180) */
    LP_CHECK(abs(c[0] - 31) < 50 && abs(c[1] - 119) < 50 && abs(c[2] - 180) < 50);
    c = at(&im, 160, 120); /* the tail: hollow, so grey at its centre ... */
    LP_CHECK(abs(c[0] - 128) < 40 && abs(c[1] - 128) < 40 && abs(c[2] - 128) < 40);
    LP_CHECK(count(&im, 153, 113, 168, 128, orangeish) > 3); /* ... and an orange ring */
    LP_CHECK(count(&im, 324, 0, w, h, bright) > 60);          /* legend text */
    LP_CHECK(count(&im, 0, 0, 60, 16, bright) > 10);          /* "frame 2" */
    LP_CHECK(count(&im, 0, 0, 60, 16, dark) > 60);            /* on its dark box */
    free(im.px);

    const char *skeleton[2] = {"nose", "paw"};
    lp_label_video_options o = {0.9, skeleton, 1};
    LP_CHECK_FAILS(lp_predict_draw_video_opts(video, csv, out, &o), LP_STATUS_BAD_ARG, "unknown keypoint 'paw'");
    skeleton[1] = "tail";
    LP_CHECK_OK(lp_predict_draw_video_opts(video, csv, out, &o));
}

int main(void) {
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    test_line_plot();
    test_log_plot();
    test_plot_errors();
    test_image_plot();
    test_labeled_video();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (getenv("LP_TEST_KEEP")) printf("# kept %s\n", g_dir); /* to look at the pictures */
    else if (system(cmd) != 0) printf("# could not remove %s\n", g_dir);
    LP_DONE();
}
