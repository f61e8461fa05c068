/* plot_internal.h: what the plot_*.c files and the labeled-video writer
 * share: text, colours, ticks, keypoint markers and the legend, all drawn
 * with cairo into RGB buffers (internal). */
#ifndef LP_PLOT_INTERNAL_H
#define LP_PLOT_INTERNAL_H

#include <cairo.h>

#include "lpose.h"

/* ---- text (plot_text.c): pango, one font family everywhere */
enum { PLOT_ALIGN_START = 0, PLOT_ALIGN_CENTER = 1, PLOT_ALIGN_END = 2 };
/* Draw `text` with its box anchored at (x, y): halign/valign pick the box's
 * left/centre/right and top/centre/bottom; angle in radians (the anchor is
 * applied before the rotation, about the anchor point). */
void plot_text(cairo_t *cr, const char *text, double x, double y, double size, int bold,
               int halign, int valign, double angle);
/* Width and height in pixels of `text` at this size. */
void plot_text_extent(cairo_t *cr, const char *text, double size, int bold, double *w,
                      double *h);

/* ---- colours (plot_color.c) */
/* Series colour i of a qualitative palette (matplotlib's tab10 values). */
void plot_palette(int i, double rgb[3]);
/* Colour of keypoint k of K: tab10, then tab20's light shades, then hues. */
void plot_keypoint_color(int k, int K, double rgb[3]);
void plot_set_rgb(cairo_t *cr, const double rgb[3]);

/* ---- ticks (plot_ticks.c) */
enum { PLOT_MAX_TICKS = 64 };
/* "Nice" limits and ticks (1, 2 or 5 x 10^k steps) covering [lo, hi] with
 * about `target` ticks; writes the rounded-out limits. Returns the count. */
int plot_ticks_linear(double *lo, double *hi, int target, double *ticks, double *step);
/* Decade ticks over [lo, hi] (> 0), rounded out to whole decades. */
int plot_ticks_log(double *lo, double *hi, double *ticks);
/* Tick label: linear with as many decimals as the step needs, or "1e-3"
 * style for decades (plain 1 .. 1000). */
void plot_tick_label(double v, double step, int log, char *buf, size_t size);

/* ---- keypoints (plot_keypoints.c) */
/* Set i gets shape i: the shapes that can be hollow come first. */
enum { PLOT_MARKER_CIRCLE = 0, PLOT_MARKER_SQUARE, PLOT_MARKER_TRIANGLE, PLOT_MARKER_CROSS,
       PLOT_N_MARKERS };
/* A marker of radius r; hollow: outline only (a dark halo keeps both
 * visible on any background); a cross, always an outline, is faded instead. */
void plot_marker(cairo_t *cr, int shape, double x, double y, double r, const double rgb[3],
                 int hollow);
/* Lines between keypoints i and j of each edge where both are finite, at
 * ((x, y) + offset) * scale. */
void plot_skeleton(cairo_t *cr, const int32_t *edges, int n_edges, const double *xy, int K,
                   double scale, double offset, double width);

typedef struct plot_legend {
    const char *const *names; /* K keypoint names */
    int K;
    const char *const *set_labels; /* n_sets labels (shape i for set i), may be NULL */
    int n_sets;
    double confidence_thresh; /* < 0: no hollow-marker note */
    double font;              /* text size in pixels */
} plot_legend;
/* Size of the legend laid out in columns no taller than max_h. */
void plot_legend_size(cairo_t *cr, const plot_legend *lg, double max_h, double *w, double *h);
/* Draw it with its top-left corner at (x, y). */
void plot_legend_draw(cairo_t *cr, const plot_legend *lg, double x, double y, double max_h);

/* ---- buffers (plot_surface.c) */
/* RGB u8 rows <-> a CAIRO_FORMAT_RGB24 surface of the same size. */
void plot_rgb_to_surface(const uint8_t *rgb, int64_t stride, cairo_surface_t *s);
void plot_surface_to_rgb(cairo_surface_t *s, uint8_t *rgb);
/* A new RGB24 surface, or an LP_STATUS_OOM error naming fn. */
lp_status plot_surface_new(int w, int h, const char *fn, cairo_surface_t **out);
/* Write an RGB24 surface as a PNG through lp_image_write_png (temp + rename). */
lp_status plot_surface_save_png(cairo_surface_t *s, const char *path);

#endif
