// tensor_list.cpp: named tensor lists (see lpose.h), the container only; the
// .lpt file format that saves and loads them is C in the core (lpt.c).
//
// It lives in the shim because the shim returns lists itself (lp_pickle_load,
// lp_optim_state): the bottom layer must not call up into the core. It needs
// no libtorch header (only the C tensor API) and never throws.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "error.hpp"

enum { LPT_MAX_NAME = 1 << 16, LPT_MAX_META = 1 << 26 };

struct lp_tensor_list {
    int32_t n, cap;
    char **names;
    lp_tensor **tensors;
    char *meta; /* NULL means "" */
};

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *r = static_cast<char *>(malloc(n + 1));
    if (r) memcpy(r, s, n + 1);
    return r;
}

LP_EXPORT lp_status lp_tensor_list_init(lp_tensor_list **out) {
    if (!out) return lp::error(LP_STATUS_BAD_ARG, "lp_tensor_list_init", "out-parameter 'out' is NULL");
    lp_tensor_list *l = static_cast<lp_tensor_list *>(calloc(1, sizeof *l));
    if (!l) return lp::error(LP_STATUS_OOM, "lp_tensor_list_init", "out of memory");
    *out = l;
    return LP_STATUS_OK;
}

LP_EXPORT void lp_tensor_list_free(lp_tensor_list *list) {
    if (!list) return;
    for (int32_t i = 0; i < list->n; i++) {
        free(list->names[i]);
        lp_tensor_free(list->tensors[i]);
    }
    free(list->names);
    free(list->tensors);
    free(list->meta);
    free(list);
}

LP_EXPORT lp_status lp_tensor_list_push(lp_tensor_list *list, const char *name, const lp_tensor *t) {
    static const char *fn = "lp_tensor_list_push";
    if (!list) return lp::error(LP_STATUS_BAD_ARG, fn, "argument 'list' is NULL");
    if (!name) return lp::error(LP_STATUS_BAD_ARG, fn, "argument 'name' is NULL");
    if (!t) return lp::error(LP_STATUS_BAD_ARG, fn, "argument 't' is NULL (freed tensor?)");
    if (strlen(name) >= LPT_MAX_NAME)
        return lp::error(LP_STATUS_BAD_ARG, fn, "name is longer than %d bytes", LPT_MAX_NAME - 1);
    if (list->n == list->cap) {
        int32_t cap = list->cap ? list->cap * 2 : 8;
        char **names = static_cast<char **>(realloc(list->names, (size_t)cap * sizeof *names));
        if (!names) return lp::error(LP_STATUS_OOM, fn, "out of memory");
        list->names = names;
        lp_tensor **ts = static_cast<lp_tensor **>(realloc(list->tensors, (size_t)cap * sizeof *ts));
        if (!ts) return lp::error(LP_STATUS_OOM, fn, "out of memory");
        list->tensors = ts;
        list->cap = cap;
    }
    char *nm = dup_str(name);
    if (!nm) return lp::error(LP_STATUS_OOM, fn, "out of memory");
    lp_tensor *r = nullptr;
    lp_status st = lp_tensor_ref(t, &r);
    if (st != LP_STATUS_OK) {
        free(nm);
        return st;
    }
    list->names[list->n] = nm;
    list->tensors[list->n] = r;
    list->n++;
    return LP_STATUS_OK;
}

LP_EXPORT int32_t lp_tensor_list_size(const lp_tensor_list *list) { return list ? list->n : 0; }

LP_EXPORT const char *lp_tensor_list_name(const lp_tensor_list *list, int32_t i) {
    if (!list || i < 0 || i >= list->n) return nullptr;
    return list->names[i];
}

LP_EXPORT lp_status lp_tensor_list_get(const lp_tensor_list *list, int32_t i, lp_tensor **out) {
    static const char *fn = "lp_tensor_list_get";
    if (!list) return lp::error(LP_STATUS_BAD_ARG, fn, "argument 'list' is NULL");
    if (!out) return lp::error(LP_STATUS_BAD_ARG, fn, "out-parameter 'out' is NULL");
    if (i < 0 || i >= list->n)
        return lp::error(LP_STATUS_BAD_ARG, fn, "index %d out of range (list has %d)", (int)i, (int)list->n);
    return lp_tensor_ref(list->tensors[i], out);
}

LP_EXPORT int32_t lp_tensor_list_find(const lp_tensor_list *list, const char *name) {
    if (!list || !name) return -1;
    for (int32_t i = 0; i < list->n; i++)
        if (strcmp(list->names[i], name) == 0) return i;
    return -1;
}

LP_EXPORT lp_status lp_tensor_list_set_meta(lp_tensor_list *list, const char *meta) {
    static const char *fn = "lp_tensor_list_set_meta";
    if (!list) return lp::error(LP_STATUS_BAD_ARG, fn, "argument 'list' is NULL");
    char *m = nullptr;
    if (meta && *meta) {
        if (strlen(meta) >= LPT_MAX_META)
            return lp::error(LP_STATUS_BAD_ARG, fn, "meta is longer than %d bytes", LPT_MAX_META - 1);
        m = dup_str(meta);
        if (!m) return lp::error(LP_STATUS_OOM, fn, "out of memory");
    }
    free(list->meta);
    list->meta = m;
    return LP_STATUS_OK;
}

LP_EXPORT const char *lp_tensor_list_meta(const lp_tensor_list *list) {
    return list && list->meta ? list->meta : "";
}
