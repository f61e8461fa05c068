/* plot_figure.c: line plots (lp_plot_*): a grid of panels, each with a
 * title, axes with nice ticks (decades on a log axis, which its label
 * says), an optional second x axis on top (e.g. epochs) and a legend at its
 * right. Series are copied when added and drawn by lp_plot_save_png, once
 * every range is known. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "plot_internal.h"

typedef struct plot_series {
    char *label;
    double *x, *y;
    int64_t n;
    int style;
    double rgb[3];
} plot_series;

typedef struct plot_panel {
    int set_up;
    char *title, *xlabel, *ylabel;
    int flags;
    int has_limits;
    double lim[4]; /* xmin xmax ymin ymax */
    plot_series *series;
    int n_series, cap_series, next_color;
    char *top_label;
    double *top_x;
    char **top_labels;
    int n_top;
    double area[4]; /* left top width height, after drawing */
    int drawn;
} plot_panel;

struct lp_plot {
    int w, h, rows, cols;
    char *title;
    plot_panel *panels;
};

static const char *const fn_new = "lp_plot_new";

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

lp_status lp_plot_new(int32_t width, int32_t height, int32_t rows, int32_t cols,
                      const char *title, lp_plot **out) {
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn_new, "out is NULL");
    if (width < 200 || height < 200 || width > 8000 || height > 8000)
        return lp_errorf(LP_STATUS_BAD_ARG, fn_new, "size %dx%d is outside 200..8000 pixels",
                         width, height);
    if (rows < 1 || cols < 1 || rows * cols > 64)
        return lp_errorf(LP_STATUS_BAD_ARG, fn_new, "%d x %d panels (1..64 in all)", rows, cols);
    lp_plot *p = calloc(1, sizeof *p);
    if (!p || !(p->panels = calloc((size_t)rows * cols, sizeof *p->panels)) ||
        !(p->title = dup_or_empty(title))) {
        lp_plot_free(p);
        return lp_errorf(LP_STATUS_OOM, fn_new, "out of memory");
    }
    p->w = width, p->h = height, p->rows = rows, p->cols = cols;
    *out = p;
    return LP_STATUS_OK;
}

void lp_plot_free(lp_plot *p) {
    if (!p) return;
    for (int i = 0; p->panels && i < p->rows * p->cols; ++i) {
        plot_panel *pa = &p->panels[i];
        free(pa->title), free(pa->xlabel), free(pa->ylabel), free(pa->top_label), free(pa->top_x);
        for (int s = 0; s < pa->n_series; ++s)
            free(pa->series[s].label), free(pa->series[s].x), free(pa->series[s].y);
        free(pa->series);
        for (int t = 0; t < pa->n_top; ++t) free(pa->top_labels[t]);
        free(pa->top_labels);
    }
    free(p->panels);
    free(p->title);
    free(p);
}

static lp_status get_panel(const lp_plot *p, int32_t panel, const char *fn, int need_set_up,
                           plot_panel **out) {
    if (!p) return lp_errorf(LP_STATUS_BAD_ARG, fn, "plot is NULL");
    if (panel < 0 || panel >= p->rows * p->cols)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "panel %d does not exist (0..%d)", panel,
                         p->rows * p->cols - 1);
    if (need_set_up && !p->panels[panel].set_up)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "panel %d has no axes yet (lp_plot_axes first)", panel);
    *out = &p->panels[panel];
    return LP_STATUS_OK;
}

lp_status lp_plot_axes(lp_plot *p, int32_t panel, const char *title, const char *xlabel,
                       const char *ylabel, int32_t flags) {
    static const char fn[] = "lp_plot_axes";
    plot_panel *pa;
    lp_status st = get_panel(p, panel, fn, 0, &pa);
    if (st) return st;
    if (flags & ~(LP_PLOT_LOG_X | LP_PLOT_LOG_Y))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown flags %d", flags);
    char *t = dup_or_empty(title), *xl = dup_or_empty(xlabel), *yl = dup_or_empty(ylabel);
    if (!t || !xl || !yl) {
        free(t), free(xl), free(yl);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    free(pa->title), free(pa->xlabel), free(pa->ylabel);
    pa->title = t, pa->xlabel = xl, pa->ylabel = yl, pa->flags = flags, pa->set_up = 1;
    return LP_STATUS_OK;
}

lp_status lp_plot_limits(lp_plot *p, int32_t panel, double xmin, double xmax, double ymin,
                         double ymax) {
    static const char fn[] = "lp_plot_limits";
    plot_panel *pa;
    lp_status st = get_panel(p, panel, fn, 1, &pa);
    if (st) return st;
    if (!(xmin < xmax) || !(ymin < ymax) || !isfinite(xmax - xmin) || !isfinite(ymax - ymin))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "limits need finite lo < hi");
    if (((pa->flags & LP_PLOT_LOG_X) && xmin <= 0) || ((pa->flags & LP_PLOT_LOG_Y) && ymin <= 0))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "a log axis needs limits > 0");
    pa->has_limits = 1;
    pa->lim[0] = xmin, pa->lim[1] = xmax, pa->lim[2] = ymin, pa->lim[3] = ymax;
    return LP_STATUS_OK;
}

