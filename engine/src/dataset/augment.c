/* augment.c: LP's imgaug presets (docs/spec/lp-data-train.md §2) in C on uint8 RGB.
 *
 * One call = one sample: the parameters of every op are drawn once from a
 * private PRNG seeded with the call's seed, then applied identically to all
 * frames of the stack (context frames) and to the keypoints. Distributions
 * follow imgaug 0.4 defaults; exact RNG parity with imgaug is not a goal.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_internal.h"
#include "core/error.h"
#include "lpose.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------------ PRNG */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void lpa_rng_seed(lpa_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; ++i) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lpa_rng_next(lpa_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lpa_rng_u01(lpa_rng *r) { return (double)(lpa_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t lpa_mix(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ rotl(b, 21) ^ rotl(c * 0xbf58476d1ce4e5b9ULL, 42);
    (void)splitmix64(&x);
    return splitmix64(&x);
}

static double uniform(lpa_rng *r, double a, double b) { return a + (b - a) * lpa_rng_u01(r); }
static int randint(lpa_rng *r, int lo, int hi) { /* inclusive */
    return lo + (int)(lpa_rng_u01(r) * (hi - lo + 1));
}

static inline uint8_t clip_u8(float v) { /* round half up, saturate (NaN -> 0) */
    if (!(v > 0)) return 0;
    if (v >= 254.5f) return 255;
    return (uint8_t)(int)(v + 0.5f);
}

/* ------------------------------------------------------------------ resize */

static void cubic_coeffs(double t, float w[4]) {
    const double A = -0.75;
    double x0 = t + 1, x1 = t, x2 = 1 - t;
    w[0] = (float)(((A * x0 - 5 * A) * x0 + 8 * A) * x0 - 4 * A);
    w[1] = (float)(((A + 2) * x1 - (A + 3)) * x1 * x1 + 1);
    w[2] = (float)(((A + 2) * x2 - (A + 3)) * x2 * x2 + 1);
    w[3] = 1.0f - w[0] - w[1] - w[2];
}

void lpa_resize_cubic(const uint8_t *in, int ih, int iw, uint8_t *out, int oh, int ow) {
    if (ih == oh && iw == ow) {
        memcpy(out, in, (size_t)ih * iw * 3);
        return;
    }
    int *xo = malloc(sizeof(int) * 4 * (size_t)ow);
    float *xw = malloc(sizeof(float) * 4 * (size_t)ow);
    float *tmp = malloc(sizeof(float) * (size_t)ih * ow * 3);
    if (!xo || !xw || !tmp) { /* tiny allocations: fall back to nearest */
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x)
                memcpy(out + ((size_t)y * ow + x) * 3, in + ((size_t)(y * ih / oh) * iw + x * iw / ow) * 3, 3);
        free(xo), free(xw), free(tmp);
        return;
    }
    double sx = (double)iw / ow, sy = (double)ih / oh;
    for (int x = 0; x < ow; ++x) {
        double f = (x + 0.5) * sx - 0.5;
        int i = (int)floor(f);
        cubic_coeffs(f - i, xw + 4 * x);
        for (int k = 0; k < 4; ++k) {
            int j = i - 1 + k;
            xo[4 * x + k] = (j < 0 ? 0 : j >= iw ? iw - 1 : j) * 3;
        }
    }
    for (int y = 0; y < ih; ++y) {
        const uint8_t *row = in + (size_t)y * iw * 3;
        float *t = tmp + (size_t)y * ow * 3;
        for (int x = 0; x < ow; ++x) {
            const int *o = xo + 4 * x;
            const float *w = xw + 4 * x;
            for (int c = 0; c < 3; ++c)
                t[3 * x + c] = w[0] * row[o[0] + c] + w[1] * row[o[1] + c] + w[2] * row[o[2] + c] +
                               w[3] * row[o[3] + c];
        }
    }
    for (int y = 0; y < oh; ++y) {
        double f = (y + 0.5) * sy - 0.5;
        int i = (int)floor(f);
        float w[4];
        const float *r[4];
        cubic_coeffs(f - i, w);
        for (int k = 0; k < 4; ++k) {
            int j = i - 1 + k;
            r[k] = tmp + (size_t)(j < 0 ? 0 : j >= ih ? ih - 1 : j) * ow * 3;
        }
        uint8_t *o = out + (size_t)y * ow * 3;
        for (int x = 0; x < ow * 3; ++x) o[x] = clip_u8(w[0] * r[0][x] + w[1] * r[1][x] + w[2] * r[2][x] + w[3] * r[3][x]);
    }
    free(xo), free(xw), free(tmp);
}

void lp_image_normalize_chw(const uint8_t *rgb, int32_t height, int32_t width, float *out) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    if (!rgb || !out) return;
    int64_t plane = (int64_t)height * width;
    for (int c = 0; c < 3; ++c) {
        float a = 1.0f / (255.0f * std[c]), b = -mean[c] / std[c];
        float *o = out + c * plane;
        for (int64_t i = 0; i < plane; ++i) o[i] = rgb[3 * i + c] * a + b;
    }
}

/* ------------------------------------------------------------------ pipeline */

enum op_kind {
    OP_ROT90,
    OP_AFFINE,
    OP_MOTION_BLUR,
    OP_DROPOUT,
    OP_SALT,
    OP_PEPPER,
    OP_ELASTIC,
    OP_HISTEQ,
    OP_CLAHE,
    OP_EMBOSS,
    OP_CROP_PAD,
};

static const char *op_names[] = {"Rot90",
                                 "Affine",
                                 "MotionBlur",
                                 "CoarseDropout",
                                 "CoarseSalt",
                                 "CoarsePepper",
                                 "ElasticTransformation",
                                 "AllChannelsHistogramEqualization",
                                 "AllChannelsCLAHE",
                                 "Emboss",
                                 "CropAndPad"};

struct lp_augment {
    int n_ops;
    struct {
        int kind;
        double p;
    } ops[16];
    int rot90_k[4], n_rot90;
    char desc[320];
};

/* A stack of n frames of h x w x 3 bytes. */
typedef struct {
    uint8_t *data;
    int n, h, w;
} stack_t_;

static size_t frame_bytes(const stack_t_ *s) { return (size_t)s->h * s->w * 3; }

static int stack_alloc(stack_t_ *s, int n, int h, int w) {
    s->n = n, s->h = h, s->w = w;
    s->data = malloc((size_t)n * h * w * 3 + 1);
    return s->data != NULL;
}

static void add_op(lp_augment *a, int kind, double p) {
    a->ops[a->n_ops].kind = kind;
    a->ops[a->n_ops].p = p;
    a->n_ops++;
    size_t len = strlen(a->desc);
    snprintf(a->desc + len, sizeof a->desc - len, "%s%s", len ? "," : "", op_names[kind]);
}

lp_status lp_augment_open(const char *preset, lp_augment **out) {
    const char *fn = "lp_augment_open";
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    if (!preset) preset = "default";
    lp_augment *a = calloc(1, sizeof *a);
    if (!a) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    int dlc = 0;
    if (!strcmp(preset, "none") || !strcmp(preset, "default")) {
    } else if (!strcmp(preset, "dlc")) {
        dlc = 1;
    } else if (!strcmp(preset, "dlc-lr")) {
        dlc = 1;
        a->rot90_k[0] = 0, a->rot90_k[1] = 2, a->n_rot90 = 2;
        add_op(a, OP_ROT90, 1.0);
    } else if (!strcmp(preset, "dlc-top-down")) {
        dlc = 1;
        for (int k = 0; k < 4; ++k) a->rot90_k[k] = k;
        a->n_rot90 = 4;
        add_op(a, OP_ROT90, 1.0);
    } else { /* a custom list "Name[=p],..." of the ops above (LP's dict form; p defaults to 0.5) */
        const char *q = preset;
        while (*q) {
            size_t len = strcspn(q, "=,");
            int kind = -1;
            for (int i = 0; i < (int)(sizeof op_names / sizeof *op_names); ++i)
                if (strlen(op_names[i]) == len && !strncmp(op_names[i], q, len)) kind = i;
            double prob = 0.5;
            q += len;
            if (*q == '=') {
                char *end = NULL;
                prob = strtod(q + 1, &end);
                if (end == q + 1) kind = -1;
                q = end;
            }
            if (kind < 0 || (*q && *q != ',') || a->n_ops >= 16) {
                free(a);
                return lp_errorf(LP_STATUS_BAD_ARG, fn,
                                 "unknown imgaug preset '%s' (expected none, default, dlc, dlc-lr, dlc-top-down, "
                                 "or a list like 'Affine=0.4,CropAndPad=0.4' of imgaug class names)", preset);
            }
            if (kind == OP_ROT90) {
                for (int k = 0; k < 4; ++k) a->rot90_k[k] = k;
                a->n_rot90 = 4;
            }
            if (prob > 0) add_op(a, kind, prob);
            if (*q == ',') ++q;
        }
    }
    if (dlc) {
        add_op(a, OP_AFFINE, 0.4);
        add_op(a, OP_MOTION_BLUR, 0.5);
        add_op(a, OP_DROPOUT, 0.5);
        add_op(a, OP_SALT, 0.5);
        add_op(a, OP_PEPPER, 0.5);
        add_op(a, OP_ELASTIC, 0.5);
        add_op(a, OP_HISTEQ, 0.1);
        add_op(a, OP_CLAHE, 0.1);
        add_op(a, OP_EMBOSS, 0.1);
        add_op(a, OP_CROP_PAD, 0.4);
    }
    *out = a;
    return LP_STATUS_OK;
}

void lp_augment_free(lp_augment *aug) { free(aug); }

const char *lp_augment_describe(const lp_augment *aug) { return aug ? aug->desc : ""; }

/* ---- geometric ops (src -> dst; dst allocated here) */

/* Bilinear sample of an RGB image at (xs, ys), cval 0 outside. */
static inline void sample_bilinear(const uint8_t *in, int h, int w, float xs, float ys, uint8_t *q) {
    float fx = floorf(xs), fy = floorf(ys);
    int x0 = (int)fx, y0 = (int)fy;
    float ax = xs - fx, ay = ys - fy;
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const uint8_t *p = in + ((size_t)y0 * w + x0) * 3, *pd = p + (size_t)w * 3;
        float w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
        for (int c = 0; c < 3; ++c) q[c] = clip_u8(w00 * p[c] + w01 * p[3 + c] + w10 * pd[c] + w11 * pd[3 + c]);
        return;
    }
    if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        q[0] = q[1] = q[2] = 0;
        return;
    }
    float acc[3] = {0, 0, 0};
    for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i) {
            int xi = x0 + i, yj = y0 + j;
            if (xi < 0 || yj < 0 || xi >= w || yj >= h) continue;
            float wt = (i ? ax : 1 - ax) * (j ? ay : 1 - ay);
            const uint8_t *p = in + ((size_t)yj * w + xi) * 3;
            acc[0] += wt * p[0], acc[1] += wt * p[1], acc[2] += wt * p[2];
        }
    q[0] = clip_u8(acc[0]), q[1] = clip_u8(acc[1]), q[2] = clip_u8(acc[2]);
}

