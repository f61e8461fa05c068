/* loader.c: a threaded batch loader over a labeled dataset (LP's train /
 * val DataLoaders, docs/spec/lp-data-train.md §1.7). N worker threads fill whole
 * batches into a ring of `prefetch` slots; lp_loader_next hands them out in
 * order. The order and the augmentation draws depend only on the seed, the
 * epoch and the position, never on thread timing. Worker errors are stored
 * in the slot and returned by the lp_loader_next call that reaches it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_internal.h"
#include "core/error.h"
#include "dataset_internal.h"
#include "lpose.h"

typedef struct slot {
    int state; /* 0 free, 1 filling, 2 ready */
    int64_t batch;
    lp_status status;
    char msg[1024];
    lp_tensor *images, *keypoints, *heatmaps, *indices, *bbox;
} slot;

struct lp_loader {
    lp_dataset *ds;
    lp_loader_params p;
    int64_t n, n_batches;
    int64_t *indices, *order;
    int64_t epoch, next_claim, next_take;
    slot *slots;
    int n_slots, n_threads, stop;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_ready;
};

lp_loader_params lp_loader_default_params(void) {
    lp_loader_params p;
    memset(&p, 0, sizeof p);
    p.batch_size = 16;
    p.shuffle = 1;
    p.augment = 1;
    p.n_workers = 2;
    p.prefetch = 4;
    p.shard_count = 1;
    return p;
}

static void start_epoch(lp_loader *L) { /* under the lock, with no worker busy */
    memcpy(L->order, L->indices, sizeof(int64_t) * (size_t)L->n);
    if (L->p.shuffle) {
        lpa_rng r;
        lpa_rng_seed(&r, lpa_mix((uint64_t)L->p.seed, (uint64_t)L->epoch, 0x5348554646ULL));
        for (int64_t i = L->n - 1; i > 0; --i) {
            int64_t j = (int64_t)(lpa_rng_next(&r) % (uint64_t)(i + 1));
            int64_t t = L->order[i];
            L->order[i] = L->order[j];
            L->order[j] = t;
        }
    }
    L->next_claim = L->next_take = 0;
}

static void free_slot_tensors(slot *s) {
    lp_tensor_free(s->images), lp_tensor_free(s->keypoints), lp_tensor_free(s->heatmaps), lp_tensor_free(s->indices);
    lp_tensor_free(s->bbox);
    s->images = s->keypoints = s->heatmaps = s->indices = s->bbox = NULL;
}

/* Positions [*start, *start + *count) of the epoch's order form batch b of
 * this shard (lp_loader_params: sharding). Unsharded: b*B .. b*B+B-1. */
static void batch_span(const lp_loader *L, int64_t b, int64_t *start, int64_t *count) {
    int64_t W = L->p.shard_count, r = L->p.shard_index, B = L->p.batch_size;
    int64_t g0 = b * B * W, R = L->n - g0;
    if (R > B * W) R = B * W;
    int64_t base = R / W, extra = R % W;
    *count = base + (r < extra);
    *start = g0 + r * base + (r < extra ? r : extra);
    if (*count == 0) *count = 1, *start = g0 + r % R;
}

