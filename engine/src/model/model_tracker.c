/* model_tracker.c: LP's HeatmapTracker (model_type "heatmap") and
 * HeatmapTrackerMHCRNN ("heatmap_mhcrnn"): construction, the registry
 * accessors, train/eval, device moves and the forward entry points
 * (docs/spec/lp-model.md §1.5, §3.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

enum { N_CONTEXT = 5 };

static const char *TYPE_NAMES[] = {"heatmap", "heatmap_mhcrnn"};
static const char *BACKBONE_NAMES[] = {"resnet18", "resnet34", "resnet50", "resnet101",
                                       "resnet152"};

lp_model_params lp_model_default_params(void) {
    lp_model_params p;
    memset(&p, 0, sizeof p);
    p.model_type = LP_MODEL_TYPE_HEATMAP_MHCRNN;
    p.backbone = LP_BACKBONE_RESNET50;
    p.num_keypoints = 17;
    p.downsample_factor = 2;
    p.image_height = 256;
    p.image_width = 256;
    p.seed = 0;
    return p;
}

const char *lp_model_type_name(int32_t t) { return (t >= 0 && t <= 1) ? TYPE_NAMES[t] : NULL; }
const char *lp_backbone_name(int32_t b) { return (b >= 0 && b <= 4) ? BACKBONE_NAMES[b] : NULL; }
int32_t lp_backbone_channels(int32_t b) {
    return (b < 0 || b > 4) ? 0 : (b <= LP_BACKBONE_RESNET34 ? 512 : 2048);
}

lp_status lpm_check_params(const lp_model_params *p, const char *fn) {
    if (!p) return lp_errorf(LP_STATUS_BAD_ARG, fn, "params is NULL");
    if (!lp_model_type_name(p->model_type))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown model_type %d", p->model_type);
    if (!lp_backbone_name(p->backbone))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown backbone %d", p->backbone);
    if (p->num_keypoints < 1)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "num_keypoints must be >= 1, got %d",
                         p->num_keypoints);
    if (p->downsample_factor < 1 || p->downsample_factor > 3)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "downsample_factor must be 1, 2 or 3, got %d",
                         p->downsample_factor);
    if (p->model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN && p->downsample_factor != 2)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "heatmap_mhcrnn supports only downsample_factor 2 (as LP), got %d",
                         p->downsample_factor);
    if (p->image_height < 32 || p->image_width < 32 || p->image_height % 32 ||
        p->image_width % 32)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "image_height and image_width must be multiples of 32, got %lldx%lld",
                         (long long)p->image_height, (long long)p->image_width);
    return LP_STATUS_OK;
}

void lp_model_free(lp_model *m) {
    if (!m) return;
    lpm_int8_free(m->int8);
    lpm_resnet_free(&m->backbone);
    lpm_params_clear(&m->reg);
    free(m->report_keys[0]);
    free(m->report_keys[1]);
    free(m->report_keys[2]);
    free(m);
}

lp_status lpm_model_create(const lp_model_params *p, int32_t init_weights, lp_model **out) {
    lp_model *m = calloc(1, sizeof *m);
    if (!m) return lp_errorf(LP_STATUS_OOM, "lp_model_init", "out of memory");
    m->cfg = *p;
    m->training = 1;
    m->device = LP_DEVICE_CPU;
    m->reg.init = init_weights != 0;
    lp_status st = LP_STATUS_OK;
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    /* LP seeds torch before building backbone, SF head, MF head, in that order */
    if (init_weights && p->seed >= 0 && (st = lp_manual_seed((uint64_t)p->seed))) goto fail;
    if ((st = lpm_resnet_init(&m->backbone, &m->reg, p->backbone))) goto fail;
    if ((st = lpm_hm_head_init(&m->head_sf, &m->reg, m->backbone.channels, p->num_keypoints,
                               p->downsample_factor)))
        goto fail;
    if (p->model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN &&
        (st = lpm_crnn_head_init(&m->head_mf, &m->reg, m->backbone.channels, p->num_keypoints)))
        goto fail;
    if ((st = lpm_params_require_grad(&m->reg))) goto fail;
    lp_grad_set_enabled(grad);
    *out = m;
    return LP_STATUS_OK;
fail:
    lp_grad_set_enabled(grad);
    lp_model_free(m);
    return lp_error_prefix(st, "lp_model_init");
}