/* Rotate about (w/2-0.5, h/2-0.5) by `deg` (imgaug Affine: order 1, cval 0). */
static int op_affine(const stack_t_ *src, stack_t_ *dst, double deg, float *kp, int nk) {
    if (!stack_alloc(dst, src->n, src->h, src->w)) return 0;
    int h = src->h, w = src->w;
    double th = deg * M_PI / 180.0, c = cos(th), s = sin(th);
    double cx = w / 2.0 - 0.5, cy = h / 2.0 - 0.5;
    for (int f = 0; f < src->n; ++f) {
        const uint8_t *in = src->data + f * frame_bytes(src);
        uint8_t *o = dst->data + f * frame_bytes(dst);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                float dx = (float)(x - cx), dy = (float)(y - cy); /* inverse rotation */
                sample_bilinear(in, h, w, (float)(cx + c * dx + s * dy), (float)(cy - s * dx + c * dy),
                                o + ((size_t)y * w + x) * 3);
            }
    }
    for (int k = 0; k < nk; ++k) {
        double dx = kp[2 * k] - cx, dy = kp[2 * k + 1] - cy;
        kp[2 * k] = (float)(cx + c * dx - s * dy);
        kp[2 * k + 1] = (float)(cy + s * dx + c * dy);
    }
    return 1;
}

