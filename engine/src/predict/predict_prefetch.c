/* predict_prefetch.c: decode video windows on a background thread into a
 * bounded queue (2 windows waiting + the one the caller is using). Errors
 * of the worker are stored in the slot and returned by the next call on the
 * caller's thread (docs/design/errors.md §4). The worker never touches Lua or
 * libtorch: only lp_video_* (FFmpeg + plain C).
 *
 * Each slot's frames live in a tensor the caller's thread made, (T, h, w, 3)
 * floats, and the caller gets them as a (n, 3, h, w) view in channels-last
 * layout: the folded backbone runs in that layout, so a window reaches its
 * first convolution without a copy (a window used to be copied into a new
 * tensor and then into channels-last: 2 x 19 MB per 96 frames at 128x128).
 * A slot is written again only once nothing else holds its memory: a view
 * kept past the next call keeps its frames, and the slot gets a new tensor.
 *
 * Each window is decoded on a short-lived thread of its own that joins
 * libgomp's count of threads (fork_join.c says why), so libgomp counts the
 * decoder only while it decodes: libtorch's threads wait for their next op
 * with a short spin then, and with their usual long one while the queue is
 * full and nothing is decoded. LPOSE_OMP_COUNT_DECODER=0 decodes on the
 * worker itself, never counted.
 *
 * Interrupts (lp_interrupt_request): the decoder checks once per frame, so
 * the worker stops within a frame and lp_prefetch_free joins it at once; a
 * caller waiting for a window wakes up every WAIT_MS to check too. An
 * interrupted chunk is decoded again once the interrupt is cleared. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fork_join.h"
#include "core/interrupt_internal.h"
#include "predict_internal.h"
#include "video/video_internal.h"

enum { N_SLOTS = 3, SLOT_FREE = 0, SLOT_FULL = 1, SLOT_USED = 2, WAIT_MS = 50 };

typedef struct slot {
    lp_tensor *frames; /* (max_n, h, w, 3) floats; made and freed on the caller's thread */
    float *buf;        /* its memory, which the worker writes */
    int64_t start, n;
    int state;
    lp_status status;
    char msg[1024];
} slot;

struct lp_prefetch {
    lp_video *video;
    int64_t n_frames, first, step, max_n;
    int32_t height, width;
    int threaded;
    int omp_counted; /* windows are decoded on counted threads (LPOSE_OMP_COUNT_DECODER != 0) */
    slot slots[N_SLOTS];
    int idx_put, idx_get;
    int64_t next_start; /* next frame the producer decodes */
    int stop;
    int used;          /* slot index held by the consumer, -1 none */
    lp_tensor *window; /* the view of it the consumer borrows */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* WAIT_MS from now, for pthread_cond_timedwait (CLOCK_REALTIME). */
static void deadline(struct timespec *until) {
    clock_gettime(CLOCK_REALTIME, until);
    until->tv_nsec += WAIT_MS * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec += 1;
        until->tv_nsec -= 1000000000L;
    }
}

static int64_t chunk_len(const lp_prefetch *pf, int64_t start) {
    int64_t want = start == 0 ? pf->first : pf->step;
    int64_t left = pf->n_frames - start;
    return want < left ? want : left;
}

/* Decode the chunk at pf->next_start into s (no lock held for the decode). */
static void decode_into(lp_prefetch *pf, slot *s, int64_t start) {
    int64_t n = chunk_len(pf, start);
    s->start = start;
    s->n = n;
    s->status = LP_STATUS_OK;
    s->msg[0] = '\0';
    if (n <= 0) return;
    lp_status st = lpv_read_batch_hwc_into(pf->video, start, n, pf->height, pf->width, s->buf);
    if (st != LP_STATUS_OK) {
        s->status = st;
        snprintf(s->msg, sizeof s->msg, "%s", lp_last_error());
    }
}

typedef struct counted_decode {
    lp_prefetch *pf;
    slot *s;
    int64_t start;
} counted_decode;

/* The decoding threads' name in top -H, perf and /proc/PID/task/TID/comm. */
static void name_decoder_thread(void) { pthread_setname_np(pthread_self(), "lpose-decode"); }

static void *counted_decode_main(void *arg) {
    counted_decode *job = arg;
    name_decoder_thread();
    lp_fork_join_count_this_thread(); /* counted until this thread exits */
    decode_into(job->pf, job->s, job->start);
    return NULL;
}

