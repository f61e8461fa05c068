/* dataset.c: a labeled dataset (label CSV + images, optional 5-frame
 * context stacks) producing LP's examples: augmented, cubic-resized,
 * ImageNet-normalised images, keypoints in resized pixels and Gaussian
 * heatmaps (docs/spec/lp-data-train.md §1.3-1.5, §2; docs/spec/lp-model.md §5). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "augment_internal.h"
#include "core/error.h"
#include "dataset_internal.h"
#include "lpose.h"

struct lp_dataset {
    lp_labels *labels;
    lp_dataset_params p;
    char imgaug[64];
    lp_augment *aug, *aug_none;
    int32_t *kp_swap; /* partner of each keypoint (itself when none) */
    int64_t n_frames;
    int32_t n_keypoints, frames_per_sample;
    char **paths; /* n_frames * frames_per_sample resolved image paths */
    /* decoded-frame cache, one entry per distinct path; entries are written
     * once under cache_mu and never change after */
    int64_t *frame_id; /* paths[i] -> entry */
    int64_t n_unique;
    uint8_t **cache;
    int32_t *cache_hw; /* 2 per entry */
    int64_t cache_used, cache_limit;
    pthread_mutex_t cache_mu;
    int cache_mu_ok;
};

static const char *const *sort_base;
static int cmp_path(const void *a, const void *b) {
    return strcmp(sort_base[*(const int64_t *)a], sort_base[*(const int64_t *)b]);
}

lp_dataset_params lp_dataset_default_params(void) {
    lp_dataset_params p;
    memset(&p, 0, sizeof p);
    p.height = 256;
    p.width = 256;
    p.downsample_factor = 2;
    p.context = 1;
    p.imgaug = "default";
    return p;
}

