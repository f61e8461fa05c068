/* lpt.c: the .lpt file format of named tensor lists (see lpose.h). The list
 * itself is a shim container (engine/shim/tensor_list.cpp); this file only
 * writes and reads lists through its API.
 *
 * Layout, little-endian: "LPOSETF1", u32 n, u32 meta_len, meta bytes, then
 * per tensor: u32 name_len, name, i32 dtype, i32 ndim, i64 shape[ndim],
 * u64 nbytes, raw contiguous data. Plain C over the public tensor API.
 *
 * Errors: a file that cannot be opened, read, written or is cut short is
 * LP_STATUS_IO; a file whose contents are not a valid .lpt (bad magic, bad
 * dtype, sizes that do not add up) is LP_STATUS_BAD_ARG. Messages name the
 * function and the path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/interrupt_internal.h"
#include "lpose.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .lpt reader/writer assumes a little-endian host"
#endif

static const char LPT_MAGIC[8] = {'L', 'P', 'O', 'S', 'E', 'T', 'F', '1'};
enum { LPT_MAX_NAME = 1 << 16 }; /* the list's own limit (lp_tensor_list_push) */

/* Re-prefix a failure of a lower-level call with our function and path. */
static lp_status rewrap(lp_status st, const char *fn, const char *path) {
    char inner[1024];
    snprintf(inner, sizeof inner, "%s", lp_last_error());
    return lp_errorf(st, fn, "%s: %s", path, inner);
}

/* ------------------------------------------------------------------ save */

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int write_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n; }

/* Contiguous CPU bytes of t: borrowed from t itself when possible, else from a
 * converted copy returned in *tmp (freed by the caller). */
static lp_status tensor_bytes(const lp_tensor *t, lp_tensor **tmp, const void **data) {
    *tmp = NULL;
    *data = NULL;
    if (lp_tensor_numel(t) == 0) return LP_STATUS_OK;
    const lp_tensor *src = t;
    if (lp_tensor_device(t) != LP_DEVICE_CPU || !lp_tensor_is_contiguous(t)) {
        lp_tensor *cpu = NULL;
        lp_status st = lp_tensor_to(t, (lp_dtype)lp_tensor_dtype(t), LP_DEVICE_CPU, &cpu);
        if (st != LP_STATUS_OK) return st;
        st = lp_tensor_contiguous(cpu, tmp);
        lp_tensor_free(cpu);
        if (st != LP_STATUS_OK) return st;
        src = *tmp;
    }
    void *p = NULL;
    lp_status st = lp_tensor_data_ptr(src, &p);
    *data = p;
    return st;
}

lp_status lp_tensor_list_save(const lp_tensor_list *list, const char *path) {
    static const char *fn = "lp_tensor_list_save";
    if (!list) return lp_errorf(LP_STATUS_BAD_ARG, fn, "argument 'list' is NULL");
    if (!path || !*path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "argument 'path' is NULL or empty");

    /* Validate everything before creating any file. */
    const int32_t n = lp_tensor_list_size(list);
    for (int32_t i = 0; i < n; i++) {
        lp_tensor *t = NULL;
        lp_status gs = lp_tensor_list_get(list, i, &t);
        if (gs != LP_STATUS_OK) return rewrap(gs, fn, path);
        int32_t dt = lp_tensor_dtype(t), nd = lp_tensor_dim(t);
        lp_tensor_free(t);
        if (dt < 0 || lp_dtype_size((lp_dtype)dt) == 0)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: tensor '%s' has a dtype the .lpt format cannot store", path,
                        lp_tensor_list_name(list, i));
        if (nd > LP_MAX_DIMS)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: tensor '%s' has more than %d dims", path,
                        lp_tensor_list_name(list, i), LP_MAX_DIMS);
    }

    char *tmp = NULL;
    lp_status st = lp_tmp_begin(path, 1, fn, &tmp);
    if (st != LP_STATUS_OK) return st;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        lp_tmp_end(tmp);
        return st;
    }

    unsigned char hdr[16];
    const char *meta = lp_tensor_list_meta(list);
    uint32_t meta_len = (uint32_t)strlen(meta);
    memcpy(hdr, LPT_MAGIC, 8);
    int ok = write_all(f, hdr, 8);
    put_u32(hdr, (uint32_t)n);
    put_u32(hdr + 4, meta_len);
    ok = ok && write_all(f, hdr, 8) && write_all(f, meta, meta_len);

    for (int32_t i = 0; ok && i < n; i++) {
        lp_tensor *t = NULL;
        lp_status gs = lp_tensor_list_get(list, i, &t);
        if (gs != LP_STATUS_OK) {
            st = rewrap(gs, fn, path);
            fclose(f);
            lp_tmp_discard(tmp);
            return st;
        }
        const char *name = lp_tensor_list_name(list, i);
        uint32_t name_len = (uint32_t)strlen(name);
        int64_t shape[LP_MAX_DIMS];
        int32_t ndim = lp_tensor_shape(t, shape);
        int32_t dt = lp_tensor_dtype(t);
        uint64_t nbytes = (uint64_t)lp_tensor_numel(t) * (uint64_t)lp_dtype_size((lp_dtype)dt);
        unsigned char buf[8 + 8 * LP_MAX_DIMS + 8];
        put_u32(buf, name_len);
        ok = write_all(f, buf, 4) && write_all(f, name, name_len);
        put_u32(buf, (uint32_t)dt);
        put_u32(buf + 4, (uint32_t)ndim);
        for (int32_t d = 0; d < ndim; d++) put_u64(buf + 8 + 8 * d, (uint64_t)shape[d]);
        put_u64(buf + 8 + 8 * ndim, nbytes);
        ok = ok && write_all(f, buf, 8 + 8 * (size_t)ndim + 8);
        if (!ok) {
            lp_tensor_free(t);
            break;
        }
        lp_tensor *conv = NULL;
        const void *data = NULL;
        lp_status ts = tensor_bytes(t, &conv, &data);
        if (ts != LP_STATUS_OK) {
            st = rewrap(ts, fn, path);
            lp_tensor_free(t);
            fclose(f);
            lp_tmp_discard(tmp);
            return st;
        }
        ok = write_all(f, data, (size_t)nbytes);
        lp_tensor_free(conv);
        lp_tensor_free(t);
    }

    int err = 0;
    if (!ok) err = errno ? errno : EIO;
    if (fflush(f) != 0 && !err) err = errno;
    if (!err && fsync(fileno(f)) != 0) err = errno;
    if (fclose(f) != 0 && !err) err = errno;
    if (err) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: write failed: %s", path, strerror(err));
        lp_tmp_discard(tmp);
        return st;
    }
    if (rename(tmp, path) != 0) {
        st = lp_errorf(LP_STATUS_IO, fn, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        lp_tmp_discard(tmp);
        return st;
    }
    lp_tmp_end(tmp);
    return LP_STATUS_OK;
}