/* Rot90 clockwise k times, then keep_size (cubic resize back). */
static int op_rot90(const stack_t_ *src, stack_t_ *dst, int k, float *kp, int nk) {
    int h = src->h, w = src->w;
    k &= 3;
    int nh = (k & 1) ? w : h, nw = (k & 1) ? h : w;
    stack_t_ tmp;
    if (!stack_alloc(&tmp, src->n, nh, nw)) return 0;
    for (int f = 0; f < src->n; ++f) {
        const uint8_t *in = src->data + f * frame_bytes(src);
        uint8_t *o = tmp.data + f * frame_bytes(&tmp);
        for (int y = 0; y < nh; ++y)
            for (int x = 0; x < nw; ++x) {
                int xs, ys;
                if (k == 0) xs = x, ys = y;
                else if (k == 1) xs = y, ys = h - 1 - x;
                else if (k == 2) xs = w - 1 - x, ys = h - 1 - y;
                else xs = w - 1 - y, ys = x;
                memcpy(o + ((size_t)y * nw + x) * 3, in + ((size_t)ys * w + xs) * 3, 3);
            }
    }
    for (int i = 0; i < nk; ++i) {
        double x = kp[2 * i], y = kp[2 * i + 1], xn = x, yn = y;
        if (k == 1) xn = h - y, yn = x;
        else if (k == 2) xn = w - x, yn = h - y;
        else if (k == 3) xn = y, yn = w - x;
        kp[2 * i] = (float)xn, kp[2 * i + 1] = (float)yn;
    }
    if (nh == h && nw == w) {
        *dst = tmp;
        return 1;
    }
    if (!stack_alloc(dst, src->n, h, w)) {
        free(tmp.data);
        return 0;
    }
    for (int f = 0; f < src->n; ++f)
        lpa_resize_cubic(tmp.data + f * frame_bytes(&tmp), nh, nw, dst->data + f * frame_bytes(dst), h, w);
    for (int i = 0; i < nk; ++i) {
        kp[2 * i] = (float)(kp[2 * i] * (double)w / nw);
        kp[2 * i + 1] = (float)(kp[2 * i + 1] * (double)h / nh);
    }
    free(tmp.data);
    return 1;
}

