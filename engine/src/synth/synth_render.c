/* synth_render.c: draw one synthetic frame: a periodic value-noise background
 * that drifts slowly and changes brightness, the animal as shaded capsules
 * between consecutive keypoints (anti-aliased edges), opaque occluders
 * textured like the background, then Gaussian-like pixel noise. Grey
 * content, written as RGB with R = G = B. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "synth_internal.h"

static double smooth(double t) { return t * t * (3 - 2 * t); }

lp_status lps_texture_init(const lps_video *v, lps_texture *t) {
    const lp_synth_params *p = v->p;
    t->w = (p->width + 31) / 32 * 32;
    t->h = (p->height + 31) / 32 * 32;
    size_t n = (size_t)t->w * (size_t)t->h;
    if (!(t->v = calloc(n, sizeof *t->v)))
        return lp_errorf(LP_STATUS_OOM, "lp_synth_generate", "out of memory");
    static const int cell[4] = {32, 16, 8, 4};
    static const double amp[4] = {38, 18, 9, 5};
    uint64_t rng = lps_seed(p->seed, (uint64_t)v->idx_video, 0, 4);
    for (int i = 0; i < (int)n; i++) t->v[i] = 95;
    for (int o = 0; o < 4; o++) {
        int c = cell[o], gw = t->w / c, gh = t->h / c;
        float *lat = malloc(sizeof *lat * (size_t)gw * (size_t)gh);
        if (!lat) {
            lps_texture_free(t);
            return lp_errorf(LP_STATUS_OOM, "lp_synth_generate", "out of memory");
        }
        for (int i = 0; i < gw * gh; i++) lat[i] = (float)lps_range(&rng, -1, 1);
        for (int y = 0; y < t->h; y++) {
            int gy = y / c, gy1 = (gy + 1) % gh;
            double fy = smooth((y % c + 0.5) / c);
            for (int x = 0; x < t->w; x++) {
                int gx = x / c, gx1 = (gx + 1) % gw;
                double fx = smooth((x % c + 0.5) / c);
                double a = lat[gy * gw + gx] + (lat[gy * gw + gx1] - lat[gy * gw + gx]) * fx;
                double b = lat[gy1 * gw + gx] + (lat[gy1 * gw + gx1] - lat[gy1 * gw + gx]) * fx;
                t->v[(size_t)y * t->w + x] += (float)(amp[o] * (a + (b - a) * fy));
            }
        }
        free(lat);
    }
    return LP_STATUS_OK;
}

void lps_texture_free(lps_texture *t) {
    free(t->v);
    t->v = NULL;
}

/* Bilinear sample of the periodic texture. */
static double tex_at(const lps_texture *t, double x, double y) {
    double fx = floor(x), fy = floor(y);
    int x0 = (int)fx, y0 = (int)fy;
    double ax = x - fx, ay = y - fy;
    x0 %= t->w;
    if (x0 < 0) x0 += t->w;
    y0 %= t->h;
    if (y0 < 0) y0 += t->h;
    int x1 = (x0 + 1) % t->w, y1 = (y0 + 1) % t->h;
    const float *r0 = t->v + (size_t)y0 * t->w, *r1 = t->v + (size_t)y1 * t->w;
    double a = r0[x0] + (r0[x1] - r0[x0]) * ax, b = r1[x0] + (r1[x1] - r1[x0]) * ax;
    return a + (b - a) * ay;
}

void lps_render(const lps_video *v, const lps_texture *tex, int64_t f, const double *xy,
                uint8_t *rgb) {
    const lp_synth_params *p = v->p;
    int W = p->width, H = p->height, K = v->n_kp;
    double t = (double)f / p->fps;
    double dx = lps_wave_at(&v->bg_dx, t), dy = lps_wave_at(&v->bg_dy, t);
    double gain = 1 + lps_wave_at(&v->bg_gain, t);
    double occ_cx[64], occ_cy[64];
    const lps_occluder *occ[64];
    int n_occ = 0;
    for (int i = 0; i < v->n_occ && n_occ < 64; i++)
        if (lps_occluder_at(&v->occ[i], f, &occ_cx[n_occ], &occ_cy[n_occ])) occ[n_occ++] = &v->occ[i];
    uint64_t rng = lps_seed(p->seed, (uint64_t)v->idx_video, (uint64_t)f + 1, 3);
    double sigma = p->noise_sigma * 1.7320508075688772 / 2; /* 4 uniforms: variance 4/12 */
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double val = (tex_at(tex, x + dx, y + dy) + 12.0 * ((double)x / W - 0.5)) * gain;
            /* The animal: the capsule the pixel is deepest inside wins. */
            double best_in = -1e30, best_val = 0;
            for (int k = 0; k < K - 1; k++) {
                double ax = xy[2 * k], ay = xy[2 * k + 1], bx = xy[2 * k + 2], by = xy[2 * k + 3];
                double r0 = v->radius[k], r1 = v->radius[k + 1], rm = r0 > r1 ? r0 : r1;
                if (x < (ax < bx ? ax : bx) - rm - 1 || x > (ax > bx ? ax : bx) + rm + 1 ||
                    y < (ay < by ? ay : by) - rm - 1 || y > (ay > by ? ay : by) + rm + 1)
                    continue;
                double ex = bx - ax, ey = by - ay, len2 = ex * ex + ey * ey;
                double u = len2 > 0 ? ((x - ax) * ex + (y - ay) * ey) / len2 : 0;
                u = u < 0 ? 0 : u > 1 ? 1 : u;
                double px = ax + u * ex - x, py = ay + u * ey - y, d = sqrt(px * px + py * py);
                double r = r0 + (r1 - r0) * u, in = r - d;
                if (in <= -0.5 || in <= best_in) continue;
                best_in = in;
                double q = d / r, h = q < 1 ? sqrt(1 - q * q) : 0;
                /* Light from the upper left: brighter on that side of the axis. */
                double side = r > 0 ? (px + py) / (1.41421356 * r) : 0;
                best_val = v->tone[k] * (0.55 + 0.35 * h + 0.10 * side);
            }
            if (best_in > -0.5) {
                double c = best_in + 0.5;
                c = c > 1 ? 1 : c;
                val = val * (1 - c) + best_val * c;
            }
            for (int i = 0; i < n_occ; i++) {
                double c = lps_occluder_cover(occ[i], occ_cx[i], occ_cy[i], x, y);
                if (c <= 0) continue;
                double ov = 0.9 * tex_at(tex, x - occ_cx[i] + occ[i]->tex_dx,
                                         y - occ_cy[i] + occ[i]->tex_dy) * gain;
                val = val * (1 - c) + ov * c;
            }
            if (sigma > 0) {
                uint64_t r = lps_next(&rng);
                double g = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) +
                           (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
                val += sigma * (g / 65536.0 - 2.0) * 2;
            }
            int iv = (int)floor(val + 0.5);
            uint8_t b = (uint8_t)(iv < 0 ? 0 : iv > 255 ? 255 : iv);
            uint8_t *px = rgb + ((size_t)y * W + x) * 3;
            px[0] = px[1] = px[2] = b;
        }
    }
}