lp_status lp_plot_series(lp_plot *p, int32_t panel, const char *label, const double *x,
                         const double *y, int64_t n, int32_t style, int32_t color) {
    static const char fn[] = "lp_plot_series";
    plot_panel *pa;
    lp_status st = get_panel(p, panel, fn, 1, &pa);
    if (st) return st;
    const char *name = label ? label : "";
    if (n < 1 || !x || !y)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "series '%s' is empty", name);
    if (style < LP_PLOT_LINE || style > LP_PLOT_LINE_MARKERS)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "series '%s': unknown style %d", name, style);
    if (color < -1 || color > 0xffffff)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "series '%s': colour must be 0xRRGGBB or -1", name);
    if (pa->n_series == pa->cap_series) {
        int cap = pa->cap_series ? 2 * pa->cap_series : 8;
        plot_series *grown = realloc(pa->series, sizeof *grown * (size_t)cap);
        if (!grown) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        pa->series = grown, pa->cap_series = cap;
    }
    plot_series s = {dup_or_empty(label), malloc(sizeof(double) * (size_t)n),
                     malloc(sizeof(double) * (size_t)n), n, style, {0, 0, 0}};
    if (!s.label || !s.x || !s.y) {
        free(s.label), free(s.x), free(s.y);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory for %lld points", (long long)n);
    }
    memcpy(s.x, x, sizeof(double) * (size_t)n);
    memcpy(s.y, y, sizeof(double) * (size_t)n);
    if (color < 0)
        plot_palette(pa->next_color++, s.rgb);
    else
        s.rgb[0] = ((color >> 16) & 255) / 255.0, s.rgb[1] = ((color >> 8) & 255) / 255.0,
        s.rgb[2] = (color & 255) / 255.0;
    pa->series[pa->n_series++] = s;
    return LP_STATUS_OK;
}

lp_status lp_plot_top_axis(lp_plot *p, int32_t panel, const char *label, const double *x,
                           const char *const *tick_labels, int32_t n) {
    static const char fn[] = "lp_plot_top_axis";
    plot_panel *pa;
    lp_status st = get_panel(p, panel, fn, 1, &pa);
    if (st) return st;
    if (n < 1 || n > PLOT_MAX_TICKS * 16 || !x || !tick_labels)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "need 1..%d ticks with labels", PLOT_MAX_TICKS * 16);
    double *xs = malloc(sizeof(double) * (size_t)n);
    char **ls = calloc((size_t)n, sizeof *ls);
    char *l = dup_or_empty(label);
    int ok = xs && ls && l;
    for (int i = 0; ok && i < n; ++i) ok = (ls[i] = dup_or_empty(tick_labels[i])) != NULL;
    if (!ok) {
        for (int i = 0; ls && i < n; ++i) free(ls[i]);
        free(xs), free(ls), free(l);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    memcpy(xs, x, sizeof(double) * (size_t)n);
    for (int t = 0; t < pa->n_top; ++t) free(pa->top_labels[t]);
    free(pa->top_labels), free(pa->top_x), free(pa->top_label);
    pa->top_x = xs, pa->top_labels = ls, pa->top_label = l, pa->n_top = n;
    return LP_STATUS_OK;
}

lp_status lp_plot_panel_area(const lp_plot *p, int32_t panel, double out[4]) {
    static const char fn[] = "lp_plot_panel_area";
    plot_panel *pa;
    lp_status st = get_panel(p, panel, fn, 1, &pa);
    if (st) return st;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out is NULL");
    if (!pa->drawn) return lp_errorf(LP_STATUS_BAD_ARG, fn, "panel %d is not drawn yet", panel);
    memcpy(out, pa->area, sizeof pa->area);
    return LP_STATUS_OK;
}