/* CropAndPad with per-side pixel amounts (positive pad with 0, negative crop). */
static int op_crop_pad(const stack_t_ *src, stack_t_ *dst, int top, int right, int bottom, int left, float *kp,
                       int nk) {
    int h = src->h, w = src->w;
    /* keep at least one pixel (imgaug limits crops the same way) */
    while (h + top + bottom < 1) {
        if (top < 0) ++top;
        if (h + top + bottom < 1 && bottom < 0) ++bottom;
    }
    while (w + left + right < 1) {
        if (left < 0) ++left;
        if (w + left + right < 1 && right < 0) ++right;
    }
    int nh = h + top + bottom, nw = w + left + right;
    if (!stack_alloc(dst, src->n, nh, nw)) return 0;
    memset(dst->data, 0, (size_t)src->n * nh * nw * 3);
    for (int f = 0; f < src->n; ++f) {
        const uint8_t *in = src->data + f * frame_bytes(src);
        uint8_t *o = dst->data + f * frame_bytes(dst);
        for (int y = 0; y < nh; ++y) {
            int ys = y - top;
            if (ys < 0 || ys >= h) continue;
            int x0 = left > 0 ? left : 0, xs0 = x0 - left;
            int n = w - xs0;
            if (n > nw - x0) n = nw - x0;
            if (n > 0) memcpy(o + ((size_t)y * nw + x0) * 3, in + ((size_t)ys * w + xs0) * 3, (size_t)n * 3);
        }
    }
    for (int i = 0; i < nk; ++i) kp[2 * i] += (float)left, kp[2 * i + 1] += (float)top;
    return 1;
}

/* Separable Gaussian blur of a float field (reflect border), in place. */
static int gauss_blur(float *f, int h, int w, double sigma) {
    int r = (int)ceil(4 * sigma);
    float *k = malloc(sizeof(float) * (2 * r + 1));
    float *tmp = malloc(sizeof(float) * (size_t)h * w);
    if (!k || !tmp) {
        free(k), free(tmp);
        return 0;
    }
    double sum = 0;
    for (int i = -r; i <= r; ++i) sum += k[i + r] = (float)exp(-i * i / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; ++i) k[i] /= (float)sum;
#define REFL(j, n) ((j) < 0 ? (-(j)-1 < (n) ? -(j)-1 : 0) : (j) >= (n) ? (2 * (n) - (j)-1 >= 0 ? 2 * (n) - (j)-1 : (n)-1) : (j))
    for (int y = 0; y < h; ++y) {
        const float *row = f + (size_t)y * w;
        for (int x = 0; x < w; ++x) {
            float acc = 0;
            if (x >= r && x < w - r)
                for (int i = -r; i <= r; ++i) acc += k[i + r] * row[x + i];
            else
                for (int i = -r; i <= r; ++i) acc += k[i + r] * row[REFL(x + i, w)];
            tmp[(size_t)y * w + x] = acc;
        }
    }
    for (int y = 0; y < h; ++y) { /* row-wise accumulation: contiguous inner loop */
        float *o = f + (size_t)y * w;
        for (int x = 0; x < w; ++x) o[x] = 0;
        for (int i = -r; i <= r; ++i) {
            const float *src = tmp + (size_t)REFL(y + i, h) * w;
            float kv = k[i + r];
            for (int x = 0; x < w; ++x) o[x] += kv * src[x];
        }
    }
#undef REFL
    free(k), free(tmp);
    return 1;
}

static double bilinear_f(const float *f, int h, int w, double x, double y) {
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > w - 1) x = w - 1;
    if (y > h - 1) y = h - 1;
    int x0 = (int)x, y0 = (int)y, x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    double ax = x - x0, ay = y - y0;
    return (1 - ay) * ((1 - ax) * f[(size_t)y0 * w + x0] + ax * f[(size_t)y0 * w + x1]) +
           ay * ((1 - ax) * f[(size_t)y1 * w + x0] + ax * f[(size_t)y1 * w + x1]);
}

/* ElasticTransformation(alpha, sigma): smoothed U(-1,1) displacement times
 * alpha; out(p) = in(p + d(p)) (bilinear, cval 0); keypoints solve
 * q + d(q) = p by fixed-point iteration. */
static int op_elastic(const stack_t_ *src, stack_t_ *dst, double alpha, double sigma, lpa_rng *r, float *kp,
                      int nk) {
    int h = src->h, w = src->w;
    size_t np = (size_t)h * w;
    float *dx = malloc(sizeof(float) * np * 2);
    if (!dx) return 0;
    float *dy = dx + np;
    for (size_t i = 0; i < 2 * np; ++i) dx[i] = (float)uniform(r, -1, 1);
    if (!gauss_blur(dx, h, w, sigma) || !gauss_blur(dy, h, w, sigma) || !stack_alloc(dst, src->n, h, w)) {
        free(dx);
        return 0;
    }
    for (size_t i = 0; i < 2 * np; ++i) dx[i] *= (float)alpha;
    for (int f = 0; f < src->n; ++f) {
        const uint8_t *in = src->data + f * frame_bytes(src);
        uint8_t *o = dst->data + f * frame_bytes(dst);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                size_t idx = (size_t)y * w + x;
                sample_bilinear(in, h, w, x + dx[idx], y + dy[idx], o + idx * 3);
            }
    }
    for (int i = 0; i < nk; ++i) {
        double px = kp[2 * i], py = kp[2 * i + 1];
        if (isnan(px) || isnan(py)) continue;
        double qx = px, qy = py;
        for (int it = 0; it < 5; ++it) {
            double ddx = bilinear_f(dx, h, w, qx, qy), ddy = bilinear_f(dy, h, w, qx, qy);
            qx = px - ddx, qy = py - ddy;
        }
        kp[2 * i] = (float)qx, kp[2 * i + 1] = (float)qy;
    }
    free(dx);
    return 1;
}

/* ---- photometric ops (in place) */