static lp_status fill_batch(lp_loader *L, int64_t b, int64_t epoch, lpd_scratch *scr, slot *s) {
    const lp_dataset *ds = L->ds;
    int64_t start, B;
    batch_span(L, b, &start, &B);
    int32_t nf = lpd_n_frames(ds), K = lp_dataset_n_keypoints(ds), hh, wh;
    lpd_heatmap_size(ds, &hh, &wh);
    lp_dataset_params dp;
    lp_dataset_get_params(ds, &dp);
    int64_t ishape[5] = {B, nf, 3, dp.height, dp.width};
    if (nf == 1) ishape[1] = 3, ishape[2] = dp.height, ishape[3] = dp.width;
    int64_t kshape[3] = {B, K, 2}, hshape[4] = {B, K, hh, wh}, xshape[1] = {B}, bshape[2] = {B, 4};
    void *pi, *pk, *ph, *px, *pb;
    lp_status st;
    if ((st = lp_tensor_empty(ishape, nf == 1 ? 4 : 5, LP_DTYPE_F32, LP_DEVICE_CPU, &s->images)) ||
        (st = lp_tensor_empty(kshape, 3, LP_DTYPE_F32, LP_DEVICE_CPU, &s->keypoints)) ||
        (st = lp_tensor_empty(hshape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &s->heatmaps)) ||
        (st = lp_tensor_empty(xshape, 1, LP_DTYPE_I64, LP_DEVICE_CPU, &s->indices)) ||
        (st = lp_tensor_empty(bshape, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &s->bbox)) || (st = lp_tensor_data_ptr(s->bbox, &pb)) ||
        (st = lp_tensor_data_ptr(s->images, &pi)) || (st = lp_tensor_data_ptr(s->keypoints, &pk)) ||
        (st = lp_tensor_data_ptr(s->heatmaps, &ph)) || (st = lp_tensor_data_ptr(s->indices, &px)))
        return st;
    int64_t img_n = (int64_t)nf * 3 * dp.height * dp.width, hm_n = (int64_t)K * hh * wh;
    for (int64_t i = 0; i < B; ++i) {
        int64_t row = L->order[start + i];
        ((int64_t *)px)[i] = row;
        uint64_t seed = lpa_mix((uint64_t)L->p.seed ^ (uint64_t)dp.seed, (uint64_t)epoch, (uint64_t)(start + i));
        int64_t size[2] = {0, 0};
        if ((st = lpd_load_sample(ds, row, L->p.augment, seed, scr, (float *)pi + i * img_n, (float *)pk + i * K * 2,
                                  (float *)ph + i * hm_n, size)))
            return st;
        float *bb = (float *)pb + 4 * i;
        bb[0] = 0, bb[1] = 0, bb[2] = (float)size[0], bb[3] = (float)size[1];
    }
    return LP_STATUS_OK;
}

static void *worker(void *arg) {
    lp_loader *L = arg;
    lpd_scratch scr = {0};
    pthread_mutex_lock(&L->mu);
    while (!L->stop) {
        if (L->next_claim < L->n_batches && L->next_claim < L->next_take + L->n_slots) {
            int64_t b = L->next_claim++, epoch = L->epoch;
            slot *s = &L->slots[b % L->n_slots];
            s->state = 1;
            s->batch = b;
            pthread_mutex_unlock(&L->mu);
            lp_status st = fill_batch(L, b, epoch, &scr, s);
            pthread_mutex_lock(&L->mu);
            s->status = st;
            if (st) {
                snprintf(s->msg, sizeof s->msg, "%s", lp_last_error());
                free_slot_tensors(s);
            }
            s->state = 2;
            pthread_cond_broadcast(&L->cv_ready);
        } else {
            pthread_cond_wait(&L->cv_work, &L->mu);
        }
    }
    pthread_mutex_unlock(&L->mu);
    lpd_scratch_free(&scr);
    return NULL;
}

void lp_loader_free(lp_loader *L) {
    if (!L) return;
    if (L->threads) {
        pthread_mutex_lock(&L->mu);
        L->stop = 1;
        pthread_cond_broadcast(&L->cv_work);
        pthread_mutex_unlock(&L->mu);
        for (int i = 0; i < L->n_threads; ++i) pthread_join(L->threads[i], NULL);
        pthread_mutex_destroy(&L->mu);
        pthread_cond_destroy(&L->cv_work);
        pthread_cond_destroy(&L->cv_ready);
    }
    if (L->slots)
        for (int i = 0; i < L->n_slots; ++i) free_slot_tensors(&L->slots[i]);
    free(L->slots);
    free(L->threads);
    free(L->indices);
    free(L->order);
    free(L);
}

