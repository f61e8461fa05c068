/* predict_draw.c: labeled videos (docs/spec/lp-data-train.md §3.7): keypoints drawn
 * with cairo (plot_keypoints.c) on each frame, small videos upsampled as LP
 * does, hollow markers below the confidence threshold (LP hides them), an
 * optional skeleton, the frame number in real text, and a legend panel at
 * the right that is drawn once per video: each frame only overwrites the
 * frame's part of one cairo surface. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/interrupt_internal.h"
#include "plot/plot_internal.h"
#include "predict_internal.h"

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

/* Copy an RGB frame into the left w x h of an RGB24 surface. */
static void frame_to_surface(const uint8_t *rgb, int w, int h, cairo_surface_t *s) {
    cairo_surface_flush(s);
    const int stride = cairo_image_surface_get_stride(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; ++y) {
        const uint8_t *src = rgb + (size_t)y * w * 3;
        uint32_t *dst = (uint32_t *)(data + (size_t)y * stride);
        for (int x = 0; x < w; ++x)
            dst[x] = 0xff000000u | (uint32_t)src[3 * x] << 16 | (uint32_t)src[3 * x + 1] << 8 |
                     src[3 * x + 2];
    }
    cairo_surface_mark_dirty(s);
}

/* Skeleton names -> keypoint indices of the CSV; an unknown name is an error
 * that lists the CSV's names. */
static lp_status skeleton_indices(const lp_label_video_options *o, const lp_csv_rows *rows,
                                  const char *csv_path, int32_t *edges, const char *fn) {
    const int K = lp_csv_rows_n_keypoints(rows);
    for (int i = 0; i < 2 * o->n_edges; ++i) {
        const char *name = o->skeleton[i];
        edges[i] = -1;
        for (int k = 0; k < K && name; ++k)
            if (strcmp(name, lp_csv_rows_name(rows, k)) == 0) edges[i] = k;
        if (edges[i] < 0) {
            char known[512] = "";
            for (int k = 0; k < K && strlen(known) < sizeof known - 80; ++k)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         k ? ", " : "", lp_csv_rows_name(rows, k));
            return lp_errorf(LP_STATUS_BAD_ARG, fn,
                             "skeleton pair %d: unknown keypoint '%s' (the keypoints of %s: %s)", i / 2 + 1, name ? name : "(null)", csv_path, known);
        }
    }
    return LP_STATUS_OK;
}

lp_status lp_predict_draw_video(const char *video_path, const char *csv_path,
                                const char *out_path, double confidence_thresh) {
    lp_label_video_options o = {confidence_thresh, NULL, 0};
    lp_status st = lp_predict_draw_video_opts(video_path, csv_path, out_path, &o);
    if (st) {
        /* name this function, not the _opts one it calls */
        const char *msg = lp_last_error();
        const char *opts_fn = "lp_predict_draw_video_opts";
        if (strncmp(msg, opts_fn, strlen(opts_fn)) == 0) {
            char copy[1024];
            snprintf(copy, sizeof copy, "lp_predict_draw_video%s", msg + strlen(opts_fn));
            lp_set_error(st, copy);
        }
    }
    return st;
}

