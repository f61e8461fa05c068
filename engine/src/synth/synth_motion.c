/* synth_motion.c: parameters, keypoint names and the motion of the synthetic
 * animal: a chain of capsules with fixed segment lengths whose root
 * position, heading and joint bends are sums of slow sinusoids (smooth by
 * construction, bounded so the whole body stays inside the frame), and the
 * occluders that pass over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "synth_internal.h"

static const char *const names6[6] = {"nose", "head", "neck", "back", "tail_base", "tail_tip"};
/* Segment length weights and body radii (fractions) for the 6-keypoint animal. */
static const double len6[5] = {0.12, 0.16, 0.24, 0.22, 0.26};
static const double rad6[6] = {0.035, 0.07, 0.075, 0.09, 0.05, 0.015};
static const double tone6[5] = {215, 205, 195, 185, 165};

lp_synth_params lp_synth_default_params(void) {
    lp_synth_params p;
    memset(&p, 0, sizeof p);
    p.n_videos = 4;
    p.n_test_videos = 1;
    p.n_frames = 300;
    p.n_keypoints = 6;
    p.width = 128;
    p.height = 128;
    p.fps = 30;
    p.n_labeled_per_video = 20;
    p.context = 2;
    p.index_width = 4;
    p.occluder_rate = 2.5;
    p.noise_sigma = 4;
    p.seed = 0;
    return p;
}

lp_status lp_synth_check_params(const lp_synth_params *p) {
    static const char fn[] = "lp_synth_check_params";
    if (!p) return lp_errorf(LP_STATUS_BAD_ARG, fn, "params is NULL");
    if (p->n_videos < 1 || p->n_videos > 1000)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "n_videos must be 1..1000, got %d", p->n_videos);
    if (p->n_test_videos < 0 || p->n_test_videos > p->n_videos)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "n_test_videos must be 0..n_videos (%d), got %d",
                         p->n_videos, p->n_test_videos);
    if (p->n_frames < 5)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "n_frames must be >= 5, got %d", p->n_frames);
    if (p->n_keypoints < 2 || p->n_keypoints > LPS_MAX_KEYPOINTS)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "n_keypoints must be 2..%d, got %d",
                         LPS_MAX_KEYPOINTS, p->n_keypoints);
    if (p->width < 32 || p->height < 32 || p->width > 4096 || p->height > 4096 || p->width % 2 ||
        p->height % 2)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "size must be even and 32..4096, got %dx%d",
                         p->width, p->height);
    if (!(p->fps > 0 && p->fps <= 1000))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "fps must be in (0, 1000], got %g", p->fps);
    if (p->n_labeled_per_video < 0 || p->n_labeled_per_video > p->n_frames - 4)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "n_labeled_per_video must be 0..n_frames-4 (%d), got %d",
                         p->n_frames - 4, p->n_labeled_per_video);
    if (p->context < 0 || p->context > 8)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "context must be 0..8, got %d", p->context);
    if (p->index_width < 1 || p->index_width > 12)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "index_width must be 1..12, got %d",
                         p->index_width);
    int digits = 1;
    for (int64_t m = p->n_frames - 1; m >= 10; m /= 10) digits++;
    if (digits > p->index_width)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "index_width %d is too small for %d frames",
                         p->index_width, p->n_frames);
    if (!(p->occluder_rate >= 0 && p->occluder_rate <= 50))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "occluder_rate must be 0..50, got %g",
                         p->occluder_rate);
    if (!(p->noise_sigma >= 0 && p->noise_sigma <= 64))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "noise_sigma must be 0..64, got %g",
                         p->noise_sigma);
    return LP_STATUS_OK;
}

