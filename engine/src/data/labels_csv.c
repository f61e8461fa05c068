/* labels_csv.c: DLC-style label CSVs (docs/spec/lp-data-train.md §1.1) -> lp_labels.
 * Rows are read literally (no pandas first-row quirk to undo). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"

struct lp_labels {
    char *scorer;
    int64_t n_frames;
    int32_t n_keypoints;
    char **names;  /* n_keypoints */
    char **paths;  /* n_frames */
    float *values; /* n_frames * n_keypoints * 2 */
    int32_t stride;     /* value columns per keypoint: 2 (x,y) or 3 (x,y,visible) */
    int64_t *visible;   /* n_frames * n_keypoints flags when stride == 3, else NULL */
    int64_t cap_frames;
};

/* One parsed CSV row: cells point into a private copy of the line. */
typedef struct {
    char *buf;
    char **cells;
    int32_t n, cap;
} csv_row;

static void row_clear(csv_row *r) {
    free(r->buf);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

static int row_push(csv_row *r, char *cell) {
    if (r->n == r->cap) {
        int32_t cap = r->cap ? r->cap * 2 : 64;
        char **c = realloc(r->cells, (size_t)cap * sizeof *c);
        if (!c) return -1;
        r->cells = c;
        r->cap = cap;
    }
    r->cells[r->n++] = cell;
    return 0;
}

/* Split one CSV record starting at *pos (RFC 4180 quotes, CRLF or LF).
 * Returns 1 for a record, 0 at end of text, -1 out of memory. */
static int read_row(const char *text, size_t len, size_t *pos, csv_row *r) {
    row_clear(r);
    if (*pos >= len) return 0;
    size_t end = *pos; /* the record's end (a newline outside quotes): size the buffer */
    for (int q = 0; end < len && (q || (text[end] != '\n' && text[end] != '\r')); ++end)
        if (text[end] == '"') q = !q;
    r->buf = malloc(end - *pos + 1);
    if (!r->buf) return -1;
    char *w = r->buf, *cell = w;
    int quoted = 0;
    size_t i = *pos;
    for (; i < len; ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < len && text[i + 1] == '"') { *w++ = '"'; ++i; }
            else if (c == '"') quoted = 0;
            else *w++ = c;
        } else if (c == '"') {
            quoted = 1;
        } else if (c == ',') {
            *w++ = '\0';
            if (row_push(r, cell)) return -1;
            cell = w;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < len && text[i + 1] == '\n') ++i;
            ++i;
            break;
        } else {
            *w++ = c;
        }
    }
    *w = '\0';
    if (row_push(r, cell)) return -1;
    *pos = i;
    return 1;
}