/* 2D convolution with an odd ks x ks kernel, BORDER_REFLECT_101, saturated.
 * Only the nonzero taps are visited; interior pixels skip the border logic. */
static int convolve(stack_t_ *s, const double *kern, int ks) {
    int h = s->h, w = s->w, r = ks / 2, nt = 0;
    int tdx[81], tdy[81];
    float tw[81];
    for (int j = 0; j < ks; ++j)
        for (int i = 0; i < ks; ++i)
            if (kern[j * ks + i] != 0 && nt < 81) tdy[nt] = j - r, tdx[nt] = i - r, tw[nt++] = (float)kern[j * ks + i];
    uint8_t *tmp = malloc(frame_bytes(s));
    if (!tmp) return 0;
#define R101(j, n) ((n) == 1 ? 0 : (j) < 0 ? -(j) : (j) >= (n) ? 2 * (n) - (j)-2 : (j))
    for (int f = 0; f < s->n; ++f) {
        uint8_t *img = s->data + f * frame_bytes(s);
        memcpy(tmp, img, frame_bytes(s));
        for (int y = 0; y < h; ++y) {
            int inner_y = y >= r && y < h - r;
            for (int x = 0; x < w; ++x) {
                float a0 = 0, a1 = 0, a2 = 0;
                if (inner_y && x >= r && x < w - r) {
                    const uint8_t *c = tmp + ((size_t)y * w + x) * 3;
                    for (int t = 0; t < nt; ++t) {
                        const uint8_t *p = c + ((ptrdiff_t)tdy[t] * w + tdx[t]) * 3;
                        a0 += tw[t] * p[0], a1 += tw[t] * p[1], a2 += tw[t] * p[2];
                    }
                } else {
                    for (int t = 0; t < nt; ++t) {
                        int yy = R101(y + tdy[t], h), xx = R101(x + tdx[t], w);
                        yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
                        xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                        const uint8_t *p = tmp + ((size_t)yy * w + xx) * 3;
                        a0 += tw[t] * p[0], a1 += tw[t] * p[1], a2 += tw[t] * p[2];
                    }
                }
                uint8_t *q = img + ((size_t)y * w + x) * 3;
                q[0] = clip_u8(a0), q[1] = clip_u8(a1), q[2] = clip_u8(a2);
            }
        }
    }
#undef R101
    free(tmp);
    return 1;
}

/* imgaug MotionBlur(k, angle, direction): a vertical line of weights
 * linspace(d, 1-d) with d = (direction+1)/2, rotated by angle (bilinear,
 * through uint8 as imgaug does), normalised to sum 1. */
static int op_motion_blur(stack_t_ *s, int k, double angle, double direction) {
    double d = (direction < -1 ? -1 : direction > 1 ? 1 : direction) + 1;
    d /= 2;
    double m[64] = {0}, kern[64] = {0};
    for (int i = 0; i < k; ++i) m[i * k + k / 2] = floor(255.0 * (d + (1 - 2 * d) * (k > 1 ? (double)i / (k - 1) : 0)));
    double th = angle * M_PI / 180.0, c = cos(th), sn = sin(th), ctr = k / 2.0 - 0.5, sum = 0;
    for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x) {
            double dx = x - ctr, dy = y - ctr, xs = ctr + c * dx + sn * dy, ys = ctr - sn * dx + c * dy;
            int x0 = (int)floor(xs), y0 = (int)floor(ys);
            double ax = xs - x0, ay = ys - y0, acc = 0;
            for (int j = 0; j < 2; ++j)
                for (int i = 0; i < 2; ++i) {
                    int xi = x0 + i, yj = y0 + j;
                    if (xi < 0 || yj < 0 || xi >= k || yj >= k) continue;
                    acc += (i ? ax : 1 - ax) * (j ? ay : 1 - ay) * m[yj * k + xi];
                }
            kern[y * k + x] = floor(acc + 0.5) / 255.0;
            sum += kern[y * k + x];
        }
    if (sum <= 0) return 1;
    for (int i = 0; i < k * k; ++i) kern[i] /= sum;
    return convolve(s, kern, k);
}

static int op_emboss(stack_t_ *s, double alpha, double strength) {
    double e[9] = {-1 - strength, -strength, 0, -strength, 1, strength, 0, strength, 1 + strength};
    double kern[9];
    for (int i = 0; i < 9; ++i) kern[i] = alpha * e[i] + (1 - alpha) * (i == 4 ? 1.0 : 0.0);
    return convolve(s, kern, 3);
}

/* A low-resolution binary mask (cells hit with probability p) upsampled
 * (nearest) to h x w: imgaug's FromLowerResolution(Binomial, size_percent). */
static uint8_t *coarse_mask(lpa_rng *r, int h, int w, double size_percent, double p) {
    int hs = (int)lrint(h * size_percent), ws = (int)lrint(w * size_percent);
    if (hs < 3) hs = 3;
    if (ws < 3) ws = 3;
    uint8_t *small = malloc((size_t)hs * ws), *m = malloc((size_t)h * w);
    if (!small || !m) {
        free(small), free(m);
        return NULL;
    }
    for (int i = 0; i < hs * ws; ++i) small[i] = lpa_rng_u01(r) < p;
    for (int y = 0; y < h; ++y) {
        int ys = (int)((int64_t)y * hs / h);
        for (int x = 0; x < w; ++x) m[(size_t)y * w + x] = small[ys * ws + (int)((int64_t)x * ws / w)];
    }
    free(small);
    return m;
}

