/* plot_keypoints.c: keypoint markers, skeleton lines and the legend of
 * keypoint names, shared by lp_plot_image_png and the labeled videos. */
#include <math.h>
#include <stdio.h>

#include "plot_internal.h"

static void marker_path(cairo_t *cr, int shape, double x, double y, double r) {
    switch (shape % PLOT_N_MARKERS) {
    case PLOT_MARKER_CROSS: /* an X: open shape, stroked */
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        break;
    case PLOT_MARKER_SQUARE: cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); break;
    case PLOT_MARKER_TRIANGLE:
        cairo_move_to(cr, x, y - r * 1.1);
        cairo_line_to(cr, x + r, y + r * 0.8);
        cairo_line_to(cr, x - r, y + r * 0.8);
        cairo_close_path(cr);
        break;
    default: cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    }
}

void plot_marker(cairo_t *cr, int shape, double x, double y, double r, const double rgb[3],
                 int hollow) {
    const int cross = shape % PLOT_N_MARKERS == PLOT_MARKER_CROSS;
    const double lw = r > 5 ? 2.0 : 1.5;
    cairo_save(cr);
    cairo_new_path(cr);
    marker_path(cr, shape, x, y, r);
    if (cross || hollow) { /* dark halo under the coloured stroke */
        const double alpha = cross && hollow ? 0.4 : 1.0;
        cairo_set_source_rgba(cr, 0, 0, 0, 0.7 * alpha);
        cairo_set_line_width(cr, lw + 2);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
        cairo_set_line_width(cr, lw);
        cairo_stroke(cr);
    } else {
        plot_set_rgb(cr, rgb);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.7);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

void plot_skeleton(cairo_t *cr, const int32_t *edges, int n_edges, const double *xy, int K,
                   double scale, double offset, double width) {
    cairo_save(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int pass = 0; pass < 2; ++pass) { /* dark under white: visible on any frame */
        if (pass == 0)
            cairo_set_source_rgba(cr, 0, 0, 0, 0.6), cairo_set_line_width(cr, width + 2);
        else
            cairo_set_source_rgba(cr, 1, 1, 1, 0.85), cairo_set_line_width(cr, width);
        for (int e = 0; e < n_edges; ++e) {
            int i = edges[2 * e], j = edges[2 * e + 1];
            if (i < 0 || j < 0 || i >= K || j >= K) continue;
            double x0 = xy[2 * i], y0 = xy[2 * i + 1], x1 = xy[2 * j], y1 = xy[2 * j + 1];
            if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) continue;
            cairo_move_to(cr, (x0 + offset) * scale, (y0 + offset) * scale);
            cairo_line_to(cr, (x1 + offset) * scale, (y1 + offset) * scale);
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

/* Rows of the legend: the keypoint names, then (if any) one row per set and
 * the hollow-marker note. Laid out in columns of at most max_h pixels. */
typedef struct legend_row {
    const char *text;
    int kind; /* 0: keypoint k, 1: set s, 2: hollow note, 3: heading */
    int index;
} legend_row;

static int legend_rows(const plot_legend *lg, legend_row *rows, int cap, char *note, size_t nsz) {
    int n = 0;
    if (n < cap) rows[n++] = (legend_row){"keypoints", 3, 0};
    for (int k = 0; k < lg->K && n < cap; ++k) rows[n++] = (legend_row){lg->names[k], 0, k};
    if (lg->n_sets > 1 && lg->set_labels)
        for (int s = 0; s < lg->n_sets && n < cap; ++s)
            rows[n++] = (legend_row){lg->set_labels[s], 1, s};
    if (lg->confidence_thresh >= 0 && n < cap) {
        snprintf(note, nsz, "hollow: likelihood < %.2f", lg->confidence_thresh);
        rows[n++] = (legend_row){note, 2, 0};
    }
    return n;
}

enum { LEGEND_MAX_ROWS = 512 };

static void legend_layout(cairo_t *cr, const plot_legend *lg, double max_h, int draw, double x0,
                          double y0, double *w, double *h) {
    legend_row rows[LEGEND_MAX_ROWS];
    char note[64];
    const int n = legend_rows(lg, rows, LEGEND_MAX_ROWS, note, sizeof note);
    const double row_h = lg->font * 1.45, pad = lg->font * 0.5, swatch = lg->font * 1.6;
    int per_col = (int)floor((max_h - 2 * pad) / row_h);
    if (per_col < 1) per_col = 1;
    double col_x = pad, col_w = 0, total_w = 0, total_h = 0;
    for (int i = 0; i < n; ++i) {
        if (i > 0 && i % per_col == 0) { /* next column */
            col_x += col_w + pad * 2;
            col_w = 0;
        }
        const legend_row *r = &rows[i];
        const double y = pad + (i % per_col) * row_h, cy = y + row_h * 0.5;
        const int bold = r->kind == 3;
        double tw;
        plot_text_extent(cr, r->text, lg->font, bold, &tw, NULL);
        const double text_x = r->kind == 3 ? 0 : swatch;
        if (draw) {
            double rgb[3] = {0.25, 0.25, 0.25};
            const double mx = x0 + col_x + swatch * 0.45, my = y0 + cy, mr = lg->font * 0.4;
            if (r->kind == 0) {
                plot_keypoint_color(r->index, lg->K, rgb);
                plot_marker(cr, PLOT_MARKER_CIRCLE, mx, my, mr, rgb, 0);
            } else if (r->kind == 1) {
                double grey[3] = {0.85, 0.85, 0.85};
                plot_marker(cr, r->index, mx, my, mr, grey, 0);
            } else if (r->kind == 2) {
                double grey[3] = {0.85, 0.85, 0.85};
                plot_marker(cr, PLOT_MARKER_CIRCLE, mx, my, mr, grey, 1);
            }
            cairo_set_source_rgb(cr, 1, 1, 1);
            plot_text(cr, r->text, x0 + col_x + text_x, my, lg->font, bold, PLOT_ALIGN_START,
                      PLOT_ALIGN_CENTER, 0);
        }
        if (text_x + tw > col_w) col_w = text_x + tw;
        if (col_x + col_w > total_w) total_w = col_x + col_w;
        if (y + row_h > total_h) total_h = y + row_h;
    }
    *w = total_w + pad;
    *h = total_h + pad;
}

void plot_legend_size(cairo_t *cr, const plot_legend *lg, double max_h, double *w, double *h) {
    legend_layout(cr, lg, max_h, 0, 0, 0, w, h);
}

void plot_legend_draw(cairo_t *cr, const plot_legend *lg, double x, double y, double max_h) {
    double w, h;
    legend_layout(cr, lg, max_h, 1, x, y, &w, &h);
}