void lp_dataset_free(lp_dataset *ds) {
    if (!ds) return;
    lp_labels_free(ds->labels);
    lp_augment_free(ds->aug);
    lp_augment_free(ds->aug_none);
    if (ds->paths)
        for (int64_t i = 0; i < ds->n_frames * ds->frames_per_sample; ++i) free(ds->paths[i]);
    free(ds->paths);
    if (ds->cache)
        for (int64_t i = 0; i < ds->n_unique; ++i) free(ds->cache[i]);
    free(ds->cache);
    free(ds->cache_hw);
    free(ds->frame_id);
    if (ds->cache_mu_ok) pthread_mutex_destroy(&ds->cache_mu);
    free(ds->kp_swap);
    free(ds);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static char *join_path(const char *dir, const char *rel) {
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s%s", dir, (*dir && dir[strlen(dir) - 1] != '/') ? "/" : "", rel);
    return p;
}

lp_status lp_dataset_open(const char *csv_path, const char *data_dir, const lp_dataset_params *params,
                          lp_dataset **out) {
    const char *fn = "lp_dataset_open";
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    if (!csv_path || !data_dir) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL csv_path or data_dir");
    lp_dataset_params p = params ? *params : lp_dataset_default_params();
    if (p.height < 1 || p.width < 1 || p.downsample_factor < 0 || p.downsample_factor > 8 ||
        (p.height >> p.downsample_factor) < 1 || (p.width >> p.downsample_factor) < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "bad size %dx%d or downsample_factor %d", p.height, p.width,
                         p.downsample_factor);
    if (p.context != 0 && p.context != 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "context must be 0 or 1, got %d", p.context);
    const char *preset = p.imgaug ? p.imgaug : "default";
    if (strlen(preset) >= 64) return lp_errorf(LP_STATUS_BAD_ARG, fn, "imgaug preset name too long");
    lp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    strcpy(ds->imgaug, preset);
    p.imgaug = ds->imgaug;
    ds->p = p;
    ds->frames_per_sample = p.context ? LP_CONTEXT_FRAMES : 1;
    lp_status st;
    char *csv = NULL;
    if (access(csv_path, F_OK) == 0) csv = strdup(csv_path);
    else csv = join_path(data_dir, csv_path);
    if (!csv) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    st = lp_labels_read(csv, data_dir, &ds->labels);
    free(csv);
    if (st) goto fail;
    if ((st = lp_augment_open(preset, &ds->aug)) || (st = lp_augment_open("none", &ds->aug_none))) goto fail;
    ds->n_frames = lp_labels_n_frames(ds->labels);
    ds->n_keypoints = lp_labels_n_keypoints(ds->labels);
    ds->kp_swap = malloc(sizeof(int32_t) * (ds->n_keypoints + 1));
    ds->paths = calloc((size_t)ds->n_frames * ds->frames_per_sample + 1, sizeof(char *));
    if (!ds->kp_swap || !ds->paths) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    /* _left / _right partners (datasets.py:179-246) */
    for (int32_t k = 0; k < ds->n_keypoints; ++k) {
        ds->kp_swap[k] = k;
        const char *name = lp_labels_keypoint_name(ds->labels, k);
        const char *suf = ends_with(name, "_left") ? "_left" : ends_with(name, "_right") ? "_right" : NULL;
        if (!suf) continue;
        const char *other = suf[1] == 'l' ? "_right" : "_left";
        size_t stem = strlen(name) - strlen(suf);
        for (int32_t j = 0; j < ds->n_keypoints; ++j) {
            const char *nj = lp_labels_keypoint_name(ds->labels, j);
            if (strlen(nj) == stem + strlen(other) && !strncmp(nj, name, stem) && !strcmp(nj + stem, other))
                ds->kp_swap[k] = j;
        }
        if (ds->kp_swap[k] == k && p.hflip) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "keypoint '%s' has no '%.*s%s' partner for imgaug_hflip", name,
                           (int)stem, name, other);
            goto fail;
        }
    }
    for (int64_t i = 0; i < ds->n_frames; ++i) {
        char *centre = join_path(data_dir, lp_labels_image_path(ds->labels, i));
        if (!centre) {
            st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
            goto fail;
        }
        if (!p.context) {
            ds->paths[i] = centre;
            continue;
        }
        size_t cap = strlen(centre) + 64;
        for (int32_t f = 0; f < LP_CONTEXT_FRAMES; ++f) {
            char *buf = malloc(cap);
            if (!buf) {
                free(centre);
                st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
                goto fail;
            }
            ds->paths[i * LP_CONTEXT_FRAMES + f] = buf;
            if ((st = lp_context_path(centre, f - 2, 1, (int64_t)cap, buf))) {
                free(centre);
                goto fail;
            }
        }
        free(centre);
    }
    /* distinct paths for the frame cache (neighbouring stacks share frames) */
    int64_t m = ds->n_frames * ds->frames_per_sample;
    int64_t *order = malloc(sizeof(int64_t) * (size_t)(m + 1));
    ds->frame_id = malloc(sizeof(int64_t) * (size_t)(m + 1));
    if (!order || !ds->frame_id) {
        free(order);
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    for (int64_t i = 0; i < m; ++i) order[i] = i;
    {
        static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&sort_mu);
        sort_base = (const char *const *)ds->paths;
        qsort(order, (size_t)m, sizeof *order, cmp_path);
        pthread_mutex_unlock(&sort_mu);
    }
    for (int64_t i = 0; i < m; ++i) {
        if (i == 0 || strcmp(ds->paths[order[i]], ds->paths[order[i - 1]])) ds->n_unique++;
        ds->frame_id[order[i]] = ds->n_unique - 1;
    }
    free(order);
    ds->cache_limit = p.cache_bytes == 0 ? (int64_t)512 << 20 : p.cache_bytes;
    ds->cache = calloc((size_t)ds->n_unique + 1, sizeof(uint8_t *));
    ds->cache_hw = calloc((size_t)ds->n_unique * 2 + 2, sizeof(int32_t));
    if (!ds->cache || !ds->cache_hw || pthread_mutex_init(&ds->cache_mu, NULL)) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto fail;
    }
    ds->cache_mu_ok = 1;
    *out = ds;
    return LP_STATUS_OK;
fail:
    lp_dataset_free(ds);
    return st;
}

int64_t lp_dataset_n_frames(const lp_dataset *ds) { return ds ? ds->n_frames : -1; }
int32_t lp_dataset_n_keypoints(const lp_dataset *ds) { return ds ? ds->n_keypoints : -1; }
const lp_labels *lp_dataset_labels(const lp_dataset *ds) { return ds ? ds->labels : NULL; }

