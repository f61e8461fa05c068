/* plot_image.c: lp_plot_image_png, an image (a frame or a colour-mapped
 * heatmap) magnified, with keypoint sets drawn on it (one marker shape per
 * set, one colour per keypoint, hollow below the confidence threshold), the
 * skeleton, a title bar and a legend panel at its right. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "plot_internal.h"

static lp_status check_options(const lp_plot_image_options *o, const char *fn) {
    if (!o) return lp_errorf(LP_STATUS_BAD_ARG, fn, "options is NULL");
    if (o->n_keypoints < 0 || (o->n_keypoints > 0 && !o->keypoint_names))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%d keypoints without names", o->n_keypoints);
    if (o->n_sets < 0 || (o->n_sets > 0 && !o->sets))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%d keypoint sets but sets is NULL", o->n_sets);
    for (int s = 0; s < o->n_sets; ++s)
        if (o->n_keypoints > 0 && !o->sets[s].xy)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoint set %d has no coordinates", s);
    if (o->n_edges < 0 || (o->n_edges > 0 && !o->skeleton))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%d skeleton edges but skeleton is NULL", o->n_edges);
    for (int e = 0; e < 2 * o->n_edges; ++e)
        if (o->skeleton[e] < 0 || o->skeleton[e] >= o->n_keypoints)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "skeleton edge %d names keypoint %d (0..%d)",
                             e / 2, o->skeleton[e], o->n_keypoints - 1);
    return LP_STATUS_OK;
}

lp_status lp_plot_image_png(const uint8_t *rgb, int32_t height, int32_t width, int64_t stride,
                            const lp_plot_image_options *o, const char *path) {
    static const char fn[] = "lp_plot_image_png";
    if (!rgb || !path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "image or path is NULL");
    if (width < 1 || height < 1 || width > 8000 || height > 8000 || stride < (int64_t)width * 3)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: bad image size %dx%d (stride %lld)", path,
                         width, height, (long long)stride);
    lp_status st = check_options(o, fn);
    if (st) return st;
    double scale = o->scale;
    if (!(scale > 0)) { /* about 600 pixels on the long side, never shrunk */
        scale = 600.0 / (width > height ? width : height);
        scale = scale < 1 ? 1 : scale > 12 ? 12 : scale;
    }
    const int iw = (int)lround(width * scale), ih = (int)lround(height * scale);
    if (iw > 8000 || ih > 8000)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: scale %g makes %dx%d pixels", path, scale, iw, ih);

    cairo_surface_t *src = NULL, *out = NULL;
    if ((st = plot_surface_new(width, height, fn, &src))) return st;
    plot_rgb_to_surface(rgb, stride, src);

    /* measure on a scratch context */
    const char **set_labels = malloc(sizeof *set_labels * (size_t)(o->n_sets + 1));
    if (!set_labels) {
        cairo_surface_destroy(src);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    int any_conf = 0;
    for (int s = 0; s < o->n_sets; ++s) {
        set_labels[s] = o->sets[s].label ? o->sets[s].label : "";
        any_conf |= o->sets[s].confidence != NULL;
    }
    plot_legend lg = {o->keypoint_names, o->n_keypoints, set_labels, o->n_sets,
                      any_conf ? o->confidence_thresh : -1, 13};
    cairo_t *cr = cairo_create(src);
    double title_h = 0, lw = 0, lh = 0;
    if (o->title && o->title[0]) {
        plot_text_extent(cr, o->title, 15, 1, NULL, &title_h);
        title_h += 12;
    }
    plot_legend_size(cr, &lg, ih, &lw, &lh);
    cairo_destroy(cr);
    const int W = iw + (int)ceil(lw), H = ih + (int)ceil(title_h);
    if ((st = plot_surface_new(W, H, fn, &out))) {
        cairo_surface_destroy(src);
        free(set_labels);
        return st;
    }
    cr = cairo_create(out);
    cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
    cairo_paint(cr);
    if (title_h > 0) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        plot_text(cr, o->title, W / 2.0, 6, 15, 1, PLOT_ALIGN_CENTER, PLOT_ALIGN_START, 0);
    }
    /* the image, magnified (nearest for big factors: heatmap cells stay sharp) */
    cairo_save(cr);
    cairo_translate(cr, 0, title_h);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_clip(cr);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, src, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), scale >= 4 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);

    cairo_save(cr);
    cairo_translate(cr, 0, title_h);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_clip(cr);
    for (int s = 0; s < o->n_sets && o->n_edges > 0; ++s)
        plot_skeleton(cr, o->skeleton, o->n_edges, o->sets[s].xy, o->n_keypoints, scale, 0.5, 1.5);
    for (int s = 0; s < o->n_sets; ++s)
        for (int k = 0; k < o->n_keypoints; ++k) {
            double x = o->sets[s].xy[2 * k], y = o->sets[s].xy[2 * k + 1], rgbk[3];
            if (!isfinite(x) || !isfinite(y)) continue;
            const double *c = o->sets[s].confidence;
            int hollow = c && !(c[k] >= o->confidence_thresh);
            plot_keypoint_color(k, o->n_keypoints, rgbk);
            /* pixel centres: keypoint x is at (x + 0.5) * scale in the magnified image */
            plot_marker(cr, s, (x + 0.5) * scale, (y + 0.5) * scale, 5.5, rgbk, hollow);
        }
    cairo_restore(cr);
    plot_legend_draw(cr, &lg, iw, title_h, ih);
    cairo_destroy(cr);
    st = plot_surface_save_png(out, path);
    cairo_surface_destroy(out);
    cairo_surface_destroy(src);
    free(set_labels);
    return lp_error_prefix(st, fn);
}
