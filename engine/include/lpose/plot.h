/* lpose/plot.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_PLOT_H
#define LPOSE_PLOT_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Plots (cairo + pango, docs/design/decisions.md): line plots in a grid of
 * panels, and images (frames or heatmaps) with keypoints drawn, saved as
 * PNG (PATH.tmp-<pid>, then renamed). Every panel has a title, axis labels,
 * tick values and a legend; a logarithmic axis has ticks at decades and its
 * label ends with " (log scale)", added here so no caller can forget it.
 * Data are copied: the caller's arrays may be freed after each call.
 * ------------------------------------------------------------------------ */

typedef struct lp_plot lp_plot;

enum { LP_PLOT_LOG_X = 1, LP_PLOT_LOG_Y = 2 };

typedef enum lp_plot_style {
    LP_PLOT_LINE = 0,
    LP_PLOT_MARKERS = 1,
    LP_PLOT_LINE_MARKERS = 2
} lp_plot_style;

/* A width x height figure (pixels, 200..8000) of rows x cols panels, with a
 * title over all of them (NULL or "": none). */
lp_status lp_plot_new(int32_t width, int32_t height, int32_t rows, int32_t cols,
                      const char *title, lp_plot **out);
void lp_plot_free(lp_plot *plot); /* nothrow */
/* Panel `panel` (0-based, row-major): title, axis labels (with units) and
 * LP_PLOT_LOG_* flags. A panel must be set up before its series. */
lp_status lp_plot_axes(lp_plot *plot, int32_t panel, const char *title, const char *xlabel,
                       const char *ylabel, int32_t flags);
/* Fixed axis limits (lo < hi; on a log axis both > 0) instead of the data's
 * range rounded out to ticks. */
lp_status lp_plot_limits(lp_plot *plot, int32_t panel, double xmin, double xmax, double ymin,
                         double ymax);
/* One named series of n >= 1 points. Points that are not finite (or <= 0 on
 * a log axis) are left out and break the line. color: 0xRRGGBB, or -1 for
 * the panel's next palette colour. */
lp_status lp_plot_series(lp_plot *plot, int32_t panel, const char *label, const double *x,
                         const double *y, int64_t n, int32_t style, int32_t color);
/* A second x axis along the top of the panel: tick marks at data positions
 * `x` with text labels (e.g. the step where each epoch starts), and its label. */
lp_status lp_plot_top_axis(lp_plot *plot, int32_t panel, const char *label, const double *x,
                           const char *const *tick_labels, int32_t n);
/* Draw the figure and write it as an RGB PNG. A panel without any drawable
 * point is an error naming the panel. */
lp_status lp_plot_save_png(lp_plot *plot, const char *path);
/* After lp_plot_save_png: the panel's plotting area in pixels
 * {left, top, width, height}; its x limits map to the left and right edges,
 * its y limits to the bottom and top. */
lp_status lp_plot_panel_area(const lp_plot *plot, int32_t panel, double out[4]);

/* One set of keypoints to draw on an image, e.g. ground truth or a model's
 * prediction; each set has its own marker shape, each keypoint its colour. */
typedef struct lp_plot_keypoints {
    const char *label;        /* legend name of the set */
    const double *xy;         /* n_keypoints (x, y) in image pixels; NaN: not drawn */
    const double *confidence; /* n_keypoints likelihoods, or NULL: all confident */
} lp_plot_keypoints;

typedef struct lp_plot_image_options {
    const char *title;                 /* NULL: none */
    const char *const *keypoint_names; /* n_keypoints names for the legend */
    int32_t n_keypoints;
    const lp_plot_keypoints *sets;
    int32_t n_sets;
    const int32_t *skeleton; /* n_edges pairs of keypoint indices (0-based), or NULL */
    int32_t n_edges;
    double confidence_thresh; /* markers below it are drawn hollow */
    double scale;             /* image magnification; <= 0: automatic */
} lp_plot_image_options;

/* The image (height x width RGB u8, row stride in bytes), magnified, with
 * the keypoints, the skeleton and a legend of keypoint names and sets at
 * its right, written as a PNG. */
lp_status lp_plot_image_png(const uint8_t *rgb, int32_t height, int32_t width, int64_t stride,
                            const lp_plot_image_options *options, const char *path);
/* Colour-map n values to RGB u8 (viridis) over [vmin, vmax]; values outside
 * are clamped, NaN is black. vmin == vmax maps everything to the low end. */
lp_status lp_plot_colormap(const float *values, int64_t n, double vmin, double vmax,
                           uint8_t *out_rgb);

#ifdef __cplusplus
}
#endif

#endif
