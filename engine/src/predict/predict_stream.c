/* predict_stream.c: streaming video inference (docs/spec/lp-model.md §3.6). Each video
 * frame goes through the backbone exactly once; the TCN carries the last 4
 * frames' features into the next window instead of recomputing them.
 *
 * Virtual frames: the sequence of features the context stacks are cut
 * from. EDGE_LP: virtual v = frame v, centres 2..N-3 are predicted and the
 * edge frames copy clamp(i, 2, N-3). EDGE_PAD: the first and last frame's
 * features are replicated twice, virtual v = frame clamp(v-2, 0, N-1), and
 * centres 2..N+1 give frames 0..N-1 directly. */
#include <stdlib.h>
#include <string.h>

#include "core/interrupt_internal.h"
#include "model/model_internal.h"
#include "predict_internal.h"

struct lp_predict_stream {
    lp_model *model;
    int was_training;
    int is_tcn;
    int32_t n_keypoints, ds;
    int64_t H, W;    /* model input */
    double fh, fw;   /* frame size */
    double fps;
    int64_t n_frames, first, step; /* frames in the first window, new frames in each later one */
    int32_t edge;
    lp_device device;
    /* source: a prefetcher over a video, pre-decoded frames, or windows fed
     * by the caller (one decode shared by the members of an ensemble) */
    lp_prefetch *pf;
    lp_tensor *images;
    int64_t pos;
    int fed;
    const lp_tensor *fed_window; /* borrowed until the next stream_next */
    int64_t fed_start;
    /* TCN state */
    lp_tensor *carry; /* features of the last n_carry virtual frames */
    int64_t n_carry;
    int64_t v_next;   /* virtual index of the next feature row */
    int64_t next_emit;
    int done;
    int window_heads; /* 1: lp_model_forward_heads takes window features */
    int int8;         /* 1: quantize on the first window; 2: did, drop at the end */
    /* counters */
    int64_t n_backbone_frames, n_backbone_calls;
    double t_model, t_wait;
    double t_backbone, t_heads, t_decode; /* parts of t_model (the rest: windows, carry, rows) */
};

int32_t lp_pred_decode_threads(const lp_predict_params *params, lp_device device) {
    const int32_t n = params ? params->n_decode_threads : 0;
    if (n > 0) return n;
    return device == LP_DEVICE_CPU ? 1 : 0;
}

lp_predict_params lp_predict_default_params(void) {
    lp_predict_params p;
    p.sequence_length = 96;
    p.edge = LP_PREDICT_EDGE_LP;
    p.prefetch = 1;
    p.n_decode_threads = 0;
    p.precision = LP_PREDICT_F32;
    return p;
}

void lp_predict_stream_free(lp_predict_stream *s) {
    if (!s) return;
    lp_prefetch_free(s->pf);
    lp_tensor_free(s->images);
    lp_tensor_free(s->carry);
    if (s->model && s->int8 == 2) lp_model_drop_int8(s->model);
    if (s->model && s->was_training) lp_model_set_training(s->model, 1);
    free(s);
}