lp_status lp_synth_keypoint_name(int32_t n_keypoints, int32_t idx_keypoint, int64_t capacity,
                                 char *out) {
    static const char fn[] = "lp_synth_keypoint_name";
    if (n_keypoints < 2 || n_keypoints > LPS_MAX_KEYPOINTS || idx_keypoint < 0 ||
        idx_keypoint >= n_keypoints)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoint %d of %d out of range", idx_keypoint,
                         n_keypoints);
    char name[32];
    if (n_keypoints == 6)
        snprintf(name, sizeof name, "%s", names6[idx_keypoint]);
    else if (idx_keypoint == 0)
        snprintf(name, sizeof name, "nose");
    else if (idx_keypoint == n_keypoints - 1)
        snprintf(name, sizeof name, "tail_tip");
    else
        snprintf(name, sizeof name, "kp%02d", idx_keypoint);
    if (!out || capacity < (int64_t)strlen(name) + 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "buffer too small");
    memcpy(out, name, strlen(name) + 1);
    return LP_STATUS_OK;
}

/* Profile value at position u in [0, 1] along the 6-keypoint template. */
static double profile(const double *tab, int n, double u) {
    double x = u * (n - 1);
    int i = (int)x;
    if (i >= n - 1) return tab[n - 1];
    return tab[i] + (tab[i + 1] - tab[i]) * (x - i);
}

/* amp_total split over the waves at random, frequencies in [f_lo, f_hi] Hz. */
static void wave_init(lps_wave *w, uint64_t *rng, double amp_total, double f_lo, double f_hi) {
    double a[LPS_N_WAVES], sum = 0;
    for (int i = 0; i < LPS_N_WAVES; i++) sum += (a[i] = lps_range(rng, 0.2, 1.0));
    for (int i = 0; i < LPS_N_WAVES; i++) {
        w->amp[i] = amp_total * a[i] / sum;
        w->freq[i] = lps_range(rng, f_lo, f_hi);
        w->phase[i] = lps_range(rng, 0, LPS_TAU);
    }
}

void lps_video_free(lps_video *v) {
    if (!v) return;
    free(v->occ);
    v->occ = NULL;
    v->n_occ = 0;
}