/* CoarseDropout(p, size_percent, per_channel=0.5): zero the masked cells. */
static int op_dropout(stack_t_ *s, lpa_rng *r, double p, double size_percent, int per_channel) {
    int h = s->h, w = s->w;
    uint8_t *m[3] = {NULL, NULL, NULL};
    for (int c = 0; c < (per_channel ? 3 : 1); ++c)
        if (!(m[c] = coarse_mask(r, h, w, size_percent, p))) {
            free(m[0]), free(m[1]);
            return 0;
        }
    for (int f = 0; f < s->n; ++f) {
        uint8_t *img = s->data + f * frame_bytes(s);
        for (size_t i = 0; i < (size_t)h * w; ++i)
            for (int c = 0; c < 3; ++c)
                if (m[per_channel ? c : 0][i]) img[3 * i + c] = 0;
    }
    free(m[0]), free(m[1]), free(m[2]);
    return 1;
}

/* CoarseSalt / CoarsePepper(p, size_percent): masked pixels get a grey value
 * 255 * (0.5 +- |Beta(0.5, 0.5) - 0.5|) (near white for salt, near black
 * for pepper), one value per pixel shared by the frames. */
static int op_salt_pepper(stack_t_ *s, lpa_rng *r, double p, double size_percent, int salt) {
    int h = s->h, w = s->w;
    uint8_t *m = coarse_mask(r, h, w, size_percent, p);
    if (!m) return 0;
    uint8_t *val = malloc((size_t)h * w);
    if (!val) {
        free(m);
        return 0;
    }
    for (size_t i = 0; i < (size_t)h * w; ++i) {
        if (!m[i]) continue;
        double b = sin(M_PI / 2 * lpa_rng_u01(r));
        b = b * b; /* Beta(0.5, 0.5) (arcsine law) */
        double v = 0.5 + (salt ? 1 : -1) * fabs(b - 0.5);
        val[i] = clip_u8(255.0 * v);
    }
    for (int f = 0; f < s->n; ++f) {
        uint8_t *img = s->data + f * frame_bytes(s);
        for (size_t i = 0; i < (size_t)h * w; ++i)
            if (m[i]) img[3 * i] = img[3 * i + 1] = img[3 * i + 2] = val[i];
    }
    free(m), free(val);
    return 1;
}

/* cv2.equalizeHist on each channel of each frame. */
static void op_histeq(stack_t_ *s) {
    size_t np = (size_t)s->h * s->w;
    for (int f = 0; f < s->n; ++f) {
        uint8_t *img = s->data + f * frame_bytes(s);
        for (int c = 0; c < 3; ++c) {
            int64_t hist[256] = {0};
            uint8_t lut[256];
            for (size_t i = 0; i < np; ++i) hist[img[3 * i + c]]++;
            int i0 = 0;
            while (i0 < 255 && !hist[i0]) ++i0;
            if ((size_t)hist[i0] == np) {
                memset(lut, i0, sizeof lut);
            } else {
                double scale = 255.0 / (double)(np - hist[i0]);
                int64_t sum = 0;
                for (int i = 0; i <= i0; ++i) lut[i] = 0;
                for (int i = i0 + 1; i < 256; ++i) {
                    sum += hist[i];
                    lut[i] = clip_u8(sum * scale);
                }
            }
            for (size_t i = 0; i < np; ++i) img[3 * i + c] = lut[img[3 * i + c]];
        }
    }
}

/* OpenCV CLAHE (clip limit, tiles x tiles grid, bilinear between tile
 * LUTs) on each channel of each frame. */