lp_status lp_model_init(const lp_model_params *params, lp_model **out) {
    lp_status st = lpm_check_params(params, "lp_model_init");
    if (st) return st;
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_init", "out is NULL");
    return lpm_model_create(params, 1, out);
}

#define CHECK_MODEL(fn)                                                    \
    do {                                                                   \
        if (!model) return lp_errorf(LP_STATUS_BAD_ARG, fn, "model is NULL"); \
    } while (0)

lp_status lp_model_get_params(const lp_model *model, lp_model_params *out) {
    CHECK_MODEL("lp_model_get_params");
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_get_params", "out is NULL");
    *out = model->cfg;
    return LP_STATUS_OK;
}

int32_t lp_model_n_tensors(const lp_model *m) { return m ? m->reg.n : -1; }
const char *lp_model_tensor_name(const lp_model *m, int32_t i) {
    return (m && i >= 0 && i < m->reg.n) ? m->reg.v[i].name : NULL;
}
int32_t lp_model_tensor_is_param(const lp_model *m, int32_t i) {
    return (m && i >= 0 && i < m->reg.n) ? m->reg.v[i].is_param : 0;
}
int32_t lp_model_find_tensor(const lp_model *m, const char *name) {
    return (m && name) ? lpm_params_find(&m->reg, name) : -1;
}

lp_status lp_model_tensor(const lp_model *model, int32_t i, lp_tensor **out) {
    CHECK_MODEL("lp_model_tensor");
    if (i < 0 || i >= model->reg.n)
        return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_tensor", "index %d out of range [0, %d)", i,
                         model->reg.n);
    return lp_tensor_ref(model->reg.v[i].t, out);
}

lp_status lp_model_count_parameters(const lp_model *model, const char *prefix, int64_t *out) {
    CHECK_MODEL("lp_model_count_parameters");
    size_t n = prefix ? strlen(prefix) : 0;
    int64_t total = 0;
    for (int32_t i = 0; i < model->reg.n; ++i) {
        const lpm_entry *e = &model->reg.v[i];
        if (e->is_param && (n == 0 || strncmp(e->name, prefix, n) == 0))
            total += lp_tensor_numel(e->t);
    }
    *out = total;
    return LP_STATUS_OK;
}

lp_status lp_model_set_training(lp_model *model, int32_t training) {
    CHECK_MODEL("lp_model_set_training");
    model->training = training != 0;
    return LP_STATUS_OK;
}
int32_t lp_model_is_training(const lp_model *m) { return m ? m->training : 0; }

lp_status lp_model_set_sync_batchnorm(lp_model *model, lp_dist *group) {
    CHECK_MODEL("lp_model_set_sync_batchnorm");
    model->reg.sync_bn = group;
    return LP_STATUS_OK;
}

lp_status lp_model_to(lp_model *model, lp_device device) {
    CHECK_MODEL("lp_model_to");
    if (device == model->device) return LP_STATUS_OK;
    lp_status st = lpm_params_to(&model->reg, device);
    if (st) return lp_error_prefix(st, "lp_model_to");
    model->device = device;
    return LP_STATUS_OK;
}
lp_device lp_model_device(const lp_model *m) { return m ? m->device : LP_DEVICE_CPU; }

/* images must be f32 on the model's device with (.., 3, H, W) trailing dims */
static lp_status check_images(const lp_model *m, const lp_tensor *x, int32_t ndim,
                              const char *fn) {
    if (!x) return lp_errorf(LP_STATUS_BAD_ARG, fn, "images is NULL");
    int64_t s[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(x, s);
    if (nd != ndim || s[nd - 3] != 3)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected images with %d dims (..., 3, H, W), got %d dims",
                         ndim, nd);
    for (int32_t d = 0; d < nd - 3; ++d) /* libtorch's convolutions fail obscurely on none */
        if (s[d] == 0)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "no images: the images' dimension %d has size 0",
                             d);
    if (s[nd - 2] % 32 || s[nd - 1] % 32)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "image size %lldx%lld is not a multiple of 32",
                         (long long)s[nd - 2], (long long)s[nd - 1]);
    if (lp_tensor_dtype(x) != LP_DTYPE_F32)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "images must be f32, got %s",
                         lp_dtype_name((lp_dtype)lp_tensor_dtype(x)));
    if (lp_tensor_device(x) != m->device)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "images are on device %d but the model is on device %d (-1 = cpu); "
                         "use lp_model_to",
                         lp_tensor_device(x), m->device);
    return LP_STATUS_OK;
}