/* ---- drawing */

typedef struct axis_map {
    double lo, hi, px0, px1;
    int log;
} axis_map;

static double map(const axis_map *a, double v) {
    double t = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
                      : (v - a->lo) / (a->hi - a->lo);
    return a->px0 + t * (a->px1 - a->px0);
}

static int usable(double v, int log) { return isfinite(v) && (!log || v > 0); }

/* The data range of one axis (0: x, 1: y) over every series; 0 if none. */
static int data_range(const plot_panel *pa, double *lo, double *hi) {
    const int lx = pa->flags & LP_PLOT_LOG_X, ly = pa->flags & LP_PLOT_LOG_Y;
    int any = 0;
    lo[0] = lo[1] = INFINITY, hi[0] = hi[1] = -INFINITY;
    for (int s = 0; s < pa->n_series; ++s)
        for (int64_t i = 0; i < pa->series[s].n; ++i) {
            double x = pa->series[s].x[i], y = pa->series[s].y[i];
            if (!usable(x, lx) || !usable(y, ly)) continue;
            any = 1;
            if (x < lo[0]) lo[0] = x;
            if (x > hi[0]) hi[0] = x;
            if (y < lo[1]) lo[1] = y;
            if (y > hi[1]) hi[1] = y;
        }
    return any;
}

typedef struct axis_ticks {
    double lo, hi, step, t[PLOT_MAX_TICKS];
    int n, log;
    char label[PLOT_MAX_TICKS][32];
} axis_ticks;

static void make_ticks(axis_ticks *a, double lo, double hi, int log, int fixed, int target) {
    a->log = log;
    double l = lo, h = hi;
    if (log) {
        a->n = plot_ticks_log(&l, &h, a->t);
        a->step = 0;
    } else {
        a->n = plot_ticks_linear(&l, &h, target, a->t, &a->step);
    }
    if (fixed) { /* keep the caller's limits, drop ticks outside them */
        int m = 0;
        for (int i = 0; i < a->n; ++i)
            if (a->t[i] >= lo * (1 - 1e-12) - 1e-300 && a->t[i] <= hi * (1 + 1e-12) + 1e-300)
                a->t[m++] = a->t[i];
        a->n = m;
        l = lo, h = hi;
    }
    a->lo = l, a->hi = h;
    for (int i = 0; i < a->n; ++i) plot_tick_label(a->t[i], a->step, log, a->label[i], sizeof a->label[i]);
}

static void legend_entry_sample(cairo_t *cr, const plot_series *s, double x, double y, double len) {
    cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
    if (s->style != LP_PLOT_MARKERS) {
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + len, y);
        cairo_stroke(cr);
    }
    if (s->style != LP_PLOT_LINE) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, x + len / 2, y, 3.5, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