static int op_clahe(stack_t_ *s, double clip_limit, int tiles) {
    int h = s->h, w = s->w;
    if (tiles > h) tiles = h;
    if (tiles > w) tiles = w;
    if (tiles < 1) tiles = 1;
    int th = (h + tiles - 1) / tiles, tw = (w + tiles - 1) / tiles;
    uint8_t *luts = malloc((size_t)tiles * tiles * 256);
    if (!luts) return 0;
    int64_t area = (int64_t)th * tw;
    int clip = (int)(clip_limit * area / 256.0);
    if (clip < 1) clip = 1;
    for (int f = 0; f < s->n; ++f) {
        uint8_t *img = s->data + f * frame_bytes(s);
        for (int c = 0; c < 3; ++c) {
            for (int ty = 0; ty < tiles; ++ty)
                for (int tx = 0; tx < tiles; ++tx) {
                    int64_t hist[256] = {0};
                    for (int y = ty * th; y < (ty + 1) * th; ++y)
                        for (int x = tx * tw; x < (tx + 1) * tw; ++x) {
                            int yy = y < h ? y : 2 * h - y - 2, xx = x < w ? x : 2 * w - x - 2;
                            if (yy < 0) yy = 0;
                            if (xx < 0) xx = 0;
                            hist[img[((size_t)yy * w + xx) * 3 + c]]++;
                        }
                    int64_t excess = 0;
                    for (int i = 0; i < 256; ++i)
                        if (hist[i] > clip) excess += hist[i] - clip, hist[i] = clip;
                    int64_t batch = excess / 256, residual = excess - batch * 256;
                    for (int i = 0; i < 256; ++i) hist[i] += batch;
                    if (residual) {
                        int64_t step = 256 / residual;
                        if (step < 1) step = 1;
                        for (int64_t i = 0; i < 256 && residual > 0; i += step, --residual) hist[i]++;
                    }
                    uint8_t *lut = luts + ((size_t)ty * tiles + tx) * 256;
                    int64_t sum = 0;
                    double scale = 255.0 / (double)area;
                    for (int i = 0; i < 256; ++i) {
                        sum += hist[i];
                        lut[i] = clip_u8(sum * scale);
                    }
                }
            for (int y = 0; y < h; ++y) {
                double tyf = (double)y / th - 0.5;
                int ty1 = (int)floor(tyf), ty2 = ty1 + 1;
                double ya = tyf - ty1;
                if (ty1 < 0) ty1 = 0;
                if (ty2 >= tiles) ty2 = tiles - 1;
                for (int x = 0; x < w; ++x) {
                    double txf = (double)x / tw - 0.5;
                    int tx1 = (int)floor(txf), tx2 = tx1 + 1;
                    double xa = txf - tx1;
                    if (tx1 < 0) tx1 = 0;
                    if (tx2 >= tiles) tx2 = tiles - 1;
                    uint8_t *p = img + ((size_t)y * w + x) * 3 + c;
                    int v = *p;
                    double r0 = (1 - xa) * luts[((size_t)ty1 * tiles + tx1) * 256 + v] +
                                xa * luts[((size_t)ty1 * tiles + tx2) * 256 + v];
                    double r1 = (1 - xa) * luts[((size_t)ty2 * tiles + tx1) * 256 + v] +
                                xa * luts[((size_t)ty2 * tiles + tx2) * 256 + v];
                    *p = clip_u8((1 - ya) * r0 + ya * r1);
                }
            }
        }
    }
    free(luts);
    return 1;
}

/* ------------------------------------------------------------------ apply */