/* Decode one window on a counted thread of its own (it inherits the
 * worker's blocked signals); on the worker if that thread cannot start.
 * Measured on a 960-frame 128x128 clip: end to end 1.03x (0.99-1.05, 9
 * rounds) the throughput of a decoder counted for the whole stream, whose
 * short spin made every op's end a sleep and a wake-up (the model alone
 * with GOMP_SPINCOUNT=100 took 1-11 % longer, median 4.4 %, in 9 of 9
 * process pairs); the mirror-mouse and 1280x1024 clips: 1.02 and 1.01, no
 * loss. */
static void decode_window(lp_prefetch *pf, slot *s, int64_t start) {
    counted_decode job = {pf, s, start};
    pthread_t t;
    if (pf->omp_counted && pthread_create(&t, NULL, counted_decode_main, &job) == 0)
        pthread_join(t, NULL);
    else
        decode_into(pf, s, start);
}

static void *worker(void *arg) {
    lp_prefetch *pf = arg;
    name_decoder_thread();
    for (;;) {
        pthread_mutex_lock(&pf->mu);
        slot *s = &pf->slots[pf->idx_put];
        while (!pf->stop && s->state != SLOT_FREE) pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop) {
            pthread_mutex_unlock(&pf->mu);
            return NULL;
        }
        int64_t start = pf->next_start;
        pthread_mutex_unlock(&pf->mu);

        decode_window(pf, s, start);

        pthread_mutex_lock(&pf->mu);
        if (s->status == LP_STATUS_INTERRUPTED) {
            /* Not the video's fault: keep the slot free, wait until the
             * interrupt is cleared (or the prefetcher freed) and decode this
             * chunk again, so a stream can go on after an interrupt. */
            while (!pf->stop && lp_interrupt_pending() > 0) {
                struct timespec until;
                deadline(&until);
                pthread_cond_timedwait(&pf->cv, &pf->mu, &until);
            }
            pthread_mutex_unlock(&pf->mu);
            continue;
        }
        s->state = SLOT_FULL;
        pf->idx_put = (pf->idx_put + 1) % N_SLOTS;
        pf->next_start = start + s->n;
        int done = s->n <= 0 || s->status != LP_STATUS_OK;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        if (done) return NULL; /* the end (n == 0) or an error: stored in the slot */
    }
}

void lp_prefetch_free(lp_prefetch *pf) {
    if (!pf) return;
    if (pf->thread_started) {
        pthread_mutex_lock(&pf->mu);
        pf->stop = 1;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        pthread_join(pf->thread, NULL);
    }
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    lp_tensor_free(pf->window);
    for (int i = 0; i < N_SLOTS; ++i) lp_tensor_free(pf->slots[i].frames);
    lp_video_free(pf->video);
    free(pf);
}

/* A new tensor for s's frames (caller's thread; s not the worker's). */
static lp_status slot_alloc(lp_prefetch *pf, slot *s) {
    const int64_t shape[4] = {pf->max_n, pf->height, pf->width, 3};
    lp_tensor *t = NULL;
    void *data = NULL;
    lp_status st = lp_tensor_empty(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &t);
    if (!st) st = lp_tensor_data_ptr(t, &data);
    if (st) {
        lp_tensor_free(t);
        return lp_error_prefix(st, "lp_predict_stream_open");
    }
    lp_tensor_free(s->frames);
    s->frames = t;
    s->buf = data;
    return LP_STATUS_OK;
}

/* Take back the consumer's window (caller's thread): a view of it still held
 * elsewhere keeps the old tensor, and the slot gets a new one. */
static lp_status take_back(lp_prefetch *pf, slot *s) {
    lp_tensor_free(pf->window);
    pf->window = NULL;
    return lp_tensor_storage_refs(s->frames) > 1 ? slot_alloc(pf, s) : LP_STATUS_OK;
}

/* The consumer's view of s: (n, 3, h, w) in channels-last layout. */
static lp_status lend(lp_prefetch *pf, const slot *s, const lp_tensor **out) {
    static const int64_t nchw[4] = {0, 3, 1, 2};
    lp_tensor *first_n = NULL;
    lp_status st = lp_tensor_narrow(s->frames, 0, 0, s->n, &first_n);
    if (!st) st = lp_tensor_permute(first_n, nchw, 4, &pf->window);
    lp_tensor_free(first_n);
    *out = pf->window;
    return st;
}