static int is_blank_row(const csv_row *r) { return r->n == 1 && r->cells[0][0] == '\0'; }

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            *len = fread(buf, 1, (size_t)n, f);
            buf[*len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Strict float: surrounding blanks allowed, "" and NaN mean missing. */
static int parse_cell(const char *s, float *v) {
    while (*s == ' ' || *s == '\t') ++s;
    if (*s == '\0' || strcasecmp(s, "nan") == 0) { *v = NAN; return 0; }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    while (*end == ' ' || *end == '\t') ++end;
    if (end == s || *end != '\0' || !isfinite(d)) return -1;
    *v = (float)d;
    return 0;
}

static int grow_frames(lp_labels *l) {
    if (l->n_frames < l->cap_frames) return 0;
    int64_t cap = l->cap_frames ? l->cap_frames * 2 : 64;
    char **p = realloc(l->paths, (size_t)cap * sizeof *p);
    if (!p) return -1;
    l->paths = p;
    float *v = realloc(l->values, (size_t)cap * (size_t)l->n_keypoints * 2 * sizeof *v);
    if (!v) return -1;
    l->values = v;
    if (l->stride == 3) {
        int64_t *f = realloc(l->visible, (size_t)cap * (size_t)l->n_keypoints * sizeof *f);
        if (!f) return -1;
        l->visible = f;
    }
    l->cap_frames = cap;
    return 0;
}

void lp_labels_free(lp_labels *l) {
    if (!l) return;
    for (int32_t k = 0; k < l->n_keypoints && l->names; ++k) free(l->names[k]);
    for (int64_t i = 0; i < l->n_frames; ++i) free(l->paths[i]);
    free(l->names);
    free(l->paths);
    free(l->values);
    free(l->visible);
    free(l->scorer);
    free(l);
}

static const char *const header_label[3] = {"scorer", "bodyparts", "coords"};

/* Check the three header rows and take the keypoint names. */
static lp_status parse_header(const char *file, csv_row rows[3], lp_labels *l) {
    const char *fn = "lp_labels_read";
    for (int h = 0; h < 3; ++h) {
        if (strcmp(rows[h].cells[0], header_label[h]) != 0)
            return lp_errorf(LP_STATUS_BAD_ARG, fn,
                             "%s: line %d, column 1: expected header row '%s', got '%s'"
                             " (a DLC/Lightning Pose CSV has 3 header rows: scorer, bodyparts,"
                             " coords)", file, h + 1, header_label[h], rows[h].cells[0]);
        if (rows[h].n != rows[0].n)
            return lp_errorf(LP_STATUS_BAD_ARG, fn,
                             "%s: line %d has %d columns but line 1 has %d", file, h + 1,
                             rows[h].n, rows[0].n);
    }
    int32_t n_cols = rows[0].n;
    /* LP's optional form x,y,visible for every keypoint, detected by the word */
    int32_t stride = 2;
    for (int32_t c = 1; c < n_cols; ++c)
        if (strcmp(rows[2].cells[c], "visible") == 0) stride = 3;
    static const char *const coord[3] = {"x", "y", "visible"};
    for (int32_t c = 1; c < n_cols; ++c) {
        const char *want = coord[(c - 1) % stride];
        if (strcmp(rows[2].cells[c], want) != 0)
            return lp_errorf(LP_STATUS_BAD_ARG, fn,
                             "%s: line 3, column %d: coord '%s', expected '%s' (coords are"
                             " x,y or x,y,visible for every keypoint)", file, c + 1,
                             rows[2].cells[c], want);
    }
    if (n_cols < 3 || (n_cols - 1) % stride != 0)
        return lp_errorf(LP_STATUS_BAD_ARG, fn,
                         "%s: line 1: %d value columns after the image path; expected a"
                         " nonzero multiple of %d (%s per keypoint)", file, n_cols - 1,
                         stride, stride == 2 ? "x,y" : "x,y,visible");
    int32_t K = (n_cols - 1) / stride;
    l->stride = stride;
    if (!(l->names = calloc((size_t)K, sizeof *l->names))) goto oom;
    l->n_keypoints = K;
    if (!(l->scorer = strdup(rows[0].cells[1]))) goto oom;
    for (int32_t k = 0; k < K; ++k) {
        int32_t cx = 1 + stride * k, cy = cx + stride - 1;
        const char *nx = rows[1].cells[cx];
        for (int32_t c = cx + 1; c <= cy; ++c)
            if (strcmp(nx, rows[1].cells[c]) != 0 || nx[0] == '\0')
                return lp_errorf(LP_STATUS_BAD_ARG, fn,
                                 "%s: line 2, columns %d-%d: bodyparts '%s' and '%s' must be"
                                 " one non-empty keypoint name for its %s", file, cx + 1,
                                 c + 1, nx, rows[1].cells[c], stride == 2 ? "x and y" : "x, y"
                                 " and visible");
        for (int32_t j = 0; j < k; ++j)
            if (strcmp(l->names[j], nx) == 0)
                return lp_errorf(LP_STATUS_BAD_ARG, fn,
                                 "%s: line 2, column %d: duplicate keypoint name '%s' (first"
                                 " at column %d)", file, cx + 1, nx, 2 + stride * j);
        if (!(l->names[k] = strdup(nx))) goto oom;
    }
    return LP_STATUS_OK;
oom:
    return lp_errorf(LP_STATUS_OOM, fn, "%s: out of memory", file);
}

lp_status lp_labels_read(const char *csv_path, const char *data_dir, lp_labels **out) {
    const char *fn = "lp_labels_read";
    lp_status st = LP_STATUS_OK;
    char *text = NULL, *joined = NULL, *img = NULL;
    csv_row rows[3] = {{0}}, row = {0};
    lp_labels *l = NULL;
    size_t len = 0, pos = 0;
    int has_dir = data_dir && data_dir[0];

    if (!out || !csv_path) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL argument");
    *out = NULL;
    /* LP: an existing path is used as is, else it is joined with data_dir. */
    const char *file = csv_path;
    if (!file_exists(csv_path) && has_dir && csv_path[0] != '/') {
        size_t n = strlen(data_dir) + strlen(csv_path) + 2;
        if (!(joined = malloc(n))) goto oom;
        snprintf(joined, n, "%s/%s", data_dir, csv_path);
        file = joined;
    }
    if (!(text = read_file(file, &len))) {
        if (file != csv_path)
            st = lp_errorf(LP_STATUS_IO, fn, "cannot read label CSV '%s' (nor '%s'): %s",
                           csv_path, file, strerror(errno ? errno : ENOENT));
        else
            st = lp_errorf(LP_STATUS_IO, fn, "cannot read label CSV '%s': %s", file,
                           strerror(errno ? errno : ENOENT));
        goto fail;
    }
    size_t skip = (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0; /* UTF-8 BOM */
    pos = skip;
    for (int h = 0; h < 3; ++h) {
        int r = read_row(text, len, &pos, &rows[h]);
        if (r < 0) goto oom;
        if (r == 0 || is_blank_row(&rows[h])) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn,
                           "%s: line %d: missing header row '%s' (expected 3 header rows)", file, h + 1, header_label[h]);
            goto fail;
        }
    }
    if (!(l = calloc(1, sizeof *l))) goto oom;
    if ((st = parse_header(file, rows, l)) != LP_STATUS_OK) goto fail;

    int32_t n_cols = rows[0].n, K = l->n_keypoints;
    for (int64_t line = 4;; ++line) {
        int r = read_row(text, len, &pos, &row);
        if (r < 0) goto oom;
        if (r == 0) break;
        if (is_blank_row(&row)) continue; /* trailing newline(s) */
        if (row.n != n_cols) {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: line %lld has %d columns, expected %d", file, (long long)line, row.n, n_cols);
            goto fail;
        }
        if (row.cells[0][0] == '\0') {
            st = lp_errorf(LP_STATUS_BAD_ARG, fn, "%s: line %lld, column 1: empty image path", file, (long long)line);
            goto fail;
        }
        if (grow_frames(l)) goto oom;
        float *v = l->values + l->n_frames * K * 2;
        int32_t S = l->stride;
        for (int32_t c = 1; c < n_cols; ++c) {
            int32_t k = (c - 1) / S, part = (c - 1) % S;
            float x;
            if (parse_cell(row.cells[c], &x) != 0) {
                st = lp_errorf(LP_STATUS_BAD_ARG, fn,
                               "%s: line %lld, column %d (keypoint '%s' %s): not a number:"
                               " '%s'", file, (long long)line, c + 1, l->names[k],
                               part == 0 ? "x" : part == 1 ? "y" : "visible", row.cells[c]);
                goto fail;
            }
            if (part < 2) {
                v[k * 2 + part] = x;
            } else if (x == 0.0f || x == 1.0f || x == 2.0f) { /* LP: flags in {0,1,2} */
                l->visible[l->n_frames * K + k] = (int64_t)x;
            } else {
                st = lp_errorf(LP_STATUS_BAD_ARG, fn,
                               "%s: line %lld, column %d (keypoint '%s' visible): flag '%s'"
                               " must be 0, 1 or 2", file, (long long)line, c + 1,
                               l->names[k], row.cells[c]);
                goto fail;
            }
        }
        if (has_dir) {
            size_t n = strlen(data_dir) + strlen(row.cells[0]) + 2;
            free(img);
            if (!(img = malloc(n))) goto oom;
            snprintf(img, n, "%s/%s", data_dir, row.cells[0]);
            if (!file_exists(img)) {
                st = lp_errorf(LP_STATUS_IO, fn,
                               "%s: line %lld, column 1: image '%s' not found (looked for"
                               " '%s')", file, (long long)line, row.cells[0], img);
                goto fail;
            }
        }
        if (!(l->paths[l->n_frames] = strdup(row.cells[0]))) goto oom;
        l->n_frames++;
    }
    *out = l;
    l = NULL;
    goto done;
oom:
    st = lp_errorf(LP_STATUS_OOM, fn, "out of memory reading '%s'", csv_path);
fail:
done:
    lp_labels_free(l);
    for (int h = 0; h < 3; ++h) row_clear(&rows[h]);
    row_clear(&row);
    free(text);
    free(joined);
    free(img);
    return st;
}