lp_status lps_video_init(const lp_synth_params *p, int32_t idx_video, lps_video *v) {
    memset(v, 0, sizeof *v);
    v->p = p;
    v->idx_video = idx_video;
    int K = v->n_kp = p->n_keypoints;
    uint64_t rng = lps_seed(p->seed, (uint64_t)idx_video, 0, 1);
    double S = p->width < p->height ? p->width : p->height;
    double body = 0.42 * S * lps_range(&rng, 0.92, 1.08);
    /* Segment lengths and radii from the 6-keypoint template, resampled to K. */
    double wsum = 0, w[LPS_MAX_KEYPOINTS];
    for (int k = 0; k < K - 1; k++) {
        double u = (k + 0.5) / (K - 1);
        wsum += (w[k] = profile(len6, 5, u));
    }
    for (int k = 0; k < K - 1; k++) {
        v->seg_len[k] = body * w[k] / wsum;
        v->tone[k] = profile(tone6, 5, (k + 0.5) / (K - 1)) + lps_range(&rng, -6, 6);
    }
    double rmax = 0;
    for (int k = 0; k < K; k++) {
        v->radius[k] = S * profile(rad6, 6, (double)k / (K - 1)) * lps_range(&rng, 0.95, 1.05);
        if (v->radius[k] < 1.0) v->radius[k] = 1.0;
        if (v->radius[k] > rmax) rmax = v->radius[k];
    }
    /* Root: the keypoint nearest the middle of the body by length. */
    double cum = 0, best = 1e30;
    for (int k = 0; k < K; k++) {
        if (fabs(cum - body / 2) < best) best = fabs(cum - body / 2), v->root = k;
        if (k < K - 1) cum += v->seg_len[k];
    }
    double front = 0, back = 0;
    for (int k = 0; k < v->root; k++) front += v->seg_len[k];
    for (int k = v->root; k < K - 1; k++) back += v->seg_len[k];
    double reach = (front > back ? front : back) + rmax + 1.5;
    v->cx = (p->width - 1) / 2.0;
    v->cy = (p->height - 1) / 2.0;
    double ax = (p->width - 1) / 2.0 - reach, ay = (p->height - 1) / 2.0 - reach;
    if (ax < 0) ax = 0;
    if (ay < 0) ay = 0;
    wave_init(&v->root_x, &rng, ax, 0.03, 0.3);
    wave_init(&v->root_y, &rng, ay, 0.03, 0.3);
    v->theta0 = lps_range(&rng, 0, LPS_TAU);
    wave_init(&v->heading, &rng, lps_range(&rng, 1.5, 3.0), 0.02, 0.15);
    for (int k = 0; k < K; k++) {
        if (k < v->root) wave_init(&v->bend[k], &rng, 0.35, 0.1, 0.6);
        else wave_init(&v->bend[k], &rng, 0.6, 0.2, 1.0);
    }
    wave_init(&v->bg_dx, &rng, 0.12 * S, 0.01, 0.05);
    wave_init(&v->bg_dy, &rng, 0.12 * S, 0.01, 0.05);
    wave_init(&v->bg_gain, &rng, 0.10, 0.02, 0.1);

    /* Occluders: about occluder_rate events per 100 frames, 3-8 frames each,
     * each aimed at a keypoint at its middle frame. */
    if (p->occluder_rate > 0) {
        uint64_t orng = lps_seed(p->seed, (uint64_t)idx_video, 0, 2);
        double gap = 100.0 / p->occluder_rate;
        int cap = (int)(p->n_frames / (0.5 * gap)) + 4;
        if (!(v->occ = calloc((size_t)cap, sizeof *v->occ)))
            return lp_errorf(LP_STATUS_OOM, "lp_synth_generate", "out of memory");
        double t = lps_range(&orng, 0.3, 1.2) * gap;
        double xy[2 * LPS_MAX_KEYPOINTS];
        while (t < p->n_frames && v->n_occ < cap) {
            lps_occluder *o = &v->occ[v->n_occ++];
            o->start = (int64_t)t;
            o->n_frames = 3 + (int64_t)(lps_next(&orng) % 6);
            int64_t mid = o->start + (o->n_frames - 1) / 2;
            lps_pose(v, mid, xy);
            int k = (int)(lps_next(&orng) % (uint64_t)K);
            o->radius = S * lps_range(&orng, 0.10, 0.16);
            double a = lps_range(&orng, 0, LPS_TAU), r = lps_range(&orng, 0, 0.3) * o->radius;
            o->cx = xy[2 * k] + r * cos(a);
            o->cy = xy[2 * k + 1] + r * sin(a);
            double dir = lps_range(&orng, 0, LPS_TAU), speed = S / 128.0 * lps_range(&orng, 1.0, 3.0);
            o->vx = speed * cos(dir);
            o->vy = speed * sin(dir);
            o->wobble = lps_range(&orng, 0.05, 0.2);
            o->wobble_phase = lps_range(&orng, 0, LPS_TAU);
            o->tex_dx = lps_range(&orng, 0, 0.5 * S);
            o->tex_dy = lps_range(&orng, 0, 0.5 * S);
            t = (double)(o->start + o->n_frames) + lps_range(&orng, 0.5, 1.5) * gap;
        }
    }
    return LP_STATUS_OK;
}

void lps_pose(const lps_video *v, int64_t f, double *xy) {
    double t = (double)f / v->p->fps;
    int K = v->n_kp, r = v->root;
    double rx = v->cx + lps_wave_at(&v->root_x, t), ry = v->cy + lps_wave_at(&v->root_y, t);
    double th = v->theta0 + lps_wave_at(&v->heading, t);
    xy[2 * r] = rx;
    xy[2 * r + 1] = ry;
    double dir = th; /* towards the nose */
    for (int k = r; k > 0; k--) {
        if (k != r) dir += lps_wave_at(&v->bend[k], t);
        xy[2 * (k - 1)] = xy[2 * k] + v->seg_len[k - 1] * cos(dir);
        xy[2 * (k - 1) + 1] = xy[2 * k + 1] + v->seg_len[k - 1] * sin(dir);
    }
    dir = th + LPS_TAU / 2; /* towards the tail */
    for (int k = r; k < K - 1; k++) {
        dir += lps_wave_at(&v->bend[k], t);
        xy[2 * (k + 1)] = xy[2 * k] + v->seg_len[k] * cos(dir);
        xy[2 * (k + 1) + 1] = xy[2 * k + 1] + v->seg_len[k] * sin(dir);
    }
}