lp_status lp_dataset_get_params(const lp_dataset *ds, lp_dataset_params *out) {
    if (!ds || !out) return lp_errorf(LP_STATUS_BAD_ARG, "lp_dataset_get_params", "NULL dataset or out");
    *out = ds->p;
    return LP_STATUS_OK;
}

int32_t lpd_n_frames(const lp_dataset *ds) { return ds->frames_per_sample; }

void lpd_heatmap_size(const lp_dataset *ds, int32_t *hh, int32_t *wh) {
    *hh = ds->p.height >> ds->p.downsample_factor;
    *wh = ds->p.width >> ds->p.downsample_factor;
}

void lpd_scratch_free(lpd_scratch *s) {
    free(s->raw);
    free(s->rgb);
    memset(s, 0, sizeof *s);
}

static int grow(uint8_t **buf, int64_t *cap, int64_t need) {
    if (*cap >= need) return 1;
    uint8_t *p = realloc(*buf, (size_t)need);
    if (!p) return 0;
    *buf = p;
    *cap = need;
    return 1;
}

lp_status lpd_load_sample(const lp_dataset *ds, int64_t index, int32_t augment, uint64_t seed, lpd_scratch *s,
                          float *img, float *kp, float *hm, int64_t size_out[2]) {
    const char *fn = "lp_dataset_get";
    if (index < 0 || index >= ds->n_frames)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "index %lld out of range [0, %lld)", (long long)index,
                         (long long)ds->n_frames);
    int32_t nf = ds->frames_per_sample, H = ds->p.height, W = ds->p.width, K = ds->n_keypoints;
    int64_t h0 = -1, w0 = -1, fb = 0;
    for (int32_t f = 0; f < nf; ++f) {
        const char *path = ds->paths[index * nf + f];
        int64_t size[2] = {-1, -1};
        int64_t off = f * fb, id = ds->frame_id[index * nf + f];
        pthread_mutex_lock((pthread_mutex_t *)&ds->cache_mu);
        const uint8_t *hit = ds->cache[id];
        pthread_mutex_unlock((pthread_mutex_t *)&ds->cache_mu);
        if (hit) {
            int64_t ch = ds->cache_hw[2 * id], cw = ds->cache_hw[2 * id + 1];
            if (f > 0 && (ch != h0 || cw != w0))
                return lp_errorf(LP_STATUS_BAD_ARG, fn, "context frame %s is %lldx%lld, the others %lldx%lld",
                                 path, (long long)ch, (long long)cw, (long long)h0, (long long)w0);
            if (!grow(&s->raw, &s->raw_cap, off + ch * cw * 3 * (f == 0 ? nf : 1)))
                return lp_errorf(LP_STATUS_OOM, fn, "out of memory for %s", path);
            memcpy(s->raw + off, hit, (size_t)(ch * cw * 3));
            if (f == 0) h0 = ch, w0 = cw, fb = h0 * w0 * 3;
            continue;
        }
        lp_status st = LP_STATUS_OK;
        if (s->raw_cap - off <= 0) st = lp_image_read_rgb_into(path, 0, NULL, size); /* size query */
        if (!st && s->raw_cap - off > 0) st = lp_image_read_rgb_into(path, s->raw_cap - off, s->raw + off, size);
        if (f > 0 && size[0] > 0 && (size[0] != h0 || size[1] != w0))
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "context frame %s is %lldx%lld, the others %lldx%lld", path,
                             (long long)size[0], (long long)size[1], (long long)h0, (long long)w0);
        if ((st == LP_STATUS_BAD_ARG || s->raw_cap - off <= 0) && size[0] > 0 && size[1] > 0 &&
            off + size[0] * size[1] * 3 > s->raw_cap) {
            if (!grow(&s->raw, &s->raw_cap, size[0] * size[1] * 3 * nf))
                return lp_errorf(LP_STATUS_OOM, fn, "out of memory for %s", path);
            st = lp_image_read_rgb_into(path, s->raw_cap - off, s->raw + off, size);
        }
        if (st) return st;
        int64_t bytes = size[0] * size[1] * 3;
        pthread_mutex_t *mu = (pthread_mutex_t *)&ds->cache_mu;
        lp_dataset *mds = (lp_dataset *)ds; /* the cache is the only mutable part */
        pthread_mutex_lock(mu);
        int room = ds->cache_limit > 0 && !ds->cache[id] && ds->cache_used + bytes <= ds->cache_limit;
        pthread_mutex_unlock(mu);
        if (room) {
            uint8_t *copy = malloc((size_t)bytes);
            if (copy) {
                memcpy(copy, s->raw + off, (size_t)bytes);
                pthread_mutex_lock(mu);
                if (!mds->cache[id] && mds->cache_used + bytes <= mds->cache_limit) {
                    mds->cache_hw[2 * id] = (int32_t)size[0], mds->cache_hw[2 * id + 1] = (int32_t)size[1];
                    mds->cache[id] = copy;
                    mds->cache_used += bytes;
                    copy = NULL;
                }
                pthread_mutex_unlock(mu);
                free(copy);
            }
        }
        if (f == 0) {
            h0 = size[0], w0 = size[1], fb = h0 * w0 * 3;
        } else if (size[0] != h0 || size[1] != w0) {
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "context frame %s is %lldx%lld, the others %lldx%lld", path,
                             (long long)size[0], (long long)size[1], (long long)h0, (long long)w0);
        }
    }
    if (size_out) size_out[0] = h0, size_out[1] = w0;
    memcpy(kp, lp_labels_keypoints_data(ds->labels) + index * K * 2, sizeof(float) * 2 * K);
    if (!grow(&s->rgb, &s->rgb_cap, (int64_t)nf * H * W * 3)) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    lp_status st = lp_augment_apply(augment ? ds->aug : ds->aug_none, seed, nf, s->raw, (int32_t)h0, (int32_t)w0, kp,
                                    K, augment ? ds->p.hflip : 0, ds->kp_swap, H, W, s->rgb);
    if (st) return st;
    for (int32_t f = 0; f < nf; ++f)
        lp_image_normalize_chw(s->rgb + (size_t)f * H * W * 3, H, W, img + (size_t)f * 3 * H * W);
    return lp_heatmaps_fill(kp, NULL, 1, K, H, W, ds->p.downsample_factor, 1.25, ds->p.uniform_heatmaps, hm);
}

