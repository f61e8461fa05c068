/* plot_surface.c: RGB u8 buffers <-> cairo RGB24 surfaces, and PNG output
 * through the engine's writer (lp_image_write_png: temp file + rename). */
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "plot_internal.h"

void plot_rgb_to_surface(const uint8_t *rgb, int64_t stride, cairo_surface_t *s) {
    cairo_surface_flush(s);
    const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    const int sstride = cairo_image_surface_get_stride(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; ++y) {
        const uint8_t *src = rgb + (size_t)y * (size_t)stride;
        uint32_t *dst = (uint32_t *)(data + (size_t)y * sstride);
        for (int x = 0; x < w; ++x)
            dst[x] = 0xff000000u | (uint32_t)src[3 * x] << 16 | (uint32_t)src[3 * x + 1] << 8 |
                     src[3 * x + 2];
    }
    cairo_surface_mark_dirty(s);
}

void plot_surface_to_rgb(cairo_surface_t *s, uint8_t *rgb) {
    cairo_surface_flush(s);
    const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    const int sstride = cairo_image_surface_get_stride(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; ++y) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * sstride);
        uint8_t *dst = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; ++x) {
            dst[3 * x] = (uint8_t)(src[x] >> 16);
            dst[3 * x + 1] = (uint8_t)(src[x] >> 8);
            dst[3 * x + 2] = (uint8_t)src[x];
        }
    }
}

lp_status plot_surface_new(int w, int h, const char *fn, cairo_surface_t **out) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return lp_errorf(LP_STATUS_OOM, fn, "cannot make a %dx%d drawing surface", w, h);
    }
    *out = s;
    return LP_STATUS_OK;
}

lp_status plot_surface_save_png(cairo_surface_t *s, const char *path) {
    const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) { /* the caller names itself (lp_error_prefix) */
        char msg[64];
        snprintf(msg, sizeof msg, "out of memory for a %dx%d image", w, h);
        return lp_set_error(LP_STATUS_OOM, msg);
    }
    plot_surface_to_rgb(s, rgb);
    lp_status st = lp_image_write_png(path, rgb, w, h, 3, (int64_t)w * 3);
    free(rgb);
    return st;
}
