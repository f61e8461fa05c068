/* model_weights.c: weights in and out of a model.
 *  - lp_model_load_weights maps a flat list of named tensors (our own names,
 *    a torchvision/MMPose backbone state dict, or a Lightning Pose .ckpt as
 *    read by lp_pickle_load) onto the registry, reporting loaded / missing /
 *    unexpected keys. Shapes are all checked before anything is written.
 *  - lp_model_save / lp_model_load: the registry plus the config (JSON meta)
 *    in one .lpt file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---------------------------------------------------------------- key mapping */

static const char *strip_prefix(const char *s, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* LP's truncated backbone is an nn.Sequential: 0 conv1, 1 bn1, 2 relu,
 * 3 maxpool, 4..7 layer1..layer4. */
static int map_lp_backbone(const char *rest, char *out, size_t size) {
    static const char *names[8] = {"conv1", "bn1", NULL, NULL, "layer1", "layer2", "layer3", "layer4"};
    char *end = NULL;
    long idx = strtol(rest, &end, 10);
    if (end == rest || *end != '.' || idx < 0 || idx > 7 || !names[idx]) return 0;
    snprintf(out, size, "backbone.%s%s", names[idx], end);
    return 1;
}

/* LP's UpsamplingCRNN also registers its layers in a ModuleList `layers`
 * ([W_pre, W_f, H_f, W_b, H_b]), so every MF tensor appears twice in a
 * checkpoint; the alias maps to the same tensor. */
static int map_lp_crnn_alias(const char *rest, char *out, size_t size) {
    static const char *names[5] = {"W_pre", "W_f", "H_f", "W_b", "H_b"};
    char *end = NULL;
    long idx = strtol(rest, &end, 10);
    if (end == rest || *end != '.' || idx < 0 || idx > 4) return 0;
    snprintf(out, size, "head_mf.%s%s", names[idx], end);
    return 1;
}

/* Map one file key to a model name in `out`; 0 when it has no place. */
static int map_key(const lp_model *m, lp_weights_format fmt, const char *key, char *out,
                   size_t size) {
    const char *r;
    if (fmt == LP_WEIGHTS_LPOSE) {
        snprintf(out, size, "%s", key);
        return 1;
    }
    if (fmt == LP_WEIGHTS_BACKBONE) {
        /* MMPose: keys containing "backbone" lose their first dotted part */
        if (strstr(key, "backbone")) {
            const char *dot = strchr(key, '.');
            if (!dot) return 0;
            key = dot + 1;
        }
        snprintf(out, size, "backbone.%s", key);
        return 1;
    }
    /* Lightning Pose */
    if ((r = strip_prefix(key, "model."))) key = r;
    if ((r = strip_prefix(key, "backbone."))) return map_lp_backbone(r, out, size);
    if (m->cfg.model_type == LP_MODEL_TYPE_HEATMAP) {
        if ((r = strip_prefix(key, "head.upsampling_layers."))) {
            snprintf(out, size, "head_sf.upsampling_layers.%s", r);
            return 1;
        }
        return 0;
    }
    if ((r = strip_prefix(key, "head.head_mf.layers."))) return map_lp_crnn_alias(r, out, size);
    if ((r = strip_prefix(key, "head."))) {
        snprintf(out, size, "%s", r);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- report */

typedef struct strbuf {
    char *s;
    size_t n, cap;
} strbuf;

static int sb_add(strbuf *b, const char *line) {
    size_t len = strlen(line) + 1;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + len;
        char *s = realloc(b->s, cap);
        if (!s) return 0;
        b->s = s;
        b->cap = cap;
    }
    if (b->n) b->s[b->n - 1] = '\n';
    memcpy(b->s + b->n, line, len);
    b->n += len;
    return 1;
}

static void set_report(lp_model *m, int which, strbuf *b) {
    free(m->report_keys[which]);
    m->report_keys[which] = b->s;
    b->s = NULL;
}

const char *lp_model_load_report_keys(const lp_model *m, int32_t which) {
    if (!m || which < 0 || which > 2 || !m->report_keys[which]) return "";
    return m->report_keys[which];
}

/* ---------------------------------------------------------------- loading */

static int same_shape(const lp_tensor *a, const lp_tensor *b) {
    int64_t sa[LP_MAX_DIMS], sb[LP_MAX_DIMS];
    int32_t na = lp_tensor_shape(a, sa), nb = lp_tensor_shape(b, sb);
    if (na != nb) return 0;
    for (int32_t i = 0; i < na; ++i)
        if (sa[i] != sb[i]) return 0;
    return 1;
}

static void shape_str(const lp_tensor *t, char *out, size_t size) {
    int64_t s[LP_MAX_DIMS];
    int32_t n = lp_tensor_shape(t, s);
    size_t at = (size_t)snprintf(out, size, "(");
    for (int32_t i = 0; i < n && at < size; ++i)
        at += (size_t)snprintf(out + at, size - at, i ? ", %lld" : "%lld", (long long)s[i]);
    if (at < size) snprintf(out + at, size - at, ")");
}

/* Keys of `w` to use: those under "state_dict/" when there are any. */
static const char *file_key(const lp_tensor_list *w, int32_t i, int32_t use_sd) {
    const char *name = lp_tensor_list_name(w, i);
    if (!use_sd) return name;
    return strip_prefix(name, "state_dict/");
}

/* The tensors a load must fill: the whole registry (BACKBONE: the backbone's
 * tensors only, since a backbone file has no head), except BN's
 * num_batches_tracked counters, which old torchvision files lack and which
 * PyTorch's own BN loader also fills in (docs/spec/checkpoint-files.md §5). */
static int needed(const lp_model *m, lp_weights_format fmt, int32_t j) {
    const char *name = m->reg.v[j].name;
    size_t n = strlen(name), k = strlen(".num_batches_tracked");
    if (n >= k && strcmp(name + n - k, ".num_batches_tracked") == 0) return 0;
    return fmt != LP_WEIGHTS_BACKBONE || strncmp(name, "backbone.", 9) == 0;
}

/* The non-tensor values lp_pickle_load skipped (the list's meta, one name per
 * line), restricted like the tensors to state_dict/ when the file has one. */
static int list_skipped(const lp_tensor_list *w, int32_t use_sd, strbuf *out, int32_t *count) {
    const char *meta = lp_tensor_list_meta(w);
    while (*meta) {
        const char *nl = strchr(meta, '\n');
        size_t len = nl ? (size_t)(nl - meta) : strlen(meta);
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), meta);
        const char *key = use_sd ? strip_prefix(name, "state_dict/") : name;
        if (key) {
            ++*count;
            if (!sb_add(out, key)) return 0;
        }
        meta += len + (nl ? 1 : 0);
    }
    return 1;
}