lp_status lp_dataset_get(const lp_dataset *ds, int64_t index, int32_t augment, uint64_t seed, lp_tensor **images,
                         lp_tensor **keypoints, lp_tensor **heatmaps) {
    const char *fn = "lp_dataset_get";
    if (!images || !keypoints || !heatmaps) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *images = *keypoints = *heatmaps = NULL;
    if (!ds) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL dataset");
    int32_t hh, wh, K = ds->n_keypoints;
    lpd_heatmap_size(ds, &hh, &wh);
    int64_t ishape[4] = {LP_CONTEXT_FRAMES, 3, ds->p.height, ds->p.width};
    int64_t kshape[2] = {K, 2}, hshape[3] = {K, hh, wh};
    lp_tensor *ti = NULL, *tk = NULL, *th = NULL;
    void *pi = NULL, *pk = NULL, *ph = NULL;
    lpd_scratch s = {0};
    lp_status st;
    int ctx = ds->p.context;
    if ((st = lp_tensor_empty(ctx ? ishape : ishape + 1, ctx ? 4 : 3, LP_DTYPE_F32, LP_DEVICE_CPU, &ti)) ||
        (st = lp_tensor_empty(kshape, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &tk)) ||
        (st = lp_tensor_empty(hshape, 3, LP_DTYPE_F32, LP_DEVICE_CPU, &th)) || (st = lp_tensor_data_ptr(ti, &pi)) ||
        (st = lp_tensor_data_ptr(tk, &pk)) || (st = lp_tensor_data_ptr(th, &ph)) ||
        (st = lpd_load_sample(ds, index, augment, seed, &s, pi, pk, ph, NULL))) {
        lpd_scratch_free(&s);
        lp_tensor_free(ti), lp_tensor_free(tk), lp_tensor_free(th);
        return st;
    }
    lpd_scratch_free(&s);
    *images = ti, *keypoints = tk, *heatmaps = th;
    return LP_STATUS_OK;
}