static void draw_series(cairo_t *cr, const plot_series *s, const axis_map *mx, const axis_map *my) {
    cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
    if (s->style != LP_PLOT_MARKERS) {
        cairo_set_line_width(cr, s->n > 2000 ? 1.0 : 1.6);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        int pen = 0;
        for (int64_t i = 0; i < s->n; ++i) {
            if (!usable(s->x[i], mx->log) || !usable(s->y[i], my->log)) {
                pen = 0;
                continue;
            }
            double px = map(mx, s->x[i]), py = map(my, s->y[i]);
            if (pen)
                cairo_line_to(cr, px, py);
            else
                cairo_move_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
    }
    if (s->style != LP_PLOT_LINE) {
        for (int64_t i = 0; i < s->n; ++i) {
            if (!usable(s->x[i], mx->log) || !usable(s->y[i], my->log)) continue;
            cairo_new_sub_path(cr);
            cairo_arc(cr, map(mx, s->x[i]), map(my, s->y[i]), 3.5, 0, 2 * M_PI);
        }
        cairo_fill(cr);
    }
}

/* measure: only grow widths[] = {y tick labels, legend} to this panel's
 * needs (panels in a column share them, so their x axes line up); else draw
 * with at least those widths. */
static lp_status draw_panel(cairo_t *cr, plot_panel *pa, int index, double cx, double cy,
                            double cw, double ch, double widths[2], int measure) {
    static const char fn[] = "lp_plot_save_png";
    const double font = 12, small = 11;
    const int lx = pa->flags & LP_PLOT_LOG_X, ly = pa->flags & LP_PLOT_LOG_Y;
    double lo[2], hi[2];
    if (pa->has_limits) {
        lo[0] = pa->lim[0], hi[0] = pa->lim[1], lo[1] = pa->lim[2], hi[1] = pa->lim[3];
    } else if (!data_range(pa, lo, hi)) {
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "panel %d ('%s') has no point to draw%s",
                         index, pa->title, ly || lx ? " (a log axis drops values <= 0)" : "");
    }
    axis_ticks ax, ay;
    make_ticks(&ax, lo[0], hi[0], lx, pa->has_limits, 8);
    make_ticks(&ay, lo[1], hi[1], ly, pa->has_limits, 6);

    /* margins from the text they hold */
    double ytick_w = 0, tw, th, text_h;
    plot_text_extent(cr, "0", small, 0, NULL, &text_h);
    for (int i = 0; i < ay.n; ++i) {
        plot_text_extent(cr, ay.label[i], small, 0, &tw, NULL);
        if (tw > ytick_w) ytick_w = tw;
    }
    double legend_w = 0;
    for (int s = 0; s < pa->n_series; ++s) {
        plot_text_extent(cr, pa->series[s].label, small, 0, &tw, NULL);
        if (tw > legend_w) legend_w = tw;
    }
    legend_w += 44;
    if (measure) {
        if (ytick_w > widths[0]) widths[0] = ytick_w;
        if (legend_w > widths[1]) widths[1] = legend_w;
        return LP_STATUS_OK;
    }
    if (widths[0] > ytick_w) ytick_w = widths[0];
    if (widths[1] > legend_w) legend_w = widths[1];
    const double left = cx + 14 + text_h + 8 + ytick_w + 8;
    const double top = cy + 8 + text_h * 1.3 + (pa->n_top ? 2 * text_h + 14 : 6);
    const double right = cx + cw - legend_w - 18;
    const double bottom = cy + ch - (6 + text_h * 2 + 18);
    if (right - left < 40 || bottom - top < 40)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "panel %d ('%s') is too small to draw", index,
                         pa->title);
    pa->area[0] = left, pa->area[1] = top, pa->area[2] = right - left, pa->area[3] = bottom - top;
    axis_map mx = {ax.lo, ax.hi, left, right, lx}, my = {ay.lo, ay.hi, bottom, top, ly};

    /* grid */
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    for (int i = 0; i < ax.n; ++i) {
        double x = floor(map(&mx, ax.t[i])) + 0.5;
        cairo_move_to(cr, x, top), cairo_line_to(cr, x, bottom);
    }
    for (int i = 0; i < ay.n; ++i) {
        double y = floor(map(&my, ay.t[i])) + 0.5;
        cairo_move_to(cr, left, y), cairo_line_to(cr, right, y);
    }
    cairo_stroke(cr);

    /* series, clipped to the area */
    cairo_save(cr);
    cairo_rectangle(cr, left, top, right - left, bottom - top);
    cairo_clip(cr);
    for (int s = 0; s < pa->n_series; ++s) draw_series(cr, &pa->series[s], &mx, &my);
    cairo_restore(cr);

    /* frame, ticks and tick labels */
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, floor(left) + 0.5, floor(top) + 0.5, floor(right) - floor(left),
                    floor(bottom) - floor(top));
    for (int i = 0; i < ax.n; ++i) {
        double x = floor(map(&mx, ax.t[i])) + 0.5;
        cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + 5);
    }
    for (int i = 0; i < ay.n; ++i) {
        double y = floor(map(&my, ay.t[i])) + 0.5;
        cairo_move_to(cr, left, y), cairo_line_to(cr, left - 5, y);
    }
    for (int a = 0; a < 2; ++a) { /* minor ticks 2..9 on a log axis */
        const axis_ticks *t = a ? &ay : &ax;
        const axis_map *m = a ? &my : &mx;
        if (!t->log) continue;
        for (double d = t->lo; d < t->hi * 0.999; d *= 10)
            for (int k = 2; k <= 9; ++k) {
                double p = floor(map(m, d * k)) + 0.5;
                if (a)
                    cairo_move_to(cr, left, p), cairo_line_to(cr, left - 3, p);
                else
                    cairo_move_to(cr, p, bottom), cairo_line_to(cr, p, bottom + 3);
            }
    }
    cairo_stroke(cr);
    for (int i = 0; i < ax.n; ++i)
        plot_text(cr, ax.label[i], map(&mx, ax.t[i]), bottom + 7, small, 0, PLOT_ALIGN_CENTER,
                  PLOT_ALIGN_START, 0);
    for (int i = 0; i < ay.n; ++i)
        plot_text(cr, ay.label[i], left - 8, map(&my, ay.t[i]), small, 0, PLOT_ALIGN_END,
                  PLOT_ALIGN_CENTER, 0);

    /* axis labels: a log axis says so */
    char label[512];
    snprintf(label, sizeof label, "%s%s", pa->xlabel, lx ? " (log scale)" : "");
    plot_text(cr, label, (left + right) / 2, bottom + 9 + text_h, font, 0, PLOT_ALIGN_CENTER,
              PLOT_ALIGN_START, 0);
    snprintf(label, sizeof label, "%s%s", pa->ylabel, ly ? " (log scale)" : "");
    plot_text(cr, label, cx + 8, (top + bottom) / 2, font, 0, PLOT_ALIGN_CENTER, PLOT_ALIGN_START,
              -M_PI / 2);

    /* second x axis on top */
    double title_y = cy + 6;
    if (pa->n_top) {
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        double last_end = -INFINITY;
        for (int i = 0; i < pa->n_top; ++i) {
            double v = pa->top_x[i];
            if (!usable(v, lx) || v < ax.lo || v > ax.hi) continue;
            double x = floor(map(&mx, v)) + 0.5;
            cairo_move_to(cr, x, top), cairo_line_to(cr, x, top - 5);
            cairo_stroke(cr);
            plot_text_extent(cr, pa->top_labels[i], small, 0, &tw, NULL);
            if (x - tw / 2 > last_end + 4) { /* labels that would overlap are left out */
                plot_text(cr, pa->top_labels[i], x, top - 6, small, 0, PLOT_ALIGN_CENTER,
                          PLOT_ALIGN_END, 0);
                last_end = x + tw / 2;
            }
        }
        plot_text(cr, pa->top_label, (left + right) / 2, top - 8 - text_h, small, 0,
                  PLOT_ALIGN_CENTER, PLOT_ALIGN_END, 0);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    plot_text(cr, pa->title, (left + right) / 2, title_y, font + 1, 1, PLOT_ALIGN_CENTER,
              PLOT_ALIGN_START, 0);

    /* legend at the right of the area */
    if (pa->n_series) {
        const double row = text_h + 6, lx0 = right + 12, lw = legend_w, lh = row * pa->n_series + 8;
        cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
        cairo_rectangle(cr, lx0, top, lw, lh);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
        cairo_stroke(cr);
        for (int s = 0; s < pa->n_series; ++s) {
            double y = top + 4 + row * (s + 0.5);
            legend_entry_sample(cr, &pa->series[s], lx0 + 6, y, 22);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            plot_text(cr, pa->series[s].label, lx0 + 34, y, small, 0, PLOT_ALIGN_START,
                      PLOT_ALIGN_CENTER, 0);
        }
    }
    (void)th;
    pa->drawn = 1;
    return LP_STATUS_OK;
}