int64_t lp_labels_n_frames(const lp_labels *l) { return l ? l->n_frames : -1; }
int32_t lp_labels_n_keypoints(const lp_labels *l) { return l ? l->n_keypoints : -1; }
const char *lp_labels_scorer(const lp_labels *l) { return l ? l->scorer : NULL; }
const float *lp_labels_keypoints_data(const lp_labels *l) { return l ? l->values : NULL; }

const char *lp_labels_keypoint_name(const lp_labels *l, int32_t k) {
    return (l && k >= 0 && k < l->n_keypoints) ? l->names[k] : NULL;
}

const char *lp_labels_image_path(const lp_labels *l, int64_t i) {
    return (l && i >= 0 && i < l->n_frames) ? l->paths[i] : NULL;
}

int32_t lp_labels_has_visibility(const lp_labels *l) { return l && l->stride == 3; }

lp_status lp_labels_visibility(const lp_labels *l, lp_tensor **out) {
    if (!l || !out) return lp_set_error(LP_STATUS_BAD_ARG, "lp_labels_visibility: NULL argument");
    if (l->stride != 3)
        return lp_set_error(LP_STATUS_BAD_ARG,
                            "lp_labels_visibility: the CSV has no 'visible' coords");
    int64_t shape[2] = {l->n_frames, l->n_keypoints};
    static const int64_t none = 0;
    return lp_tensor_from_buffer(l->visible ? (const void *)l->visible : &none, LP_DTYPE_I64,
                                 shape, 2, out);
}

lp_status lp_labels_keypoints(const lp_labels *l, lp_tensor **out) {
    if (!l || !out) return lp_set_error(LP_STATUS_BAD_ARG, "lp_labels_keypoints: NULL argument");
    int64_t shape[3] = {l->n_frames, l->n_keypoints, 2};
    static const float none = 0.0f; /* from_buffer needs a pointer even for 0 frames */
    return lp_tensor_from_buffer(l->values ? (const void *)l->values : &none, LP_DTYPE_F32,
                                 shape, 3, out);
}