/* Common part of both opens (the source is attached by the caller). */
static lp_status stream_new(lp_model *model, const lp_predict_params *params, const char *fn,
                            lp_predict_stream **out) {
    lp_predict_params p = params ? *params : lp_predict_default_params();
    lp_model_params mp;
    lp_status st = lp_model_get_params(model, &mp);
    if (st) return st;
    int is_tcn = mp.model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN;
    if (p.sequence_length < (is_tcn ? 5 : 1))
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                              "sequence_length must be >= %d for %s (got %lld)",
                              is_tcn ? 5 : 1, lp_model_type_name(mp.model_type),
                              (long long)p.sequence_length);
    if (p.edge != LP_PREDICT_EDGE_LP && p.edge != LP_PREDICT_EDGE_PAD)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "edge must be LP_PREDICT_EDGE_LP or _PAD");
    if (p.precision != LP_PREDICT_F32 && p.precision != LP_PREDICT_INT8)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "precision must be LP_PREDICT_F32 or _INT8");
    if (p.precision == LP_PREDICT_INT8 && lp_model_device(model) != LP_DEVICE_CPU)
        return lp_errorf(LP_STATUS_UNSUPPORTED, fn, "int8 precision runs on the CPU only");
    lp_predict_stream *s = calloc(1, sizeof *s);
    if (!s) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    s->model = model;
    s->is_tcn = is_tcn;
    s->n_keypoints = mp.num_keypoints;
    s->ds = mp.downsample_factor;
    s->H = mp.image_height;
    s->W = mp.image_width;
    s->int8 = p.precision == LP_PREDICT_INT8 && !lp_model_is_int8(model);
    /* The first window is a quarter of T (at least 16 frames): the model
     * waits for the first window's frames, the one wait the decoding thread
     * cannot hide, so a shorter one starts it sooner. Not when int8 is to
     * be calibrated on it: that samples 32 frames spread over T. */
    const int64_t T = p.sequence_length, quarter = T / 4 > 16 ? T / 4 : 16;
    s->first = s->int8 || T < quarter ? T : quarter;
    /* T new frames per window for both model types: the TCN's window adds
     * the 4 frames carried from the last one (T + 4 rows), so its backbone
     * batches, and the windows an ensemble cuts, are the single-frame
     * model's (not T - 4 new frames, which left a 4-frame window at the end
     * of a 2T-frame video, for one) */
    s->step = p.sequence_length;
    s->edge = p.edge;
    s->device = lp_model_device(model);
    s->window_heads = 1;
    s->was_training = lp_model_is_training(model) == 1;
    if (s->was_training && (st = lp_model_set_training(model, 0))) {
        free(s);
        return st;
    }
    *out = s;
    return LP_STATUS_OK;
}

static void finish_setup(lp_predict_stream *s) {
    /* LP cannot predict videos shorter than 5 frames: pad them. */
    if (s->is_tcn && s->n_frames < 5) s->edge = LP_PREDICT_EDGE_PAD;
}