/* The backbone of every forward: int8 after lp_model_quantize_int8 (in
 * eval mode with grad off), else f32. */
static lp_status backbone(lp_model *model, const lp_tensor *images, lp_tensor **out) {
    if (model->int8 && !model->training && !lp_grad_is_enabled())
        return lpm_int8_forward(model->int8, &model->backbone, &model->reg, images, out);
    return lpm_resnet_forward(&model->backbone, &model->reg, images, model->training, out);
}

lp_status lp_model_forward_backbone(lp_model *model, const lp_tensor *images, lp_tensor **out) {
    CHECK_MODEL("lp_model_forward_backbone");
    lp_status st = check_images(model, images, 4, "lp_model_forward_backbone");
    if (st) return st;
    st = backbone(model, images, out);
    return lp_error_prefix(st, "lp_model_forward_backbone");
}

lp_status lp_model_quantize_int8(lp_model *model, const lp_tensor *images) {
    const char *fn = "lp_model_quantize_int8";
    CHECK_MODEL(fn);
    lp_status st = check_images(model, images, 4, fn);
    if (st) return st;
    if (model->device != LP_DEVICE_CPU) return lp_errorf(LP_STATUS_UNSUPPORTED, fn, "int8 runs on the CPU only");
    if (model->training) return lp_errorf(LP_STATUS_BAD_ARG, fn, "the model is in training mode: set eval mode first");
    lpm_int8 *q = NULL;
    const int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    st = lpm_int8_new(&model->backbone, &model->reg, images, &q);
    lp_grad_set_enabled(grad);
    if (st) return lp_error_prefix(st, fn);
    lpm_int8_free(model->int8);
    model->int8 = q;
    return LP_STATUS_OK;
}

void lp_model_drop_int8(lp_model *model) {
    if (!model) return;
    lpm_int8_free(model->int8);
    model->int8 = NULL;
}

int32_t lp_model_is_int8(const lp_model *model) { return model && model->int8 ? 1 : 0; }

/* A TCN window on the inference fast paths: both heads' first layers read
 * the same shuffled features, so one convolution makes the phase channels
 * of both (the single-frame head's for all T frames; it keeps the centre
 * frames 2..T-3). */
static lp_status window_heads_fast(lp_model *model, const lp_tensor *features, lp_tensor **out_sf,
                                   lp_tensor **out_mf) {
    const lpm_params *reg = &model->reg;
    const lpm_hm_head *head_sf = &model->head_sf;
    const lpm_crnn_head *head_mf = &model->head_mf;
    const lp_tensor *w[2] = {lpm_params_at(reg, head_sf->deconv[0].w), lpm_params_at(reg, head_mf->w_pre.w)};
    const lp_tensor *b[2] = {lpm_params_at(reg, head_sf->deconv[0].b), lpm_params_at(reg, head_mf->w_pre.b)};
    const int64_t T = lp_tensor_size(features, 0), n_sf = 4 * lp_tensor_size(w[0], 1);
    lp_tensor *both = NULL, *sf_all = NULL, *sf = NULL, *mf = NULL;
    lp_status st;
    if ((st = lpm_phase_conv_shuffled(features, w, b, 2, &both)) ||
        (st = lp_tensor_narrow(both, 1, 0, n_sf, &sf_all)) ||
        (st = lp_tensor_narrow(sf_all, 0, 2, T - 4, &sf)) ||
        (st = lp_tensor_narrow(both, 1, n_sf, lp_tensor_size(both, 1) - n_sf, &mf)) ||
        (st = lpm_hm_head_forward_phases(head_sf, reg, sf, out_sf)))
        goto done;
    if ((st = lpm_crnn_head_forward_phases(head_mf, reg, mf, 1, out_mf))) nnu_replace(out_sf, NULL);
done:
    lp_tensor_free(both);
    lp_tensor_free(sf_all);
    lp_tensor_free(sf);
    lp_tensor_free(mf);
    return st;
}

