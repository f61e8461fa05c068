/* plot_color.c: the palettes. Series use matplotlib's tab10 values (a
 * qualitative palette made for telling lines apart); keypoints use tab10,
 * then tab20's light shades, then evenly spaced hues. */
#include <math.h>

#include "plot_internal.h"

static const unsigned tab10[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
static const unsigned tab20_light[10] = {0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5,
                                         0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5};

static void hex_rgb(unsigned c, double rgb[3]) {
    rgb[0] = ((c >> 16) & 255) / 255.0;
    rgb[1] = ((c >> 8) & 255) / 255.0;
    rgb[2] = (c & 255) / 255.0;
}

void plot_palette(int i, double rgb[3]) { hex_rgb(tab10[((i % 10) + 10) % 10], rgb); }

void plot_keypoint_color(int k, int K, double rgb[3]) {
    if (K <= 20) {
        hex_rgb(k < 10 ? tab10[k] : tab20_light[k - 10], rgb);
        return;
    }
    /* HSV with s = 0.8, v = 0.95 around the wheel */
    double hue = 6.0 * k / K, f = hue - floor(hue), v = 0.95, p = v * 0.2, q = v * (1 - 0.8 * f),
           t = v * (1 - 0.8 * (1 - f));
    switch ((int)floor(hue) % 6) {
    case 0: rgb[0] = v, rgb[1] = t, rgb[2] = p; break;
    case 1: rgb[0] = q, rgb[1] = v, rgb[2] = p; break;
    case 2: rgb[0] = p, rgb[1] = v, rgb[2] = t; break;
    case 3: rgb[0] = p, rgb[1] = q, rgb[2] = v; break;
    case 4: rgb[0] = t, rgb[1] = p, rgb[2] = v; break;
    default: rgb[0] = v, rgb[1] = p, rgb[2] = q; break;
    }
}

void plot_set_rgb(cairo_t *cr, const double rgb[3]) {
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
}

/* viridis at 9 stops (matplotlib's values), linearly interpolated */
static const unsigned viridis[9] = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c,
                                    0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};

lp_status lp_plot_colormap(const float *values, int64_t n, double vmin, double vmax,
                           uint8_t *out_rgb) {
    if (!values || !out_rgb || n < 0)
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_plot_colormap: NULL buffer or negative count");
    if (!isfinite(vmin) || !isfinite(vmax) || vmax < vmin)
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_plot_colormap: need finite vmin <= vmax");
    const double span = vmax > vmin ? vmax - vmin : 1.0;
    for (int64_t i = 0; i < n; ++i) {
        uint8_t *o = out_rgb + 3 * i;
        double v = values[i];
        if (isnan(v)) {
            o[0] = o[1] = o[2] = 0;
            continue;
        }
        double t = (v - vmin) / span;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double pos = t * 8;
        int j = pos >= 8 ? 7 : (int)pos;
        double a = pos - j;
        for (int c = 0; c < 3; ++c) {
            int shift = 16 - 8 * c;
            double lo = (viridis[j] >> shift) & 255, hi = (viridis[j + 1] >> shift) & 255;
            o[c] = (uint8_t)lround(lo + (hi - lo) * a);
        }
    }
    return LP_STATUS_OK;
}