static lp_status load_weights(lp_model *m, const lp_tensor_list *w, lp_weights_format fmt, int32_t strict,
                              lp_load_report *out) {
    const char *fn = "lp_model_load_weights";
    int32_t n = lp_tensor_list_size(w), use_sd = 0;
    for (int32_t i = 0; i < n && !use_sd; ++i)
        use_sd = strip_prefix(lp_tensor_list_name(w, i), "state_dict/") != NULL;
    int32_t *target = calloc((size_t)(n ? n : 1), sizeof *target);
    char *loaded = calloc((size_t)(m->reg.n ? m->reg.n : 1), 1);
    strbuf missing = {0}, unexpected = {0}, skipped = {0};
    lp_status st = LP_STATUS_OK;
    lp_load_report rep = {0, 0, 0, 0};
    if (!target || !loaded) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto done;
    }
    /* pass 1: map and check every shape; nothing is written yet */
    for (int32_t i = 0; i < n; ++i) {
        char name[512];
        const char *key = file_key(w, i, use_sd);
        target[i] = -1;
        if (!key) continue; /* outside state_dict/: not weights */
        if (map_key(m, fmt, key, name, sizeof name)) target[i] = lpm_params_find(&m->reg, name);
        if (fmt == LP_WEIGHTS_BACKBONE && target[i] >= 0 &&
            strncmp(m->reg.v[target[i]].name, "backbone.", 9) != 0)
            target[i] = -1;
        if (target[i] < 0) {
            rep.n_unexpected++;
            if (!sb_add(&unexpected, key)) {
                st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
                goto done;
            }
            continue;
        }
        lp_tensor *t = NULL;
        if ((st = lp_tensor_list_get(w, i, &t))) goto done;
        int ok = same_shape(t, m->reg.v[target[i]].t);
        if (!ok) {
            char a[128], b[128];
            shape_str(t, a, sizeof a);
            shape_str(m->reg.v[target[i]].t, b, sizeof b);
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "shape mismatch for '%s' (model '%s'): file %s, model %s",
                           key, m->reg.v[target[i]].name, a, b);
        }
        lp_tensor_free(t);
        if (st) goto done;
        loaded[target[i]] = 1;
    }
    int32_t n_needed = 0;
    for (int32_t j = 0; j < m->reg.n; ++j) {
        if (loaded[j]) rep.n_loaded++;
        if (!needed(m, fmt, j)) continue;
        n_needed++;
        if (loaded[j]) continue;
        rep.n_missing++;
        if (!sb_add(&missing, m->reg.v[j].name)) {
            st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
            goto done;
        }
    }
    if (!list_skipped(w, use_sd, &skipped, &rep.n_skipped)) {
        st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
        goto done;
    }
    if (strict && rep.n_missing) {
        st = lp_errorf(LP_STATUS_BAD_ARG, fn,
                       "%d of the %d tensors the model needs are not in the weights (first: %.300s); "
                       "nothing was loaded (pass strict = false for a partial load)",
                       rep.n_missing, n_needed, missing.s);
        goto done;
    }
    /* pass 2: copy */
    for (int32_t i = 0; i < n; ++i) {
        if (target[i] < 0) continue;
        lp_tensor *t = NULL;
        if ((st = lp_tensor_list_get(w, i, &t))) goto done;
        st = lp_tensor_copy_(m->reg.v[target[i]].t, t);
        lp_tensor_free(t);
        if (st) goto done;
    }
    set_report(m, 0, &missing);
    set_report(m, 1, &unexpected);
    set_report(m, 2, &skipped);
    if (out) *out = rep;