lp_status lp_prefetch_start(lp_video *video, int64_t first, int64_t step, int32_t height,
                            int32_t width, int32_t threaded, lp_prefetch **out) {
    *out = NULL;
    lp_prefetch *pf = calloc(1, sizeof *pf);
    if (!pf) {
        lp_video_free(video);
        return lp_set_error(LP_STATUS_OOM, "lp_predict_stream_open: out of memory");
    }
    pf->video = video;
    pf->n_frames = lp_video_n_frames(video);
    pf->first = first;
    pf->step = step;
    pf->height = height;
    pf->width = width;
    pf->threaded = threaded != 0;
    const char *count = getenv("LPOSE_OMP_COUNT_DECODER"); /* read here: not on the worker */
    pf->omp_counted = !(count && strcmp(count, "0") == 0);
    pf->used = -1;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    int64_t max_n = first > step ? first : step;
    if (max_n > pf->n_frames) max_n = pf->n_frames;
    pf->max_n = max_n < 1 ? 1 : max_n;
    for (int i = 0; i < (pf->threaded ? N_SLOTS : 1); ++i) {
        lp_status st = slot_alloc(pf, &pf->slots[i]);
        if (st) {
            lp_prefetch_free(pf);
            return st;
        }
    }
    if (pf->threaded) {
        /* The worker blocks every signal: a Ctrl-C goes to a thread that can
         * act on it (the executable's handler touches the Lua state). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&pf->thread, NULL, worker, pf);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            lp_prefetch_free(pf);
            return lp_set_error(LP_STATUS_INTERNAL, "lp_predict_stream_open: pthread_create failed");
        }
        pf->thread_started = 1;
    }
    *out = pf;
    return LP_STATUS_OK;
}

/* The next window, decoded on the caller's thread (no decoding thread). */
static lp_status decode_here(lp_prefetch *pf, slot **out) {
    slot *s = &pf->slots[0];
    pf->used = -1; /* lent again only once decoded */
    if (pf->next_start >= pf->n_frames) return LP_STATUS_EOF;
    decode_into(pf, s, pf->next_start);
    if (s->status != LP_STATUS_OK) return lp_set_error(s->status, s->msg);
    pf->next_start += s->n;
    pf->used = 0;
    *out = s;
    return LP_STATUS_OK;
}

/* The next window the decoding thread filled, waited for; the previous one
 * (taken back) goes back to it. */
static lp_status wait_for_window(lp_prefetch *pf, slot **out) {
    pthread_mutex_lock(&pf->mu);
    if (pf->used >= 0) {
        pf->slots[pf->used].state = SLOT_FREE;
        pf->used = -1;
        pthread_cond_broadcast(&pf->cv);
    }
    slot *s = &pf->slots[pf->idx_get];
    while (s->state != SLOT_FULL) {
        lp_status ist = lp_interrupt_check("lp_prefetch_next");
        if (ist) {
            pthread_mutex_unlock(&pf->mu);
            return ist;
        }
        struct timespec until;
        deadline(&until);
        pthread_cond_timedwait(&pf->cv, &pf->mu, &until);
    }
    lp_status st = s->status;
    if (st != LP_STATUS_OK || s->n <= 0) {
        /* leave the slot FULL: every later call reports the same end/error */
        pthread_mutex_unlock(&pf->mu);
        if (st != LP_STATUS_OK) return lp_set_error(st, s->msg);
        return LP_STATUS_EOF;
    }
    s->state = SLOT_USED;
    pf->used = pf->idx_get;
    pf->idx_get = (pf->idx_get + 1) % N_SLOTS;
    pthread_mutex_unlock(&pf->mu);
    *out = s;
    return LP_STATUS_OK;
}

lp_status lp_prefetch_next(lp_prefetch *pf, int64_t *out_start, int64_t *out_n,
                           const lp_tensor **out_window) {
    *out_n = 0;
    *out_window = NULL;
    *out_start = 0;
    /* the previous window comes back first (its slot is USED: the worker leaves it alone) */
    lp_status st = pf->used >= 0 ? take_back(pf, &pf->slots[pf->used]) : LP_STATUS_OK;
    if (st) return st;
    slot *s = NULL;
    if ((st = pf->threaded ? wait_for_window(pf, &s) : decode_here(pf, &s))) return st;
    *out_start = s->start;
    *out_n = s->n;
    return lend(pf, s, out_window);
}