lp_status lp_model_forward_heads(lp_model *model, const lp_tensor *features, lp_tensor **out_sf,
                                 lp_tensor **out_mf) {
    const char *fn = "lp_model_forward_heads";
    CHECK_MODEL(fn);
    if (!features || !out_sf) return lp_errorf(LP_STATUS_BAD_ARG, fn, "features or out_sf is NULL");
    int32_t mhcrnn = model->cfg.model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN;
    int64_t s[LP_MAX_DIMS];
    int32_t nd = lp_tensor_shape(features, s);
    int64_t C = model->backbone.channels;
    int32_t stacks = nd == 5 && s[1] == N_CONTEXT && s[2] == C;
    int32_t frames = nd == 4 && s[1] == C;
    if (mhcrnn ? !(stacks || (frames && s[0] >= N_CONTEXT)) : !frames)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected features %s with C = %lld, got %d dims",
                         mhcrnn ? "(N, 5, C, h, w) or a window (T >= 5, C, h, w)" : "(N, C, h, w)",
                         (long long)C, nd);
    if (lp_tensor_device(features) != model->device)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "features are not on the model's device");
    lp_tensor *centre = NULL, *sf = NULL, *mf = NULL;
    lp_status st = LP_STATUS_OK;
    if (mhcrnn && frames && out_mf && lpm_hm_head_fast(&model->head_sf, &model->reg, features) &&
        lpm_crnn_head_fast(&model->head_mf, &model->reg, features)) {
        if ((st = window_heads_fast(model, features, out_sf, out_mf))) return lp_error_prefix(st, fn);
        return LP_STATUS_OK;
    }
    /* the SF head sees the centre frame of every stack */
    if (mhcrnn && stacks) st = lp_tensor_select(features, 1, 2, &centre);
    if (mhcrnn && frames) st = lp_tensor_narrow(features, 0, 2, s[0] - 4, &centre);
    if (st) goto fail;
    if ((st = lpm_hm_head_forward(&model->head_sf, &model->reg, centre ? centre : features, &sf)))
        goto fail;
    if (mhcrnn && out_mf) {
        st = stacks ? lpm_crnn_head_forward(&model->head_mf, &model->reg, features, &mf)
                    : lpm_crnn_head_forward_window(&model->head_mf, &model->reg, features, &mf);
        if (st) goto fail;
    }
    lp_tensor_free(centre);
    *out_sf = sf;
    if (out_mf) *out_mf = mf;
    return LP_STATUS_OK;
fail:
    lp_tensor_free(centre);
    lp_tensor_free(sf);
    lp_tensor_free(mf);
    return lp_error_prefix(st, fn);
}

lp_status lp_model_forward(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                           lp_tensor **out_mf) {
    const char *fn = "lp_model_forward";
    CHECK_MODEL(fn);
    if (!out_sf) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out_sf is NULL");
    int32_t mhcrnn = model->cfg.model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN;
    lp_status st = check_images(model, images, mhcrnn ? 5 : 4, fn);
    if (st) return st;
    if (mhcrnn && lp_tensor_size(images, 1) != N_CONTEXT)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "expected 5 context frames in dim 1, got %lld",
                         (long long)lp_tensor_size(images, 1));
    lp_tensor *flat = NULL, *feat = NULL, *stacks = NULL;
    int64_t s[LP_MAX_DIMS];
    lp_tensor_shape(images, s);
    if (mhcrnn) {
        /* (B, 5, 3, H, W) -> (5B, 3, H, W), frame index fastest */
        const int64_t fs[4] = {s[0] * N_CONTEXT, 3, s[3], s[4]};
        if ((st = lp_tensor_reshape(images, fs, 4, &flat))) goto fail;
    }
    st = backbone(model, flat ? flat : images, &feat);
    if (st) goto fail;
    if (mhcrnn) {
        const int64_t ss[5] = {s[0], N_CONTEXT, lp_tensor_size(feat, 1), lp_tensor_size(feat, 2),
                               lp_tensor_size(feat, 3)};
        if ((st = lp_tensor_reshape(feat, ss, 5, &stacks))) goto fail;
    }
    st = lp_model_forward_heads(model, stacks ? stacks : feat, out_sf, out_mf);
fail:
    lp_tensor_free(flat);
    lp_tensor_free(feat);
    lp_tensor_free(stacks);
    return lp_error_prefix(st, fn);
}

lp_status lp_model_context_stack(const lp_tensor *features, lp_tensor **out) {
    const char *fn = "lp_model_context_stack";
    if (!features || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    int32_t nd = lp_tensor_dim(features);
    int64_t T = lp_tensor_size(features, 0);
    if (nd < 2 || T < N_CONTEXT)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "need a window of at least 5 frames (T, ...), got %lld frames",
                         (long long)(nd < 1 ? 0 : T));
    lp_tensor *parts[N_CONTEXT] = {NULL};
    lp_status st = LP_STATUS_OK;
    for (int j = 0; j < N_CONTEXT && !st; ++j)
        st = lp_tensor_narrow(features, 0, j, T - 4, &parts[j]);
    if (!st) st = lp_tensor_stack((const lp_tensor *const *)parts, N_CONTEXT, 1, out);
    for (int j = 0; j < N_CONTEXT; ++j) lp_tensor_free(parts[j]);
    return lp_error_prefix(st, fn);
}