/* ------------------------------------------------------------------ load */

typedef struct {
    FILE *f;
    const char *path;
    uint64_t left; /* bytes not yet read */
} reader;

static const char *LOAD = "lp_tensor_list_load";

/* Read exactly n bytes; a short file is LP_STATUS_IO ("truncated"). */
static lp_status rd(reader *r, void *p, uint64_t n, const char *what) {
    if (n > r->left)
        return lp_errorf(LP_STATUS_IO, LOAD, "%s: file is truncated (%s needs %llu bytes, %llu left)", r->path, what,
                    (unsigned long long)n, (unsigned long long)r->left);
    if (n && fread(p, 1, (size_t)n, r->f) != n)
        return lp_errorf(LP_STATUS_IO, LOAD, "%s: read error in %s: %s", r->path, what,
                    ferror(r->f) ? strerror(errno) : "unexpected end of file");
    r->left -= n;
    return LP_STATUS_OK;
}

lp_status lp_tensor_list_load(const char *path, lp_tensor_list **out) {
    if (!out) return lp_errorf(LP_STATUS_BAD_ARG, LOAD, "out-parameter 'out' is NULL");
    if (!path || !*path) return lp_errorf(LP_STATUS_BAD_ARG, LOAD, "argument 'path' is NULL or empty");
    FILE *f = fopen(path, "rb");
    if (!f) return lp_errorf(LP_STATUS_IO, LOAD, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return lp_errorf(LP_STATUS_IO, LOAD, "%s: not a regular file", path);
    }
    reader r = {f, path, (uint64_t)sb.st_size};
    lp_tensor_list *list = NULL;
    char *name = NULL;
    lp_tensor *t = NULL;
    unsigned char buf[8 * LP_MAX_DIMS + 16];
    lp_status st;

    if ((st = rd(&r, buf, 8, "magic")) != LP_STATUS_OK) goto fail;
    if (memcmp(buf, LPT_MAGIC, 8) != 0) {
        st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: not an lpose tensor file (bad magic)", path);
        goto fail;
    }
    if ((st = rd(&r, buf, 8, "header")) != LP_STATUS_OK) goto fail;
    uint32_t n = get_u32(buf), meta_len = get_u32(buf + 4);
    /* Each entry takes at least 4 + 4 + 4 + 8 bytes: reject absurd counts early. */
    if (n > INT32_MAX || (uint64_t)n * 20 > r.left) {
        st = lp_errorf(LP_STATUS_IO, LOAD, "%s: file is truncated or corrupt (%u tensors cannot fit in %llu bytes)",
                  path, n, (unsigned long long)r.left);
        goto fail;
    }
    if ((st = lp_tensor_list_init(&list)) != LP_STATUS_OK) {
            st = rewrap(st, LOAD, path);
            goto fail;
        }
    if (meta_len > 0) {
        if (meta_len > r.left) {
            st = lp_errorf(LP_STATUS_IO, LOAD, "%s: file is truncated (meta needs %u bytes)", path, meta_len);
            goto fail;
        }
        char *meta = malloc((size_t)meta_len + 1);
        if (!meta) {
            st = lp_errorf(LP_STATUS_OOM, LOAD, "out of memory");
            goto fail;
        }
        if ((st = rd(&r, meta, meta_len, "meta")) != LP_STATUS_OK) {
            free(meta);
            goto fail;
        }
        meta[meta_len] = '\0';
        st = lp_tensor_list_set_meta(list, meta);
        free(meta);
        if (st != LP_STATUS_OK) {
            st = rewrap(st, LOAD, path);
            goto fail;
        }
    }

    for (uint32_t i = 0; i < n; i++) {
        if ((st = rd(&r, buf, 4, "name length")) != LP_STATUS_OK) goto fail;
        uint32_t name_len = get_u32(buf);
        if (name_len >= LPT_MAX_NAME) {
            st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: tensor %u has an invalid name length %u", path, i, name_len);
            goto fail;
        }
        name = malloc((size_t)name_len + 1);
        if (!name) {
            st = lp_errorf(LP_STATUS_OOM, LOAD, "out of memory");
            goto fail;
        }
        if ((st = rd(&r, name, name_len, "name")) != LP_STATUS_OK) goto fail;
        name[name_len] = '\0';
        if (strlen(name) != name_len) {
            st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: tensor %u has a NUL byte in its name", path, i);
            goto fail;
        }
        if ((st = rd(&r, buf, 8, "dtype/ndim")) != LP_STATUS_OK) goto fail;
        int32_t dtype = (int32_t)get_u32(buf), ndim = (int32_t)get_u32(buf + 4);
        if (dtype < LP_DTYPE_F32 || dtype > LP_DTYPE_BOOL || lp_dtype_size((lp_dtype)dtype) == 0) {
            st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: tensor '%s' has an invalid dtype %d", path, name, (int)dtype);
            goto fail;
        }
        if (ndim < 0 || ndim > LP_MAX_DIMS) {
            st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: tensor '%s' has an invalid ndim %d", path, name, (int)ndim);
            goto fail;
        }
        if ((st = rd(&r, buf, 8 * (uint64_t)ndim + 8, "shape")) != LP_STATUS_OK) goto fail;
        int64_t shape[LP_MAX_DIMS];
        uint64_t numel = 1;
        int overflow = 0;
        for (int32_t d = 0; d < ndim; d++) {
            uint64_t s = get_u64(buf + 8 * d);
            if (s > (uint64_t)INT64_MAX || (s != 0 && numel > (uint64_t)INT64_MAX / s)) overflow = 1;
            shape[d] = (int64_t)s;
            if (!overflow) numel *= s;
        }
        uint64_t nbytes = get_u64(buf + 8 * ndim);
        uint64_t esize = (uint64_t)lp_dtype_size((lp_dtype)dtype);
        if (overflow || numel > UINT64_MAX / esize || numel * esize != nbytes) {
            st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: tensor '%s' says %llu bytes, which does not match its shape", path,
                      name, (unsigned long long)nbytes);
            goto fail;
        }
        if (nbytes > r.left) {
            st = lp_errorf(LP_STATUS_IO, LOAD, "%s: file is truncated (tensor '%s' needs %llu bytes, %llu left)", path, name,
                      (unsigned long long)nbytes, (unsigned long long)r.left);
            goto fail;
        }
        /* Read straight into the tensor's memory: no second copy of big weights. */
        lp_dtype store = dtype == LP_DTYPE_BOOL ? LP_DTYPE_U8 : (lp_dtype)dtype;
        if ((st = lp_tensor_empty(shape, ndim, store, LP_DEVICE_CPU, &t)) != LP_STATUS_OK) {
            st = rewrap(st, LOAD, path);
            goto fail;
        }
        if (nbytes > 0) {
            void *p = NULL;
            if ((st = lp_tensor_data_ptr(t, &p)) != LP_STATUS_OK) {
            st = rewrap(st, LOAD, path);
            goto fail;
        }
            if ((st = rd(&r, p, nbytes, "tensor data")) != LP_STATUS_OK) goto fail;
        }
        if (dtype == LP_DTYPE_BOOL) { /* any nonzero byte is true */
            lp_tensor *b = NULL;
            st = lp_tensor_to(t, LP_DTYPE_BOOL, LP_DEVICE_CPU, &b);
            lp_tensor_free(t);
            t = b;
            if (st != LP_STATUS_OK) {
                st = rewrap(st, LOAD, path);
                goto fail;
            }
        }
        if ((st = lp_tensor_list_push(list, name, t)) != LP_STATUS_OK) {
            st = rewrap(st, LOAD, path);
            goto fail;
        }
        lp_tensor_free(t);
        t = NULL;
        free(name);
        name = NULL;
    }
    if (r.left != 0) {
        st = lp_errorf(LP_STATUS_BAD_ARG, LOAD, "%s: %llu unexpected bytes after the last tensor", path,
                  (unsigned long long)r.left);
        goto fail;
    }
    fclose(f);
    *out = list;
    return LP_STATUS_OK;

fail:
    lp_tensor_free(t);
    free(name);
    lp_tensor_list_free(list);
    fclose(f);
    return st;
}