lp_status lp_loader_open(lp_dataset *ds, const int64_t *indices, int64_t n, const lp_loader_params *params,
                         lp_loader **out) {
    const char *fn = "lp_loader_open";
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *out = NULL;
    if (!ds || (n > 0 && !indices) || n < 0) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL dataset or indices");
    lp_loader_params p = params ? *params : lp_loader_default_params();
    if (p.batch_size < 1) return lp_errorf(LP_STATUS_BAD_ARG, fn, "batch_size must be >= 1, got %lld", (long long)p.batch_size);
    if (p.n_workers <= 0) p.n_workers = 2;
    if (p.n_workers > 64) p.n_workers = 64;
    if (p.prefetch <= 0) p.prefetch = 2 * p.n_workers;
    if (p.shard_count <= 1) p.shard_count = 1, p.shard_index = 0;
    if (p.shard_index < 0 || p.shard_index >= p.shard_count)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "shard_index must be in 0..%d, got %d", (int)p.shard_count - 1,
                         (int)p.shard_index);
    for (int64_t i = 0; i < n; ++i)
        if (indices[i] < 0 || indices[i] >= lp_dataset_n_frames(ds))
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "indices[%lld] = %lld is out of range [0, %lld)", (long long)i,
                             (long long)indices[i], (long long)lp_dataset_n_frames(ds));
    lp_loader *L = calloc(1, sizeof *L);
    if (!L) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    L->ds = ds;
    L->p = p;
    L->n = n;
    int64_t global_batch = p.batch_size * p.shard_count;
    L->n_batches = p.drop_last ? n / global_batch : (n + global_batch - 1) / global_batch;
    L->n_slots = p.prefetch;
    L->indices = malloc(sizeof(int64_t) * (size_t)(n + 1));
    L->order = malloc(sizeof(int64_t) * (size_t)(n + 1));
    L->slots = calloc((size_t)L->n_slots, sizeof(slot));
    L->threads = calloc((size_t)p.n_workers, sizeof(pthread_t));
    if (!L->indices || !L->order || !L->slots || !L->threads) {
        free(L->threads);
        L->threads = NULL;
        lp_loader_free(L);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    if (n) memcpy(L->indices, indices, sizeof(int64_t) * (size_t)n);
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv_work, NULL);
    pthread_cond_init(&L->cv_ready, NULL);
    start_epoch(L);
    for (int i = 0; i < p.n_workers; ++i) {
        if (pthread_create(&L->threads[i], NULL, worker, L) != 0) {
            L->n_threads = i;
            lp_loader_free(L);
            return lp_errorf(LP_STATUS_INTERNAL, fn, "cannot start worker thread %d", i);
        }
        L->n_threads = i + 1;
    }
    *out = L;
    return LP_STATUS_OK;
}

lp_status lp_loader_next(lp_loader *L, lp_tensor **images, lp_tensor **keypoints, lp_tensor **heatmaps,
                         lp_tensor **indices, lp_tensor **bbox) {
    const char *fn = "lp_loader_next";
    if (!images || !keypoints || !heatmaps || !indices || !bbox)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL out");
    *images = *keypoints = *heatmaps = *indices = *bbox = NULL;
    if (!L) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL loader");
    pthread_mutex_lock(&L->mu);
    if (L->next_take >= L->n_batches) { /* end of epoch: start the next one now (prefetch goes on) */
        L->epoch++;
        start_epoch(L);
        pthread_cond_broadcast(&L->cv_work);
        pthread_mutex_unlock(&L->mu);
        return LP_STATUS_EOF;
    }
    slot *s = &L->slots[L->next_take % L->n_slots];
    while (!(s->state == 2 && s->batch == L->next_take)) pthread_cond_wait(&L->cv_ready, &L->mu);
    lp_status st = s->status;
    char msg[1024];
    if (st) snprintf(msg, sizeof msg, "%s", s->msg);
    *images = s->images, *keypoints = s->keypoints, *heatmaps = s->heatmaps, *indices = s->indices, *bbox = s->bbox;
    s->images = s->keypoints = s->heatmaps = s->indices = s->bbox = NULL;
    s->state = 0;
    L->next_take++;
    pthread_cond_broadcast(&L->cv_work);
    pthread_mutex_unlock(&L->mu);
    if (st) return lp_set_error(st, msg);
    return LP_STATUS_OK;
}

int64_t lp_loader_n_batches(const lp_loader *L) { return L ? L->n_batches : -1; }
int64_t lp_loader_epoch(const lp_loader *L) { return L ? L->epoch : -1; }
