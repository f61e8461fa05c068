/* context.c: Lightning Pose's context frames of a labeled image
 * (docs/spec/lp-data-train.md §1.3, LP io.py get_context_img_paths). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

lp_status lp_context_path(const char *path, int32_t offset, int32_t fallback, int64_t capacity,
                          char *out) {
    const char *fn = "lp_context_path";
    if (!path || !out || capacity <= 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL path or empty output buffer");
    if (offset < -2 || offset > 2)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: offset %d outside -2..2", path, offset);
    /* stem = basename up to its last '.', as Python's Path.stem */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) dot = base + strlen(base);
    const char *d = base;
    while (d < dot && !isdigit((unsigned char)*d)) ++d;
    if (d == dot)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: no frame number (digit run) in the file name '%.*s'", path,
                         (int)(dot - base), base);
    size_t n_digits = 0;
    while (d + n_digits < dot && isdigit((unsigned char)d[n_digits])) ++n_digits;
    if (n_digits > 18)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: frame number '%.*s' is too long", path,
                         (int)n_digits, d);
    char digits[20], repl[24];
    memcpy(digits, d, n_digits);
    digits[n_digits] = '\0';
    long long idx = strtoll(digits, NULL, 10) + offset;
    if (idx < 0) idx = 0; /* LP clamps below, never above */
    snprintf(repl, sizeof repl, "%0*lld", (int)n_digits, idx);
    size_t n_repl = strlen(repl);

    /* dir + stem with EVERY occurrence replaced (Python str.replace) + ext */
    size_t need = strlen(path) + 1, n_occ = 0;
    for (const char *p = base; p + n_digits <= dot;)
        if (memcmp(p, digits, n_digits) == 0) { ++n_occ; p += n_digits; } else ++p;
    need += n_occ * n_repl;
    if ((int64_t)need > capacity)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: output buffer of %lld bytes is too small",
                         path, (long long)capacity);
    char *w = out;
    memcpy(w, path, (size_t)(base - path));
    w += base - path;
    for (const char *p = base; p < dot;) {
        if (p + n_digits <= dot && memcmp(p, digits, n_digits) == 0) {
            memcpy(w, repl, n_repl);
            w += n_repl;
            p += n_digits;
        } else {
            *w++ = *p++;
        }
    }
    strcpy(w, dot);
    if (fallback && !file_exists(out)) {
        if ((int64_t)strlen(path) + 1 > capacity)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: output buffer too small", path);
        strcpy(out, path);
    }
    return LP_STATUS_OK;
}

lp_status lp_context_load_stack(const char *path, int32_t height, int32_t width,
                                int64_t size_out[2], lp_tensor **out) {
    const char *fn = "lp_context_load_stack";
    lp_status st;
    lp_tensor *t = NULL;
    void *data = NULL;
    char *paths = NULL;
    if (!path || !out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    *out = NULL;
    size_t cap = strlen(path) + 64;
    if (!(paths = malloc(cap * LP_CONTEXT_FRAMES)))
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    for (int i = 0; i < LP_CONTEXT_FRAMES; ++i)
        if ((st = lp_context_path(path, i - 2, 1, (int64_t)cap, paths + cap * (size_t)i)))
            goto fail;
    int64_t centre[2] = {0, 0}, size[2];
    if ((st = lp_image_read_rgb_into(path, 0, NULL, centre))) goto fail;
    int native = height <= 0 || width <= 0;
    if (native) { height = (int32_t)centre[0]; width = (int32_t)centre[1]; }
    int64_t shape[4] = {LP_CONTEXT_FRAMES, 3, height, width};
    if ((st = lp_tensor_empty(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &t)) ||
        (st = lp_tensor_data_ptr(t, &data)))
        goto fail;
    size_t per = (size_t)3 * (size_t)height * (size_t)width;
    for (int i = 0; i < LP_CONTEXT_FRAMES; ++i) {
        const char *p = paths + cap * (size_t)i;
        if ((st = lp_image_load_into(p, height, width, size, (float *)data + per * (size_t)i)))
            goto fail;
        if (native && (size[0] != centre[0] || size[1] != centre[1])) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn,
                           "context frame %d '%s' is %lldx%lld but the centre '%s' is"
                           " %lldx%lld; pass a height and width to resize", i - 2, p,
                           (long long)size[0], (long long)size[1], path,
                           (long long)centre[0], (long long)centre[1]);
            goto fail;
        }
    }
    if (size_out) { size_out[0] = centre[0]; size_out[1] = centre[1]; }
    *out = t;
    t = NULL;
fail:
    lp_tensor_free(t);
    free(paths);
    return st;
}