lp_status lp_augment_apply(const lp_augment *aug, uint64_t seed, int32_t n_frames, const uint8_t *frames,
                           int32_t in_h, int32_t in_w, float *keypoints, int32_t n_keypoints, int32_t hflip,
                           const int32_t *kp_swap, int32_t out_h, int32_t out_w, uint8_t *out) {
    const char *fn = "lp_augment_apply";
    if (!aug || !frames || !out || (n_keypoints > 0 && !keypoints))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL augment, frames, keypoints or out");
    if (n_frames < 1 || in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1 || n_keypoints < 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "bad sizes (%d frames %dx%d -> %dx%d, %d keypoints)", n_frames,
                         in_h, in_w, out_h, out_w, n_keypoints);
    lpa_rng rng;
    lpa_rng_seed(&rng, seed);
    stack_t_ cur = {(uint8_t *)frames, n_frames, in_h, in_w}, nxt = {0};
    int owned = 0, ok = 1;
    float *kp = keypoints;
    int nk = n_keypoints;
    for (int i = 0; i < aug->n_ops && ok; ++i) {
        int kind = aug->ops[i].kind;
        if (!(lpa_rng_u01(&rng) < aug->ops[i].p)) continue;
        int geometric = kind == OP_ROT90 || kind == OP_AFFINE || kind == OP_CROP_PAD || kind == OP_ELASTIC;
        if (!geometric && !owned) { /* photometric ops work in place on our copy */
            if (!stack_alloc(&nxt, cur.n, cur.h, cur.w)) {
                ok = 0;
                break;
            }
            memcpy(nxt.data, cur.data, (size_t)cur.n * frame_bytes(&cur));
            cur = nxt, owned = 1, nxt.data = NULL;
        }
        switch (kind) {
        case OP_ROT90: ok = op_rot90(&cur, &nxt, aug->rot90_k[randint(&rng, 0, aug->n_rot90 - 1)], kp, nk); break;
        case OP_AFFINE: ok = op_affine(&cur, &nxt, uniform(&rng, -25, 25), kp, nk); break;
        case OP_CROP_PAD: {
            double pt = uniform(&rng, -0.15, 0.15), pr = uniform(&rng, -0.15, 0.15);
            double pb = uniform(&rng, -0.15, 0.15), pl = uniform(&rng, -0.15, 0.15);
            ok = op_crop_pad(&cur, &nxt, (int)lrint(pt * cur.h), (int)lrint(pr * cur.w), (int)lrint(pb * cur.h),
                             (int)lrint(pl * cur.w), kp, nk);
            break;
        }
        case OP_ELASTIC: ok = op_elastic(&cur, &nxt, uniform(&rng, 0, 10), 5.0, &rng, kp, nk); break;
        case OP_MOTION_BLUR: {
            double angle = uniform(&rng, -90, 90), dir = uniform(&rng, -1, 1);
            ok = op_motion_blur(&cur, 5, angle, dir);
            break;
        }
        case OP_DROPOUT: {
            int per_channel = lpa_rng_u01(&rng) < 0.5;
            ok = op_dropout(&cur, &rng, 0.02, 0.3, per_channel);
            break;
        }
        case OP_SALT:
        case OP_PEPPER: ok = op_salt_pepper(&cur, &rng, 0.01, uniform(&rng, 0.05, 0.1), kind == OP_SALT); break;
        case OP_HISTEQ: op_histeq(&cur); break;
        case OP_CLAHE: {
            double clip = uniform(&rng, 0.1, 8);
            ok = op_clahe(&cur, clip, randint(&rng, 3, 12));
            break;
        }
        case OP_EMBOSS: {
            double alpha = uniform(&rng, 0, 0.5), strength = uniform(&rng, 0.5, 1.5);
            ok = op_emboss(&cur, alpha, strength);
            break;
        }
        }
        if (ok && geometric) {
            if (owned) free(cur.data);
            cur = nxt, owned = 1, nxt.data = NULL;
        }
    }
    if (!ok) {
        if (owned) free(cur.data);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    /* final Resize(H, W), cubic; keypoints x*W/w, y*H/h */
    for (int f = 0; f < n_frames; ++f)
        lpa_resize_cubic(cur.data + f * frame_bytes(&cur), cur.h, cur.w, out + (size_t)f * out_h * out_w * 3, out_h,
                         out_w);
    for (int i = 0; i < nk; ++i) {
        kp[2 * i] = (float)(kp[2 * i] * (double)out_w / cur.w);
        kp[2 * i + 1] = (float)(kp[2 * i + 1] * (double)out_h / cur.h);
    }
    if (owned) free(cur.data);
    /* hflip with p = 0.5 after the resize (datasets.py): x' = W - x, swap _left/_right */
    if (hflip && lpa_rng_u01(&rng) < 0.5) {
        for (int f = 0; f < n_frames; ++f)
            for (int y = 0; y < out_h; ++y) {
                uint8_t *row = out + ((size_t)f * out_h + y) * out_w * 3;
                for (int x = 0; x < out_w / 2; ++x)
                    for (int c = 0; c < 3; ++c) {
                        uint8_t t = row[3 * x + c];
                        row[3 * x + c] = row[3 * (out_w - 1 - x) + c];
                        row[3 * (out_w - 1 - x) + c] = t;
                    }
            }
        for (int i = 0; i < nk; ++i) kp[2 * i] = (float)out_w - kp[2 * i];
        if (kp_swap)
            for (int i = 0; i < nk; ++i) {
                int j = kp_swap[i];
                if (j > i && j < nk) {
                    float tx = kp[2 * i], ty = kp[2 * i + 1];
                    kp[2 * i] = kp[2 * j], kp[2 * i + 1] = kp[2 * j + 1];
                    kp[2 * j] = tx, kp[2 * j + 1] = ty;
                }
            }
    }
    return LP_STATUS_OK;
}

lp_status lp_augment_images(const lp_augment *aug, uint64_t seed, const lp_tensor *images,
                            const lp_tensor *keypoints, int32_t hflip, int32_t out_h, int32_t out_w,
                            lp_tensor **images_out, lp_tensor **keypoints_out) {
    const char *fn = "lp_augment_images";
    if (!images_out || !keypoints_out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *images_out = *keypoints_out = NULL;
    if (!images || lp_tensor_dim(images) != 4 || lp_tensor_size(images, 3) != 3 ||
        lp_tensor_dtype(images) != LP_DTYPE_U8 || lp_tensor_device(images) != LP_DEVICE_CPU ||
        !lp_tensor_is_contiguous(images))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "images must be a contiguous u8 CPU (frames, H, W, 3) tensor");
    if (!keypoints || lp_tensor_dim(keypoints) != 2 || lp_tensor_size(keypoints, 1) != 2 ||
        lp_tensor_dtype(keypoints) != LP_DTYPE_F32)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoints must be an f32 (K, 2) tensor");
    int64_t nf = lp_tensor_size(images, 0), k = lp_tensor_size(keypoints, 0);
    int64_t shape[4] = {nf, out_h, out_w, 3}, kshape[2] = {k, 2};
    lp_tensor *io = NULL, *ko = NULL;
    void *src = NULL, *dst = NULL, *kd = NULL;
    lp_status st;
    if ((st = lp_tensor_data_ptr(images, &src)) || (st = lp_tensor_empty(shape, 4, LP_DTYPE_U8, LP_DEVICE_CPU, &io)) ||
        (st = lp_tensor_data_ptr(io, &dst)) || (st = lp_tensor_empty(kshape, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &ko)) ||
        (st = lp_tensor_data_ptr(ko, &kd)) || (st = lp_tensor_to_buffer(keypoints, kd, k * 2 * 4)) ||
        (st = lp_augment_apply(aug, seed, (int32_t)nf, src, (int32_t)lp_tensor_size(images, 1),
                               (int32_t)lp_tensor_size(images, 2), kd, (int32_t)k, hflip, NULL, out_h, out_w, dst))) {
        lp_tensor_free(io);
        lp_tensor_free(ko);
        return st;
    }
    *images_out = io;
    *keypoints_out = ko;
    return LP_STATUS_OK;
}
