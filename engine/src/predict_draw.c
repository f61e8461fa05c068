/* predict_draw.c: labeled videos (lp-data-train.md §3.7): keypoints drawn as
 * filled circles coloured from matplotlib's 'cool', small videos upsampled
 * as LP does, and the frame number at the top left (3x5 pixel font). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_util.h"
#include "interrupt_internal.h"
#include "predict_internal.h"

/* 3x5 digits, one row per 3 bits (MSB = left). */
static const unsigned char font3x5[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
};

static void fill_rect(uint8_t *img, int w, int h, int x0, int y0, int x1, int y1,
                      const uint8_t c[3]) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > w) x1 = w;
    if (y1 > h) y1 = h;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) memcpy(img + ((size_t)y * w + x) * 3, c, 3);
}

static void draw_number(uint8_t *img, int w, int h, long long number) {
    char s[32];
    int n = snprintf(s, sizeof s, "%lld", number);
    const int px = 2; /* pixel size */
    const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    fill_rect(img, w, h, 0, 0, 2 + n * 4 * px, 2 + 5 * px + 2, black);
    for (int i = 0; i < n; ++i) {
        const unsigned char *g = font3x5[s[i] - '0'];
        for (int r = 0; r < 5; ++r)
            for (int c = 0; c < 3; ++c)
                if (g[r] & (4 >> c))
                    fill_rect(img, w, h, 2 + (i * 4 + c) * px, 2 + r * px, 2 + (i * 4 + c + 1) * px,
                              2 + (r + 1) * px, white);
    }
}

static void draw_disc(uint8_t *img, int w, int h, double cx, double cy, int radius,
                      const uint8_t c[3]) {
    /* OpenCV's cv2.circle takes integer centres */
    int x0 = (int)lround(cx), y0 = (int)lround(cy);
    for (int dy = -radius; dy <= radius; ++dy)
        for (int dx = -radius; dx <= radius; ++dx) {
            if (dx * dx + dy * dy > radius * radius) continue;
            int x = x0 + dx, y = y0 + dy;
            if (x < 0 || y < 0 || x >= w || y >= h) continue;
            memcpy(img + ((size_t)y * w + x) * 3, c, 3);
        }
}

/* Bilinear resize (align_corners=False) of RGB u8. */
static void resize_rgb(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    const double fx = (double)sw / dw, fy = (double)sh / dh;
    for (int y = 0; y < dh; ++y) {
        double sy = (y + 0.5) * fy - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        double ay = sy - y0;
        for (int x = 0; x < dw; ++x) {
            double sx = (x + 0.5) * fx - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            double ax = sx - x0;
            for (int c = 0; c < 3; ++c) {
                double v = (1 - ay) * ((1 - ax) * src[((size_t)y0 * sw + x0) * 3 + c] +
                                       ax * src[((size_t)y0 * sw + x1) * 3 + c]) +
                           ay * ((1 - ax) * src[((size_t)y1 * sw + x0) * 3 + c] +
                                 ax * src[((size_t)y1 * sw + x1) * 3 + c]);
                dst[((size_t)y * dw + x) * 3 + c] = (uint8_t)lround(v);
            }
        }
    }
}

lp_status lp_predict_draw_video(const char *video_path, const char *csv_path,
                                const char *out_path, double confidence_thresh) {
    const char *fn = "lp_predict_draw_video";
    if (!video_path || !csv_path || !out_path)
        return lp_errorf(LP_STATUS_BAD_ARG, "%s: NULL argument", fn);
    lp_video *v = NULL;
    lp_csv_rows *rows = NULL;
    lp_video_writer *wr = NULL;
    uint8_t *frame = NULL, *big = NULL;
    double *vals = NULL;
    uint8_t(*colors)[3] = NULL;
    lp_status st = lp_video_open(video_path, 0, &v);
    if (st) goto fail;
    if ((st = lp_csv_rows_open(csv_path, &rows))) goto fail;
    if (lp_csv_rows_kind(rows) != LP_CSV_PREDICTIONS) {
        st = lp_errorf(LP_STATUS_BAD_ARG, "%s: '%s' is not a predictions CSV", fn, csv_path);
        goto fail;
    }
    const int K = lp_csv_rows_n_keypoints(rows);
    const int w = lp_video_width(v), h = lp_video_height(v);
    double scale = 1.0;
    if (w <= 100 || h <= 100)
        scale = 2.5;
    else if (w <= 192 || h <= 192)
        scale = 2.0;
    int ow = (int)lround(w * scale), oh = (int)lround(h * scale);
    ow += ow & 1;
    oh += oh & 1;
    frame = malloc((size_t)w * h * 3);
    big = malloc((size_t)ow * oh * 3);
    vals = malloc(sizeof(double) * (size_t)K * 3);
    colors = malloc(sizeof *colors * (size_t)K);
    if (!frame || !big || !vals || !colors) {
        st = lp_errorf(LP_STATUS_OOM, "%s: out of memory", fn);
        goto fail;
    }
    for (int k = 0; k < K; ++k) { /* matplotlib 'cool' at linspace(0, 1, K) */
        double t = K > 1 ? (double)k / (K - 1) : 0.0;
        colors[k][0] = (uint8_t)lround(255 * t);
        colors[k][1] = (uint8_t)lround(255 * (1 - t));
        colors[k][2] = 255;
    }
    double fps = lp_video_fps(v);
    if (!(fps > 0)) fps = 25;
    if ((st = lp_video_writer_open(out_path, ow, oh, fps, &wr))) goto fail;
    const int64_t n = lp_video_n_frames(v);
    const double sx = (double)ow / w, sy = (double)oh / h;
    for (int64_t i = 0; i < n; ++i) {
        if ((st = lp_interrupt_check(fn))) goto fail; /* once per frame */
        if ((st = lp_video_read_frame_rgb_into(v, i, frame))) goto fail;
        int have = 0;
        st = lp_csv_rows_next(rows, vals);
        if (st == LP_STATUS_OK)
            have = 1;
        else if (st != LP_STATUS_EOF)
            goto fail;
        st = LP_STATUS_OK;
        if (ow == w && oh == h)
            memcpy(big, frame, (size_t)w * h * 3);
        else
            resize_rgb(frame, w, h, big, ow, oh);
        if (have)
            for (int k = 0; k < K; ++k) {
                double x = vals[3 * k], y = vals[3 * k + 1], l = vals[3 * k + 2];
                if (isnan(x) || isnan(y) || !(l >= confidence_thresh)) continue;
                draw_disc(big, ow, oh, x * sx, y * sy, 4, colors[k]);
            }
        draw_number(big, ow, oh, (long long)i);
        if ((st = lp_video_writer_write_rgb(wr, big, (int64_t)ow * 3))) goto fail;
    }
    st = lp_video_writer_close(wr);
fail:
    lp_video_writer_free(wr);
    lp_csv_rows_free(rows);
    lp_video_free(v);
    free(frame);
    free(big);
    free(vals);
    free(colors);
    return lp_error_prefix(st, fn);
}