lp_status lp_predict_draw_video_opts(const char *video_path, const char *csv_path,
                                     const char *out_path, const lp_label_video_options *o) {
    const char *fn = "lp_predict_draw_video_opts";
    if (!video_path || !csv_path || !out_path || !o)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (o->n_edges < 0 || (o->n_edges > 0 && !o->skeleton))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%d skeleton pairs but no names", o->n_edges);
    lp_video *v = NULL;
    lp_csv_rows *rows = NULL;
    lp_video_writer *wr = NULL;
    uint8_t *frame = NULL, *big = NULL, *out = NULL;
    double *vals = NULL, *xy = NULL;
    int32_t *edges = NULL;
    const char **names = NULL;
    cairo_surface_t *canvas = NULL;
    cairo_t *cr = NULL;
    lp_status st = lp_video_open(video_path, 0, &v);
    if (st) goto fail;
    if ((st = lp_csv_rows_open(csv_path, &rows))) goto fail;
    if (lp_csv_rows_kind(rows) != LP_CSV_PREDICTIONS) {
        st = lp_errorf(LP_STATUS_BAD_ARG, fn, "'%s' is not a predictions CSV", csv_path);
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
    xy = malloc(sizeof(double) * (size_t)K * 2);
    edges = malloc(sizeof(int32_t) * (size_t)(2 * o->n_edges + 1));
    names = malloc(sizeof *names * (size_t)K);
    if (!frame || !big || !vals || !xy || !edges || !names) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    if ((st = skeleton_indices(o, rows, csv_path, edges, fn))) goto fail;
    for (int k = 0; k < K; ++k) names[k] = lp_csv_rows_name(rows, k);

    /* the legend, once: its width sets the output's */
    const double font = oh / 28.0 < 10 ? 10 : oh / 28.0 > 12 ? 12 : oh / 28.0; /* a narrow panel: fewer pixels to encode */
    plot_legend lg = {names, K, NULL, 0, o->confidence_thresh, font};
    double lw, lh;
    if ((st = plot_surface_new(8, 8, fn, &canvas))) goto fail;
    cr = cairo_create(canvas);
    plot_legend_size(cr, &lg, oh, &lw, &lh);
    cairo_destroy(cr), cr = NULL;
    cairo_surface_destroy(canvas), canvas = NULL;
    int W = ow + (int)ceil(lw);
    W += W & 1;
    if ((st = plot_surface_new(W, oh, fn, &canvas))) goto fail;
    if (!(out = malloc((size_t)W * oh * 3))) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    cr = cairo_create(canvas);
    cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
    cairo_paint(cr);
    plot_legend_draw(cr, &lg, ow, 0, oh);
    cairo_rectangle(cr, 0, 0, ow, oh); /* from here on only the frame's part changes */
    cairo_clip(cr);

    double fps = lp_video_fps(v);
    if (!(fps > 0)) fps = 25;
    if ((st = lp_video_writer_open(out_path, W, oh, fps, &wr))) goto fail;
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
        frame_to_surface(big, ow, oh, canvas);
        if (have) {
            for (int k = 0; k < K; ++k) {
                xy[2 * k] = vals[3 * k] * sx;
                xy[2 * k + 1] = vals[3 * k + 1] * sy;
            }
            plot_skeleton(cr, edges, o->n_edges, xy, K, 1.0, 0.0, 1.5);
            for (int k = 0; k < K; ++k) {
                double x = xy[2 * k], y = xy[2 * k + 1], l = vals[3 * k + 2], rgb[3];
                if (!isfinite(x) || !isfinite(y)) continue;
                plot_keypoint_color(k, K, rgb);
                plot_marker(cr, PLOT_MARKER_CIRCLE, x, y, 4, rgb, !(l >= o->confidence_thresh));
            }
        }
        char label[48];
        snprintf(label, sizeof label, "frame %lld", (long long)i);
        double tw, th;
        plot_text_extent(cr, label, font, 0, &tw, &th);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
        cairo_rectangle(cr, 0, 0, tw + 8, th + 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        plot_text(cr, label, 4, 2, font, 0, PLOT_ALIGN_START, PLOT_ALIGN_START, 0);
        plot_surface_to_rgb(canvas, out);
        if ((st = lp_video_writer_write_rgb(wr, out, (int64_t)W * 3))) goto fail;
    }
    st = lp_video_writer_close(wr);
fail:
    if (cr) cairo_destroy(cr);
    if (canvas) cairo_surface_destroy(canvas);
    lp_video_writer_free(wr);
    lp_csv_rows_free(rows);
    lp_video_free(v);
    free(frame);
    free(big);
    free(out);
    free(vals);
    free(xy);
    free(edges);
    free(names);
    return lp_error_prefix(st, fn);
}