lp_status lp_plot_save_png(lp_plot *p, const char *path) {
    static const char fn[] = "lp_plot_save_png";
    if (!p || !path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "plot or path is NULL");
    cairo_surface_t *s = NULL;
    lp_status st = plot_surface_new(p->w, p->h, fn, &s);
    if (st) return st;
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double top = 0;
    if (p->title[0]) {
        double th;
        plot_text_extent(cr, p->title, 16, 1, NULL, &th);
        cairo_set_source_rgb(cr, 0, 0, 0);
        plot_text(cr, p->title, p->w / 2.0, 8, 16, 1, PLOT_ALIGN_CENTER, PLOT_ALIGN_START, 0);
        top = th + 12;
    }
    const double cw = (double)p->w / p->cols, ch = (p->h - top) / p->rows;
    double widths[64][2] = {{0, 0}}; /* per column */
    for (int pass = 1; pass >= 0; --pass)
        for (int i = 0; i < p->rows * p->cols && !st; ++i) {
            if (!p->panels[i].set_up) continue;
            st = draw_panel(cr, &p->panels[i], i, (i % p->cols) * cw, top + (i / p->cols) * ch, cw,
                            ch, widths[i % p->cols], pass);
        }
    cairo_destroy(cr);
    if (!st) st = plot_surface_save_png(s, path);
    cairo_surface_destroy(s);
    return lp_error_prefix(st, fn);
}
