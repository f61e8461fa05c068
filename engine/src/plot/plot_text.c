/* plot_text.c: text through pango on a cairo context. One family ("DejaVu
 * Sans", fontconfig's fallback otherwise), so plots look the same wherever
 * fonts-dejavu-core is installed (make deps). */
#include <pango/pangocairo.h>

#include "plot_internal.h"

static PangoLayout *layout_for(cairo_t *cr, const char *text, double size, int bold) {
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *font = pango_font_description_new();
    pango_font_description_set_family(font, "DejaVu Sans");
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_text(layout, text ? text : "", -1);
    return layout;
}

void plot_text_extent(cairo_t *cr, const char *text, double size, int bold, double *w,
                      double *h) {
    PangoLayout *layout = layout_for(cr, text, size, bold);
    int pw, ph;
    pango_layout_get_pixel_size(layout, &pw, &ph);
    g_object_unref(layout);
    if (w) *w = pw;
    if (h) *h = ph;
}

void plot_text(cairo_t *cr, const char *text, double x, double y, double size, int bold,
               int halign, int valign, double angle) {
    if (!text || !*text) return;
    PangoLayout *layout = layout_for(cr, text, size, bold);
    int pw, ph;
    pango_layout_get_pixel_size(layout, &pw, &ph);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -pw * 0.5 * halign, -ph * 0.5 * valign);
    pango_cairo_show_layout(cr, layout);
    cairo_restore(cr);
    g_object_unref(layout);
}