lp_status lp_predict_stream_open(lp_model *model, const char *video_path,
                                 const lp_predict_params *params, lp_predict_stream **out) {
    const char *fn = "lp_predict_stream_open";
    if (out) *out = NULL;
    if (!model || !video_path || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    lp_predict_stream *s;
    lp_status st = stream_new(model, params, fn, &s);
    if (st) return st;
    lp_video *v = NULL;
    st = lp_video_open(video_path, lp_pred_decode_threads(params, lp_model_device(model)), &v);
    if (st) {
        lp_predict_stream_free(s);
        return st;
    }
    s->n_frames = lp_video_n_frames(v);
    s->fh = lp_video_height(v);
    s->fw = lp_video_width(v);
    s->fps = lp_video_fps(v);
    if (s->n_frames < 1) {
        lp_video_free(v);
        lp_predict_stream_free(s);
        return lp_errorf(LP_STATUS_UNSUPPORTED, fn, "'%s' has no frames", video_path);
    }
    st = lp_prefetch_start(v, s->first, s->step, (int32_t)s->H, (int32_t)s->W,
                           params ? params->prefetch : 1, &s->pf);
    if (st) {
        lp_predict_stream_free(s);
        return st;
    }
    finish_setup(s);
    *out = s;
    return LP_STATUS_OK;
}

lp_status lp_predict_stream_open_frames(lp_model *model, const lp_tensor *images,
                                        double frame_height, double frame_width,
                                        const lp_predict_params *params,
                                        lp_predict_stream **out) {
    const char *fn = "lp_predict_stream_open_frames";
    if (out) *out = NULL;
    if (!model || !images || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    lp_predict_stream *s;
    lp_status st = stream_new(model, params, fn, &s);
    if (st) return st;
    if (lp_tensor_dim(images) != 4 || lp_tensor_size(images, 1) != 3 ||
        lp_tensor_size(images, 2) != s->H || lp_tensor_size(images, 3) != s->W ||
        lp_tensor_size(images, 0) < 1) {
        lp_predict_stream_free(s);
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected images (N >= 1, 3, %lld, %lld)",
                              (long long)s->H, (long long)s->W);
    }
    if ((st = lp_tensor_ref(images, &s->images))) {
        lp_predict_stream_free(s);
        return st;
    }
    s->n_frames = lp_tensor_size(images, 0);
    s->fh = frame_height > 0 ? frame_height : (double)s->H;
    s->fw = frame_width > 0 ? frame_width : (double)s->W;
    finish_setup(s);
    *out = s;
    return LP_STATUS_OK;
}

lp_status lp_predict_stream_open_fed(lp_model *model, int64_t n_frames, double frame_height,
                                     double frame_width, double fps,
                                     const lp_predict_params *params, lp_predict_stream **out) {
    const char *fn = "lp_predict_stream_open_fed";
    *out = NULL;
    if (n_frames < 1) return lp_errorf(LP_STATUS_BAD_ARG, fn, "the video has no frames");
    lp_predict_stream *s;
    lp_status st = stream_new(model, params, fn, &s);
    if (st) return st;
    s->fed = 1;
    s->n_frames = n_frames;
    s->fh = frame_height;
    s->fw = frame_width;
    s->fps = fps;
    finish_setup(s);
    *out = s;
    return LP_STATUS_OK;
}

void lp_predict_stream_feed(lp_predict_stream *s, int64_t start, const lp_tensor *window) {
    s->fed_window = window;
    s->fed_start = start;
}

void lp_predict_stream_schedule(const lp_predict_stream *s, int64_t *first, int64_t *step,
                                int64_t *height, int64_t *width) {
    *first = s->first;
    *step = s->step;
    *height = s->H;
    *width = s->W;
}

/* `t` (owned, consumed) on the stream's device: copied only across devices. */
static lp_status move_to_device(const lp_predict_stream *s, lp_tensor *t, lp_tensor **out) {
    if (lp_tensor_device(t) == s->device) {
        *out = t;
        return LP_STATUS_OK;
    }
    lp_status st = lp_tensor_to(t, LP_DTYPE_F32, s->device, out);
    lp_tensor_free(t);
    return st;
}

/* The next window of new frames on the model's device; *out NULL at the end. */
static lp_status next_images(lp_predict_stream *s, int64_t *start, lp_tensor **out) {
    *out = NULL;
    lp_status st;
    if (s->fed) {
        const lp_tensor *window = s->fed_window;
        s->fed_window = NULL; /* each window is used once */
        if (!window) return LP_STATUS_OK;
        *start = s->fed_start;
        lp_tensor *own = NULL;
        if ((st = lp_tensor_ref(window, &own))) return st;
        return move_to_device(s, own, out);
    }
    if (s->images) {
        if (s->pos >= s->n_frames) return LP_STATUS_OK;
        int64_t n = s->pos == 0 ? s->first : s->step;
        if (n > s->n_frames - s->pos) n = s->n_frames - s->pos;
        lp_tensor *view = NULL;
        if ((st = lp_tensor_narrow(s->images, 0, s->pos, n, &view))) return st;
        *start = s->pos;
        s->pos += n;
        return move_to_device(s, view, out);
    }
    int64_t n = 0;
    const lp_tensor *window = NULL;
    double t0 = lp_pred_now();
    st = lp_prefetch_next(s->pf, start, &n, &window);
    s->t_wait += lp_pred_now() - t0;
    if (st == LP_STATUS_EOF) return LP_STATUS_OK;
    if (st) return st;
    lp_tensor *own = NULL; /* the prefetcher's frames, no copy */
    if ((st = lp_tensor_ref(window, &own))) return st;
    return move_to_device(s, own, out);
}

/* Rows `first` (n copies) of t as a new (n, ...) tensor. */
static lp_status repeat_row(const lp_tensor *t, int64_t row, int64_t n, lp_tensor **out) {
    lp_tensor *one = NULL;
    int64_t reps[LP_MAX_DIMS];
    int32_t nd = lp_tensor_dim(t);
    lp_status st = lp_tensor_narrow(t, 0, row, 1, &one);
    if (st) return st;
    reps[0] = n;
    for (int32_t i = 1; i < nd; ++i) reps[i] = 1;
    st = lp_tensor_repeat(one, reps, nd, out);
    lp_tensor_free(one);
    return st;
}

/* Heads + decode + merge + scale (lp_model_predict's own lpm_decode_heads),
 * to CPU. features: (n, C, h, w) for the heatmap model or window features for
 * the TCN. */
static lp_status run_heads(lp_predict_stream *s, const lp_tensor *features, lp_tensor **out_kp,
                           lp_tensor **out_conf) {
    lp_tensor *sf = NULL, *mf = NULL, *kp = NULL, *conf = NULL;
    lp_status st;
    double t0 = lp_pred_now();
    if ((st = lp_model_forward_heads(s->model, features, &sf, s->is_tcn ? &mf : NULL))) goto fail;
    double t1 = lp_pred_now();
    s->t_heads += t1 - t0;
    st = lpm_decode_heads(sf, mf, s->ds, s->fw / (double)s->W, s->fh / (double)s->H, &kp, &conf);
    s->t_decode += lp_pred_now() - t1;
    if (st) goto fail;
    if ((st = lp_tensor_to(kp, LP_DTYPE_F32, LP_DEVICE_CPU, out_kp))) goto fail;
    if ((st = lp_tensor_to(conf, LP_DTYPE_F32, LP_DEVICE_CPU, out_conf))) {
        lp_tensor_free(*out_kp);
        *out_kp = NULL;
    }
fail:
    lp_tensor_free(sf);
    lp_tensor_free(mf);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    return st;
}

/* Select rows idx[0..n-1] of kp/conf (CPU). */
static lp_status select_rows(const lp_tensor *kp, const lp_tensor *conf, const int64_t *idx,
                             int64_t n, lp_tensor **out_kp, lp_tensor **out_conf) {
    lp_tensor *index = NULL;
    const int64_t shape[1] = {n};
    lp_status st = lp_tensor_from_buffer(idx, LP_DTYPE_I64, shape, 1, &index);
    if (!st) st = lp_tensor_index_select(kp, 0, index, out_kp);
    if (!st) {
        st = lp_tensor_index_select(conf, 0, index, out_conf);
        if (st) {
            lp_tensor_free(*out_kp);
            *out_kp = NULL;
        }
    }
    lp_tensor_free(index);
    return st;
}

static lp_status step_tcn(lp_predict_stream *s, int64_t start, const lp_tensor *feats_new,
                          int is_last, int64_t *out_start, lp_tensor **out_kp,
                          lp_tensor **out_conf) {
    const int pad = s->edge == LP_PREDICT_EDGE_PAD;
    const int64_t n_new = lp_tensor_size(feats_new, 0);
    lp_tensor *parts[4] = {NULL, NULL, NULL, NULL};
    lp_tensor *owned[2] = {NULL, NULL};
    lp_tensor *feat = NULL, *stacks = NULL, *kp = NULL, *conf = NULL, *new_carry = NULL;
    lp_tensor *tail = NULL;
    int64_t *idx = NULL;
    int np = 0;
    lp_status st = LP_STATUS_OK;
    int64_t v0 = s->v_next - s->n_carry;
    if (start == 0 && pad) {
        if ((st = repeat_row(feats_new, 0, 2, &owned[0]))) goto fail;
        parts[np++] = owned[0];
        s->v_next += 2;
    }
    if (s->carry) parts[np++] = s->carry;
    parts[np++] = (lp_tensor *)feats_new;
    s->v_next += n_new;
    if (is_last && pad) {
        if ((st = repeat_row(feats_new, n_new - 1, 2, &owned[1]))) goto fail;
        parts[np++] = owned[1];
        s->v_next += 2;
    }
    if ((st = lp_tensor_cat((const lp_tensor *const *)parts, np, 0, &feat))) goto fail;
    const int64_t m = lp_tensor_size(feat, 0);
    /* carry the last 4 rows (a copy, so the window's memory is released) */
    {
        int64_t nc = m < 4 ? m : 4;
        if ((st = lp_tensor_narrow(feat, 0, m - nc, nc, &tail))) goto fail;
        if ((st = lp_tensor_clone(tail, &new_carry))) goto fail;
        lp_tensor_free(s->carry);
        s->carry = new_carry;
        new_carry = NULL;
        s->n_carry = nc;
    }
    int64_t n_out = 0;
    *out_start = s->next_emit;
    if (m >= 5) {
        /* The heads take the window itself (per-frame terms of the MF head
         * computed once per frame, docs/spec/lp-model.md §3.6); an engine without that
         * entry point gets the 5-frame context stacks. */
        st = LP_STATUS_BAD_ARG;
        if (s->window_heads) {
            st = run_heads(s, feat, &kp, &conf);
            if (st == LP_STATUS_BAD_ARG) s->window_heads = 0;
        }
        if (!s->window_heads) {
            if ((st = lp_model_context_stack(feat, &stacks))) goto fail;
            st = run_heads(s, stacks, &kp, &conf);
        }
        if (st) goto fail;
        /* frames c0..c1 predicted by rows 0..m-5 */
        const int64_t c0 = pad ? v0 : v0 + 2;
        const int64_t c1 = c0 + (m - 5);
        int64_t e_end = c1;
        if (!pad && is_last) e_end = s->n_frames - 1;
        n_out = e_end - s->next_emit + 1;
        if (n_out < 0) n_out = 0;
        idx = malloc(sizeof(int64_t) * (size_t)(n_out > 0 ? n_out : 1));
        if (!idx) {
            st = lp_set_error(LP_STATUS_OOM, "lp_predict_stream_next: out of memory");
            goto fail;
        }
        for (int64_t i = 0; i < n_out; ++i) {
            int64_t f = s->next_emit + i, c = f;
            if (!pad) c = c < 2 ? 2 : (c > s->n_frames - 3 ? s->n_frames - 3 : c);
            idx[i] = c - c0;
            if (idx[i] < 0 || idx[i] > m - 5) {
                st = lp_errorf(LP_STATUS_INTERNAL, "lp_predict_stream_next",
                                    "frame %lld maps to row %lld of %lld",
                                    (long long)f, (long long)idx[i], (long long)(m - 4));
                goto fail;
            }
        }
    }
    if (n_out > 0) {
        if ((st = select_rows(kp, conf, idx, n_out, out_kp, out_conf))) goto fail;
    } else {
        const int64_t shape_kp[3] = {0, s->n_keypoints, 2}, shape_c[2] = {0, s->n_keypoints};
        if ((st = lp_tensor_empty(shape_kp, 3, LP_DTYPE_F32, LP_DEVICE_CPU, out_kp))) goto fail;
        if ((st = lp_tensor_empty(shape_c, 2, LP_DTYPE_F32, LP_DEVICE_CPU, out_conf))) {
            lp_tensor_free(*out_kp);
            *out_kp = NULL;
            goto fail;
        }
    }
    s->next_emit += n_out;
fail:
    lp_tensor_free(owned[0]);
    lp_tensor_free(owned[1]);
    lp_tensor_free(feat);
    lp_tensor_free(stacks);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    lp_tensor_free(tail);
    lp_tensor_free(new_carry);
    free(idx);
    return st;
}

/* int8 calibration on up to CALIBRATION_FRAMES frames spread evenly over
 * the first window: ranges as wide as the whole window's within a few
 * percent, at a third of its f32 forward. */
enum { CALIBRATION_FRAMES = 32 };

static lp_status quantize_on(lp_model *model, const lp_tensor *images) {
    const int64_t n = lp_tensor_size(images, 0), m = n < CALIBRATION_FRAMES ? n : CALIBRATION_FRAMES;
    int64_t idx[CALIBRATION_FRAMES];
    for (int64_t i = 0; i < m; ++i) idx[i] = i * n / m;
    const int64_t shape[1] = {m};
    lp_tensor *index = NULL, *some = NULL;
    lp_status st = lp_tensor_from_buffer(idx, LP_DTYPE_I64, shape, 1, &index);
    if (!st) st = lp_tensor_index_select(images, 0, index, &some);
    if (!st) st = lp_model_quantize_int8(model, some);
    lp_tensor_free(index);
    lp_tensor_free(some);
    return st;
}

static lp_status stream_next(lp_predict_stream *s, int64_t *out_start, lp_tensor **out_kp,
                             lp_tensor **out_conf) {
    if (s->done) return LP_STATUS_EOF;
    int64_t start = 0;
    lp_tensor *images = NULL, *feats = NULL;
    lp_status st = lp_interrupt_check("lp_predict_stream_next"); /* once per window */
    if (st) return st;
    if ((st = next_images(s, &start, &images))) return st;
    if (!images) {
        s->done = 1;
        if (s->next_emit != s->n_frames)
            return lp_errorf(LP_STATUS_IO, "lp_predict_stream_next",
                                  "the video ended after %lld of %lld frames",
                                  (long long)s->next_emit, (long long)s->n_frames);
        return LP_STATUS_EOF;
    }
    double t0 = lp_pred_now();
    const int64_t n = lp_tensor_size(images, 0);
    const int is_last = start + n >= s->n_frames;
    if (s->int8 == 1) { /* calibrate on the first window (its time counts as the backbone's) */
        if ((st = quantize_on(s->model, images))) goto fail;
        s->int8 = 2;
    }
    st = lp_model_forward_backbone(s->model, images, &feats);
    s->t_backbone += lp_pred_now() - t0;
    if (st) goto fail;
    s->n_backbone_frames += n;
    s->n_backbone_calls += 1;
    if (s->is_tcn) {
        st = step_tcn(s, start, feats, is_last, out_start, out_kp, out_conf);
    } else {
        st = run_heads(s, feats, out_kp, out_conf);
        *out_start = start;
        if (!st) s->next_emit = start + n;
    }
    if (!st && is_last) s->done = 1;
fail:
    s->t_model += lp_pred_now() - t0;
    lp_tensor_free(images);
    lp_tensor_free(feats);
    return st;
}

lp_status lp_predict_stream_next(lp_predict_stream *s, int64_t *out_start,
                                 lp_tensor **out_keypoints, lp_tensor **out_confidences) {
    if (out_keypoints) *out_keypoints = NULL;
    if (out_confidences) *out_confidences = NULL;
    if (!s || !out_start || !out_keypoints || !out_confidences)
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_predict_stream_next: NULL argument");
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    lp_status st = stream_next(s, out_start, out_keypoints, out_confidences);
    lp_grad_set_enabled(grad);
    if (st != LP_STATUS_OK && st != LP_STATUS_EOF) {
        const char *msg = lp_last_error();
        if (strncmp(msg, "lp_predict", 10) != 0) {
            char buf[1024];
            snprintf(buf, sizeof buf, "lp_predict_stream_next: %s", msg);
            lp_set_error(st, buf);
        }
    }
    return st;
}

int64_t lp_predict_stream_n_frames(const lp_predict_stream *s) { return s ? s->n_frames : -1; }
int64_t lp_predict_stream_n_backbone_frames(const lp_predict_stream *s) {
    return s ? s->n_backbone_frames : -1;
}
int64_t lp_predict_stream_n_backbone_calls(const lp_predict_stream *s) {
    return s ? s->n_backbone_calls : -1;
}
int32_t lp_predict_stream_width(const lp_predict_stream *s) { return s ? (int32_t)s->fw : -1; }
int32_t lp_predict_stream_height(const lp_predict_stream *s) { return s ? (int32_t)s->fh : -1; }
double lp_predict_stream_fps(const lp_predict_stream *s) { return s ? s->fps : -1; }
double lp_predict_stream_seconds_model(const lp_predict_stream *s) { return s ? s->t_model : -1; }
double lp_predict_stream_seconds_wait(const lp_predict_stream *s) { return s ? s->t_wait : -1; }
double lp_predict_stream_seconds_backbone(const lp_predict_stream *s) { return s ? s->t_backbone : -1; }
double lp_predict_stream_seconds_heads(const lp_predict_stream *s) { return s ? s->t_heads : -1; }
double lp_predict_stream_seconds_decode(const lp_predict_stream *s) { return s ? s->t_decode : -1; }