lp_status lp_model_forward_window(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                                  lp_tensor **out_mf) {
    const char *fn = "lp_model_forward_window";
    CHECK_MODEL(fn);
    if (!out_sf) return lp_errorf(LP_STATUS_BAD_ARG, fn, "out_sf is NULL");
    int32_t mhcrnn = model->cfg.model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN;
    lp_status st = check_images(model, images, 4, fn);
    if (st) return st;
    if (mhcrnn && lp_tensor_size(images, 0) < N_CONTEXT)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "a window needs at least 5 frames, got %lld",
                         (long long)lp_tensor_size(images, 0));
    lp_tensor *feat = NULL;
    st = backbone(model, images, &feat);
    /* 4-D features are a window for the MHCRNN: no 5x stacked copy */
    if (!st) st = lp_model_forward_heads(model, feat, out_sf, out_mf);
    lp_tensor_free(feat);
    return lp_error_prefix(st, fn);
}

/* ---------------------------------------------------------------- config JSON */

int lpm_model_json(const lp_model_params *p, char *buf, size_t size) {
    return snprintf(buf, size,
                    "{\"format\":\"lpose-model-1\",\"model_type\":\"%s\",\"backbone\":\"%s\","
                    "\"num_keypoints\":%d,\"downsample_factor\":%d,\"image_height\":%lld,"
                    "\"image_width\":%lld,\"seed\":%lld}",
                    lp_model_type_name(p->model_type), lp_backbone_name(p->backbone),
                    p->num_keypoints, p->downsample_factor, (long long)p->image_height,
                    (long long)p->image_width, (long long)p->seed);
}

/* The value after "key": in a flat JSON object (our own writer's output). */
static const char *json_value(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *at = strstr(json, pat);
    if (!at) return NULL;
    at += strlen(pat);
    while (*at == ' ' || *at == ':') ++at;
    return at;
}

static int32_t json_name(const char *json, const char *key, const char *const *names, int n) {
    const char *v = json_value(json, key);
    if (!v || *v != '"') return -1;
    for (int i = 0; i < n; ++i) {
        size_t len = strlen(names[i]);
        if (strncmp(v + 1, names[i], len) == 0 && v[1 + len] == '"') return i;
    }
    return -1;
}

static int json_int(const char *json, const char *key, long long *out) {
    const char *v = json_value(json, key);
    if (!v) return 0;
    char *end = NULL;
    *out = strtoll(v, &end, 10);
    return end != v;
}

lp_status lpm_model_parse_json(const char *json, lp_model_params *out) {
    const char *fn = "lp_model_load";
    lp_model_params p = lp_model_default_params();
    long long k, ds, h, w, seed;
    p.model_type = json_name(json, "model_type", TYPE_NAMES, 2);
    p.backbone = json_name(json, "backbone", BACKBONE_NAMES, 5);
    if (!strstr(json, "lpose-model-1") || p.model_type < 0 || p.backbone < 0 ||
        !json_int(json, "num_keypoints", &k) || !json_int(json, "downsample_factor", &ds) ||
        !json_int(json, "image_height", &h) || !json_int(json, "image_width", &w))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "not an lpose model file (meta: %.200s)", json);
    p.num_keypoints = (int32_t)k;
    p.downsample_factor = (int32_t)ds;
    p.image_height = h;
    p.image_width = w;
    p.seed = json_int(json, "seed", &seed) ? seed : -1;
    *out = p;
    return lpm_check_params(&p, fn);
}

lp_status lp_model_config_json(const lp_model *model, int64_t size, char *out) {
    CHECK_MODEL("lp_model_config_json");
    if (!out || size < 1) return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_config_json", "no buffer");
    int n = lpm_model_json(&model->cfg, out, (size_t)size);
    if (n < 0 || n >= size)
        return lp_errorf(LP_STATUS_BAD_ARG, "lp_model_config_json", "buffer of %lld bytes too small",
                         (long long)size);
    return LP_STATUS_OK;
}