done:
    free(missing.s);
    free(unexpected.s);
    free(skipped.s);
    free(target);
    free(loaded);
    return st;
}

lp_status lp_model_load_weights(lp_model *model, const lp_tensor_list *weights,
                                lp_weights_format format, int32_t strict, lp_load_report *out) {
    const char *fn = "lp_model_load_weights";
    if (!model || !weights) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    if (format < LP_WEIGHTS_LPOSE || format > LP_WEIGHTS_LIGHTNING)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "unknown weights format %d", (int)format);
    int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    lp_status st = load_weights(model, weights, format, strict, out);
    lp_grad_set_enabled(grad);
    return lp_error_prefix(st, fn);
}

lp_status lp_model_load_weights_file(lp_model *model, const char *path,
                                     lp_weights_format format, int32_t strict, lp_load_report *out) {
    const char *fn = "lp_model_load_weights_file";
    if (!model || !path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    lp_tensor_list *list = NULL;
    lp_status st = lp_pickle_load(path, &list);
    if (st) return lp_error_prefix(st, fn);
    st = lp_model_load_weights(model, list, format, strict, out);
    lp_tensor_list_free(list);
    if (st) return lp_errorf(st, fn, "%s: %s", path, lp_last_error());
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- save / load */

lp_status lp_model_state(const lp_model *model, lp_tensor_list **out) {
    const char *fn = "lp_model_state";
    if (!model || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    char meta[512];
    lpm_model_json(&model->cfg, meta, sizeof meta);
    lp_tensor_list *list = NULL;
    lp_status st = lp_tensor_list_init(&list);
    if (!st) st = lp_tensor_list_set_meta(list, meta);
    for (int32_t i = 0; i < model->reg.n && !st; ++i) {
        lp_tensor *d = NULL;
        st = lp_tensor_detach(model->reg.v[i].t, &d);
        if (!st) st = lp_tensor_list_push(list, model->reg.v[i].name, d);
        lp_tensor_free(d);
    }
    if (st) {
        lp_tensor_list_free(list);
        return lp_error_prefix(st, fn);
    }
    *out = list;
    return LP_STATUS_OK;
}

lp_status lp_model_save(const lp_model *model, const char *path) {
    const char *fn = "lp_model_save";
    if (!model || !path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    lp_tensor_list *list = NULL;
    lp_status st = lp_model_state(model, &list);
    if (!st) st = lp_tensor_list_save(list, path);
    lp_tensor_list_free(list);
    return lp_error_prefix(st, fn);
}

lp_status lp_model_load(const char *path, lp_model **out) {
    const char *fn = "lp_model_load";
    if (!path || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    lp_tensor_list *list = NULL;
    lp_model *m = NULL;
    lp_model_params p;
    lp_load_report rep;
    lp_status st = lp_tensor_list_load(path, &list);
    if (st) return lp_error_prefix(st, fn);
    if ((st = lpm_model_parse_json(lp_tensor_list_meta(list), &p))) goto fail;
    if ((st = lpm_model_create(&p, 0, &m))) goto fail;
    if ((st = lp_model_load_weights(m, list, LP_WEIGHTS_LPOSE, 0, &rep))) goto fail;
    if (rep.n_missing || rep.n_unexpected) {
        st = lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: %d missing and %d unexpected tensors (first: %.200s)",
                       path, rep.n_missing, rep.n_unexpected,
                       rep.n_missing ? lp_model_load_report_keys(m, 0)
                                     : lp_model_load_report_keys(m, 1));
        goto fail;
    }
    lp_tensor_list_free(list);
    *out = m;
    return LP_STATUS_OK;
fail:
    lp_tensor_list_free(list);
    lp_model_free(m);
    return lp_error_prefix(st, fn);
}