int lps_occluder_at(const lps_occluder *o, int64_t f, double *cx, double *cy) {
    if (f < o->start || f >= o->start + o->n_frames) return 0;
    double dt = (double)f - ((double)o->start + (double)(o->n_frames - 1) / 2);
    *cx = o->cx + o->vx * dt;
    *cy = o->cy + o->vy * dt;
    return 1;
}

double lps_occluder_cover(const lps_occluder *o, double cx, double cy, double x, double y) {
    double dx = x - cx, dy = y - cy, d = sqrt(dx * dx + dy * dy);
    if (d > o->radius * (1 + o->wobble) + 1) return 0;
    double rr = o->radius * (1 + o->wobble * sin(3 * atan2(dy, dx) + o->wobble_phase));
    double c = rr - d + 0.5;
    return c <= 0 ? 0 : c >= 1 ? 1 : c;
}

lp_status lp_synth_keypoints(const lp_synth_params *p, int32_t idx_video, float *xy,
                             uint8_t *occluded) {
    static const char fn[] = "lp_synth_keypoints";
    lp_status st = lp_synth_check_params(p);
    if (st) return st;
    if (idx_video < 0 || idx_video >= p->n_videos)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "video %d out of range 0..%d", idx_video,
                         p->n_videos - 1);
    if (!xy) return lp_errorf(LP_STATUS_BAD_ARG, fn, "xy is NULL");
    lps_video v;
    if ((st = lps_video_init(p, idx_video, &v))) return st;
    int K = p->n_keypoints;
    double pose[2 * LPS_MAX_KEYPOINTS];
    for (int64_t f = 0; f < p->n_frames; f++) {
        lps_pose(&v, f, pose);
        for (int k = 0; k < 2 * K; k++) xy[f * 2 * K + k] = (float)pose[k];
        if (!occluded) continue;
        for (int k = 0; k < K; k++) {
            uint8_t hid = 0;
            for (int i = 0; i < v.n_occ && !hid; i++) {
                double cx, cy;
                if (lps_occluder_at(&v.occ[i], f, &cx, &cy) &&
                    lps_occluder_cover(&v.occ[i], cx, cy, pose[2 * k], pose[2 * k + 1]) >= 0.5)
                    hid = 1;
            }
            occluded[f * K + k] = hid;
        }
    }
    lps_video_free(&v);
    return LP_STATUS_OK;
}

lp_status lp_synth_labeled_frames(const lp_synth_params *p, int32_t idx_video, int64_t capacity,
                                  int64_t *out, int64_t *n_out) {
    static const char fn[] = "lp_synth_labeled_frames";
    lp_status st = lp_synth_check_params(p);
    if (st) return st;
    if (idx_video < 0 || idx_video >= p->n_videos)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "video %d out of range 0..%d", idx_video,
                         p->n_videos - 1);
    int64_t n = idx_video < p->n_videos - p->n_test_videos ? p->n_labeled_per_video : 0;
    if (n_out) *n_out = n;
    if (n > capacity || (n > 0 && !out))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "need room for %lld indices", (long long)n);
    /* Evenly spread over [2, n_frames-3], away from the first/last 2 frames. */
    int64_t lo = 2, span = p->n_frames - 4;
    for (int64_t i = 0; i < n; i++) out[i] = lo + (int64_t)(((double)i + 0.5) * (double)span / (double)n);
    return LP_STATUS_OK;
}
