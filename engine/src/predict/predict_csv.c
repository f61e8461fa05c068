/* predict_csv.c: Lightning Pose's prediction and metric CSVs (writer,
 * reader) and Python's shortest round-trip repr of doubles. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/interrupt_internal.h"
#include "predict_internal.h"

/* ---------------------------------------------------------------- repr */

/* snprintf(out, 40, "%.*e", p - 1, v) for 15 <= p <= 17, exactly (the
 * correctly rounded p significant digits, ties to even), computed in 128-bit
 * integers for 1e-5 <= |v| < 1e15, where v * 10^(p-1-E) * 4 < 2^125;
 * printf's own conversion (multi-precision) and strtod cost ~1 us a value,
 * and an EKS CSV has 15 M values. Returns whether the digits read back as v
 * (1 or 0, decided exactly: the decimal lies inside v's rounding interval),
 * or -1 for values outside that range, printed by snprintf (ask strtod). */
static int format_e(double v, int p, char *out) {
    double a = fabs(v);
    if (!(a >= 1e-5 && a < 1e15)) {
        snprintf(out, 40, "%.*e", p - 1, v);
        return -1;
    }
    int ex;
    double f = frexp(a, &ex); /* a = f 2^ex, f in [0.5, 1) */
    unsigned __int128 m = (unsigned __int128)(uint64_t)ldexp(f, 53);
    int shift = 53 - ex;       /* a = m / 2^shift, shift in [-49, 70] */
    int e10 = (int)floor(log10(a)); /* exact but near powers of ten: fixed below */
    unsigned __int128 lo = 1, hi, n = 0;
    int round_trips = 0;
    for (int i = 1; i < p; ++i) lo *= 10;
    hi = lo * 10;
    for (int attempt = 0;; ++attempt) {
        int q = p - 1 - e10;
        if (q < 0 || q > 21 || attempt == 3 || shift < 0) {
            snprintf(out, 40, "%.*e", p - 1, v);
            return -1;
        }
        unsigned __int128 pow10 = 1;
        for (int i = 0; i < q; ++i) pow10 *= 10;
        unsigned __int128 num = m * pow10, rem = 0, half = 0; /* a 10^q = num / 2^shift */
        if (shift <= 0) {
            n = num << -shift;
        } else {
            n = num >> shift;
            rem = num - (n << shift);
            half = (unsigned __int128)1 << (shift - 1);
        }
        /* n = floor(a 10^q): 10^E <= a < 10^(E+1) iff lo <= n < hi */
        if (n < lo) {
            --e10;
        } else if (n >= hi) {
            ++e10;
        } else {
            if (rem > half || (rem == half && half && (n & 1))) ++n; /* ties to even */
            /* In units of 2^-(shift+2) / 10^q: v is 4 num, its rounding
             * interval reaches 2 10^q up and as far down (half that when m is
             * a power of two: the next double down is closer); the decimal
             * n 10^-q is n 2^(shift+2). Ties read back as the even m. */
            unsigned __int128 at = num << 2, dec = n << (shift + 2);
            unsigned __int128 up = pow10 << 1, down = m == ((unsigned __int128)1 << 52) ? pow10 : pow10 << 1;
            int even = !(m & 1);
            round_trips = dec >= at ? (dec - at < up || (dec - at == up && even))
                                    : (at - dec < down || (at - dec == down && even));
            break;
        }
    }
    if (n == hi) { /* rounded up to 10^p: 9.99..e(E) -> 1.00..e(E+1) */
        n = lo;
        ++e10;
    }
    char digits[24];
    uint64_t d = (uint64_t)n; /* < 10^17: 64-bit division, not the slow 128-bit one */
    for (int i = p - 1; i >= 0; --i) {
        digits[i] = (char)('0' + (int)(d % 10));
        d /= 10;
    }
    char *o = out;
    if (v < 0) *o++ = '-';
    *o++ = digits[0];
    *o++ = '.';
    memcpy(o, digits + 1, (size_t)(p - 1));
    o += p - 1;
    int x = e10 < 0 ? -e10 : e10; /* |E| <= 15 here */
    *o++ = 'e';
    *o++ = e10 < 0 ? '-' : '+';
    *o++ = (char)('0' + x / 10);
    *o++ = (char)('0' + x % 10);
    *o = '\0';
    return round_trips;
}

lp_status lp_format_double(double v, int64_t capacity, char *out) {
    if (out == NULL || capacity < 32)
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_format_double: capacity must be >= 32");
    if (isnan(v)) {
        strcpy(out, "nan");
        return LP_STATUS_OK;
    }
    if (isinf(v)) {
        strcpy(out, v < 0 ? "-inf" : "inf");
        return LP_STATUS_OK;
    }
    /* The shortest digits that read back as v. A double that some decimal of
     * <= 15 significant digits reads back as is printed as that decimal
     * (padded with zeros) by %.14e, since 15 digits survive a trip through a
     * double (DBL_DIG); so 15 digits, zeros stripped below, are the shortest
     * whenever they round-trip. Else the correctly rounded 16 digits round-trip
     * if any 16 do, else 17 always do. Two tries, not up to seventeen: 16
     * digits; if they round-trip, 15 may too; if not, 17. */
    char buf[40], b15[40];
    int rt = format_e(v, 16, buf);
    if (rt < 0) rt = strtod(buf, NULL) == v;
    if (rt) {
        int rt15 = format_e(v, 15, b15);
        if (rt15 < 0) rt15 = strtod(b15, NULL) == v;
        if (rt15) memcpy(buf, b15, sizeof buf);
    } else {
        format_e(v, 17, buf);
    }
    /* buf = [-]d[.ddd]e[+-]XX */
    const char *s = buf;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        ++s;
    }
    char digits[24];
    int nd = 0;
    for (; *s && *s != 'e'; ++s)
        if (*s >= '0' && *s <= '9') digits[nd++] = *s;
    int exp10 = (*s == 'e') ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0') --nd; /* "0" stays */
    digits[nd] = '\0';
    char *o = out;
    if (neg) *o++ = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; ++i) *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1) {
                for (int i = exp10 + 1; i < nd; ++i) *o++ = digits[i];
            } else {
                *o++ = '0';
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; ++i) *o++ = '0';
            for (int i = 0; i < nd; ++i) *o++ = digits[i];
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; ++i) *o++ = digits[i];
        }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- writer */

struct lp_csv_writer {
    FILE *f;
    char *path;
    char *tmp;
    int32_t kind;
    int32_t n_keypoints;
    int32_t n_coords; /* values per keypoint (PREDICTIONS): 3, or more (EKS) */
    int32_t with_set;
    int64_t n_rows;
};

/* A field, quoted as pandas does when it holds a comma, quote or newline. */
static void put_field(FILE *f, const char *s) {
    if (s == NULL) return;
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void lp_csv_writer_free(lp_csv_writer *w) {
    if (w == NULL) return;
    if (w->f) {
        fclose(w->f);
        lp_tmp_discard(w->tmp);
    } else {
        lp_tmp_end(w->tmp);
    }
    free(w->path);
    free(w);
}

static const char *const LP_COORDS[3] = { "x", "y", "likelihood" };

lp_status lp_csv_writer_open(const char *path, int32_t kind, const char *scorer,
                             int32_t n_keypoints, const char *const *names, int32_t with_set,
                             lp_csv_writer **out) {
    const char *fn = "lp_csv_writer_open";
    if (out) *out = NULL;
    if (path == NULL || out == NULL || n_keypoints < 1 ||
        (kind != LP_CSV_PREDICTIONS && kind != LP_CSV_METRIC))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "bad arguments");
    return lp_csv_writer_open_coords(path, fn, kind, scorer, n_keypoints, names, 3, LP_COORDS,
                                     with_set, out);
}

lp_status lp_csv_writer_open_coords(const char *path, const char *fn, int32_t kind,
                                    const char *scorer, int32_t n_keypoints,
                                    const char *const *names, int32_t n_coords,
                                    const char *const *coords, int32_t with_set,
                                    lp_csv_writer **out) {
    *out = NULL;
    lp_csv_writer *w = calloc(1, sizeof *w);
    if (!w) return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    if (!w->path) {
        lp_csv_writer_free(w);
        return lp_errorf(LP_STATUS_OOM, fn, "out of memory");
    }
    memcpy(w->path, path, n + 1);
    lp_status st = lp_tmp_begin(path, 1, fn, &w->tmp);
    if (st) {
        lp_csv_writer_free(w);
        return st;
    }
    w->f = fopen(w->tmp, "w");
    if (!w->f) {
        st = lp_errorf(LP_STATUS_IO, fn, "cannot write '%s': %s", w->tmp, strerror(errno));
        lp_csv_writer_free(w);
        return st;
    }
    w->kind = kind;
    w->n_keypoints = n_keypoints;
    w->n_coords = kind == LP_CSV_PREDICTIONS ? n_coords : 1;
    w->with_set = with_set != 0;
    FILE *f = w->f;
    char def[32];
#define NAME(k) (names && names[k] ? names[k] : (snprintf(def, sizeof def, "bodypart%d", (k)), def))
    if (kind == LP_CSV_PREDICTIONS) {
        fputs("scorer", f);
        for (int32_t k = 0; k < n_coords * n_keypoints; ++k) {
            fputc(',', f);
            put_field(f, scorer ? scorer : "");
        }
        if (w->with_set) fputs(",set", f);
        fputs("\nbodyparts", f);
        for (int32_t k = 0; k < n_keypoints; ++k)
            for (int c = 0; c < n_coords; ++c) {
                fputc(',', f);
                put_field(f, NAME(k));
            }
        if (w->with_set) fputc(',', f);
        fputs("\ncoords", f);
        for (int32_t k = 0; k < n_keypoints; ++k)
            for (int c = 0; c < n_coords; ++c) {
                fputc(',', f);
                put_field(f, coords[c]);
            }
        if (w->with_set) fputc(',', f);
        fputc('\n', f);
    } else {
        for (int32_t k = 0; k < n_keypoints; ++k) {
            fputc(',', f);
            put_field(f, NAME(k));
        }
        if (w->with_set) fputs(",set", f);
        fputc('\n', f);
    }
#undef NAME
    *out = w;
    return LP_STATUS_OK;
}

lp_status lp_csv_writer_write_row(lp_csv_writer *w, const char *index, const float *values,
                                  const char *set) {
    if (w == NULL || w->f == NULL || values == NULL)
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_csv_writer_write_row: closed writer or NULL values");
    FILE *f = w->f;
    if (index)
        put_field(f, index);
    else
        fprintf(f, "%lld", (long long)w->n_rows);
    int32_t nv = w->n_coords * w->n_keypoints;
    char buf[48];
    for (int32_t i = 0; i < nv; ++i) {
        fputc(',', f);
        if (!isnan(values[i])) {
            lp_format_double((double)values[i], sizeof buf, buf);
            fputs(buf, f);
        }
    }
    if (w->with_set) {
        fputc(',', f);
        put_field(f, set ? set : "");
    }
    fputc('\n', f);
    ++w->n_rows;
    return LP_STATUS_OK;
}

/* ------------------------------------------------ many f64 rows, in parallel
 * Python's repr of a double costs ~1 us (two printf/strtod tries), so a
 * 100,000-frame EKS output (15 M values) is formatted by several threads,
 * each a block of rows into its own buffer; the blocks are written in order. */

typedef struct text_buf {
    char *p;
    size_t n, cap;
    int oom;
} text_buf;

static void buf_put(text_buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1 << 16;
        while (cap < b->n + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* put_field's quoting, into a buffer. */
static void buf_field(text_buf *b, const char *s) {
    if (strpbrk(s, ",\"\n\r") == NULL) {
        buf_put(b, s, strlen(s));
        return;
    }
    buf_put(b, "\"", 1);
    for (; *s; ++s) {
        if (*s == '"') buf_put(b, "\"", 1);
        buf_put(b, s, 1);
    }
    buf_put(b, "\"", 1);
}

typedef struct rows_job {
    int64_t first, n;  /* rows of this block, counted from the call's first */
    int64_t row0;      /* the writer's row count at the call (default index) */
    int32_t n_values;
    const char *const *index;
    const double *values;
    text_buf out;
} rows_job;

static void *format_rows(void *arg) {
    rows_job *j = arg;
    char num[48];
    j->out.n = 0;
    for (int64_t i = j->first; i < j->first + j->n; ++i) {
        if (j->index) {
            buf_field(&j->out, j->index[i]);
        } else {
            int len = snprintf(num, sizeof num, "%lld", (long long)(j->row0 + i));
            buf_put(&j->out, num, (size_t)len);
        }
        const double *v = j->values + i * j->n_values;
        for (int32_t c = 0; c < j->n_values; ++c) {
            buf_put(&j->out, ",", 1);
            if (!isnan(v[c])) {
                lp_format_double(v[c], sizeof num, num);
                buf_put(&j->out, num, strlen(num));
            }
        }
        buf_put(&j->out, "\n", 1);
    }
    return NULL;
}

enum { ROWS_MAX_THREADS = 8, ROWS_PER_BLOCK = 2048 };

lp_status lp_csv_writer_write_rows_f64(lp_csv_writer *w, int64_t n_rows, const char *const *index,
                                       const double *values) {
    const char *fn = "lp_csv_writer_write_rows_f64";
    if (w == NULL || w->f == NULL || values == NULL || n_rows < 0 || w->with_set)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "closed writer, NULL values or a set column");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = cores < 1 ? 1 : cores > ROWS_MAX_THREADS ? ROWS_MAX_THREADS : (int)cores;
    rows_job jobs[ROWS_MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    lp_status st = LP_STATUS_OK;
    int64_t row0 = w->n_rows;
    for (int64_t r = 0; r < n_rows && !st; r += (int64_t)nt * ROWS_PER_BLOCK) {
        if (lp_interrupt_pending()) {
            st = lp_errorf(LP_STATUS_INTERRUPTED, fn, "interrupted!");
            break;
        }
        pthread_t th[ROWS_MAX_THREADS];
        int started[ROWS_MAX_THREADS] = { 0 };
        int nj = 0;
        for (; nj < nt && r + (int64_t)nj * ROWS_PER_BLOCK < n_rows; ++nj) {
            rows_job *j = &jobs[nj];
            j->first = r + (int64_t)nj * ROWS_PER_BLOCK;
            j->n = n_rows - j->first < ROWS_PER_BLOCK ? n_rows - j->first : ROWS_PER_BLOCK;
            j->row0 = row0;
            j->n_values = w->n_coords * w->n_keypoints;
            j->index = index;
            j->values = values;
            /* job 0 runs on this thread; a thread that cannot start runs here too */
            if (nj > 0) started[nj] = pthread_create(&th[nj], NULL, format_rows, j) == 0;
        }
        format_rows(&jobs[0]);
        for (int k = 1; k < nj; ++k) {
            if (started[k])
                pthread_join(th[k], NULL);
            else
                format_rows(&jobs[k]);
        }
        for (int k = 0; k < nj && !st; ++k) {
            if (jobs[k].out.oom) {
                st = lp_errorf(LP_STATUS_OOM, fn, "out of memory");
            } else if (fwrite(jobs[k].out.p, 1, jobs[k].out.n, w->f) != jobs[k].out.n) {
                st = lp_errorf(LP_STATUS_IO, fn, "cannot write '%s': %s", w->path, strerror(errno));
            } else {
                w->n_rows += jobs[k].n;
            }
        }
    }
    for (int k = 0; k < ROWS_MAX_THREADS; ++k) free(jobs[k].out.p);
    return st;
}

lp_status lp_csv_writer_close(lp_csv_writer *w) {
    if (w == NULL || w->f == NULL) return lp_set_error(LP_STATUS_BAD_ARG, "lp_csv_writer_close: not open");
    int bad = ferror(w->f);
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad || rename(w->tmp, w->path) != 0) {
        lp_status st = lp_errorf(LP_STATUS_IO, "lp_csv_writer_close", "cannot write '%s': %s",
                                      w->path, strerror(errno));
        lp_tmp_discard(w->tmp);
        w->tmp = NULL;
        return st;
    }
    lp_tmp_end(w->tmp);
    w->tmp = NULL;
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- reader */

/* Split a CSV line in place into fields (handles quoted fields). */
static int split_fields(char *line, char **fields, int max) {
    int n = 0;
    char *s = line;
    for (;;) {
        if (n == max) return -1;
        if (*s == '"') {
            char *o = ++s;
            fields[n++] = o;
            for (;;) {
                if (*s == '\0') break;
                if (*s == '"') {
                    if (s[1] == '"') {
                        *o++ = '"';
                        s += 2;
                        continue;
                    }
                    ++s;
                    break;
                }
                *o++ = *s++;
            }
            while (*s && *s != ',') ++s;
            int end = *s == '\0';
            *o = '\0';
            if (end) return n;
            ++s;
        } else {
            fields[n++] = s;
            char *c = strchr(s, ',');
            if (!c) return n;
            *c = '\0';
            s = c + 1;
        }
    }
}

struct lp_csv_rows {
    FILE *f;
    char *path;
    char *line;
    size_t cap;
    char **fields;
    int max_fields;
    int32_t kind;
    int32_t n_keypoints;
    int32_t with_set;
    int32_t n_columns; /* value columns of a row (PREDICTIONS: any coords) */
    int *cols;         /* PREDICTIONS: column of keypoint k's x, y, likelihood at 3k+c */
    char *scorer;
    char **names;
    int64_t lineno;
    /* last row's strings */
    char *index;
    char *set;
};

void lp_csv_rows_free(lp_csv_rows *r) {
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->path);
    free(r->line);
    free(r->fields);
    free(r->cols);
    free(r->scorer);
    if (r->names)
        for (int32_t k = 0; k < r->n_keypoints; ++k) free(r->names[k]);
    free(r->names);
    free(r->index);
    free(r->set);
    free(r);
}

static int read_line(lp_csv_rows *r) {
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) return 0;
    while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) r->line[--n] = '\0';
    ++r->lineno;
    return 1;
}

static lp_status rows_fail(lp_csv_rows *r, const char *what) {
    lp_status st = lp_errorf(LP_STATUS_IO, "lp_csv_table_read", "%s:%lld: %s", r->path,
                                  (long long)r->lineno, what);
    lp_csv_rows_free(r);
    return st;
}

/* The columns of each keypoint's x, y and likelihood, keypoints in the
 * order of their first column; other coords (the extra columns of an EKS
 * CSV) are skipped. NULL, or what is wrong. */
static const char *map_coords(lp_csv_rows *r, char *const *bodyparts, int nv, char *msg,
                              size_t cap) {
    static const char *const want[3] = { "x", "y", "likelihood" };
    r->cols = malloc(sizeof(int) * 3 * (size_t)nv);
    r->names = calloc((size_t)nv, sizeof(char *));
    if (!r->cols || !r->names) return "out of memory";
    for (int i = 0; i < nv; ++i) {
        int c = 0;
        while (c < 3 && strcmp(r->fields[1 + i], want[c]) != 0) ++c;
        if (c == 3) continue;
        int32_t k = 0;
        while (k < r->n_keypoints && strcmp(r->names[k], bodyparts[i]) != 0) ++k;
        if (k == r->n_keypoints) {
            r->names[k] = strdup(bodyparts[i]);
            for (int j = 0; j < 3; ++j) r->cols[3 * k + j] = -1;
            ++r->n_keypoints;
        }
        if (r->cols[3 * k + c] >= 0) {
            snprintf(msg, cap, "keypoint '%s' has two '%s' columns (%d and %d)",
                     bodyparts[i], want[c], r->cols[3 * k + c] + 2, i + 2);
            return msg;
        }
        r->cols[3 * k + c] = i;
    }
    if (r->n_keypoints == 0) return "no x, y, likelihood columns in the coords row";
    for (int32_t k = 0; k < r->n_keypoints; ++k)
        for (int c = 0; c < 3; ++c)
            if (r->cols[3 * k + c] < 0) {
                snprintf(msg, cap, "keypoint '%s' has no '%s' column", r->names[k], want[c]);
                return msg;
            }
    return NULL;
}

lp_status lp_csv_rows_open(const char *path, lp_csv_rows **out) {
    *out = NULL;
    lp_csv_rows *r = calloc(1, sizeof *r);
    if (!r) return lp_set_error(LP_STATUS_OOM, "lp_csv_table_read: out of memory");
    r->path = strdup(path);
    r->f = fopen(path, "r");
    if (!r->f) {
        lp_status st = lp_errorf(LP_STATUS_IO, "lp_csv_table_read", "cannot open '%s': %s",
                                      path, strerror(errno));
        lp_csv_rows_free(r);
        return st;
    }
    if (!read_line(r)) return rows_fail(r, "empty file");
    int maxf = 2;
    for (const char *c = r->line; *c; ++c) maxf += *c == ',';
    r->max_fields = maxf;
    r->fields = malloc(sizeof(char *) * (size_t)maxf);
    if (!r->fields) return rows_fail(r, "out of memory");
    int n = split_fields(r->line, r->fields, maxf);
    if (n < 2) return rows_fail(r, "not an lpose/LP output CSV");
    r->with_set = strcmp(r->fields[n - 1], "set") == 0;
    int nv = n - 1 - r->with_set;
    if (strcmp(r->fields[0], "scorer") == 0) {
        r->kind = LP_CSV_PREDICTIONS;
        if (nv == 0) return rows_fail(r, "the header has no value columns");
        r->scorer = strdup(r->fields[1]);
        if (!read_line(r)) return rows_fail(r, "missing bodyparts row");
        n = split_fields(r->line, r->fields, maxf);
        if (n < 1 + nv || strcmp(r->fields[0], "bodyparts") != 0)
            return rows_fail(r, "expected the bodyparts row");
        char **bodyparts = calloc((size_t)nv, sizeof(char *));
        if (!bodyparts) return rows_fail(r, "out of memory");
        for (int i = 0; i < nv; ++i) bodyparts[i] = strdup(r->fields[1 + i]);
        const char *err = NULL;
        char msg[320];
        if (!read_line(r)) {
            err = "missing coords row";
        } else {
            n = split_fields(r->line, r->fields, maxf);
            if (n < 1 + nv || strcmp(r->fields[0], "coords") != 0)
                err = "expected the coords row";
            else
                err = map_coords(r, bodyparts, nv, msg, sizeof msg);
        }
        for (int i = 0; i < nv; ++i) free(bodyparts[i]);
        free(bodyparts);
        if (err) return rows_fail(r, err);
        r->n_columns = nv;
    } else if (r->fields[0][0] == '\0') {
        r->kind = LP_CSV_METRIC;
        r->n_keypoints = nv;
        r->n_columns = nv;
        r->scorer = strdup("");
        r->names = calloc((size_t)nv, sizeof(char *));
        for (int32_t k = 0; k < nv; ++k) r->names[k] = strdup(r->fields[1 + k]);
    } else {
        return rows_fail(r, "not an lpose/LP output CSV (first cell must be 'scorer' or empty)");
    }
    *out = r;
    return LP_STATUS_OK;
}

int32_t lp_csv_rows_n_keypoints(const lp_csv_rows *r) { return r->n_keypoints; }
int32_t lp_csv_rows_kind(const lp_csv_rows *r) { return r->kind; }
const char *lp_csv_rows_name(const lp_csv_rows *r, int32_t k) {
    return k >= 0 && k < r->n_keypoints && r->names[k] ? r->names[k] : "";
}

lp_status lp_csv_rows_next(lp_csv_rows *r, double *vals) {
    for (;;) {
        if (!read_line(r)) return LP_STATUS_EOF;
        if (r->line[0] != '\0') break;
    }
    int nv = r->kind == LP_CSV_PREDICTIONS ? 3 * r->n_keypoints : r->n_keypoints;
    int n = split_fields(r->line, r->fields, r->max_fields);
    if (n != 1 + r->n_columns + r->with_set)
        return lp_errorf(LP_STATUS_IO, "lp_csv_table_read", "%s:%lld: expected %d fields, got %d",
                              r->path, (long long)r->lineno, 1 + r->n_columns + r->with_set, n);
    for (int i = 0; i < nv; ++i) {
        int col = r->cols ? r->cols[i] : i;
        const char *s = r->fields[1 + col];
        if (*s == '\0' || strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0) {
            vals[i] = NAN;
            continue;
        }
        char *end;
        vals[i] = strtod(s, &end);
        if (*end != '\0')
            return lp_errorf(LP_STATUS_IO, "lp_csv_table_read", "%s:%lld: column %d: '%s' is not a number",
                                  r->path, (long long)r->lineno, 2 + col, s);
    }
    free(r->index);
    r->index = strdup(r->fields[0]);
    free(r->set);
    r->set = r->with_set ? strdup(r->fields[n - 1]) : NULL;
    return LP_STATUS_OK;
}

struct lp_csv_table {
    int32_t kind, n_keypoints, with_set;
    char *scorer;
    char **names;
    int64_t n_rows;
    char **index;
    char **set;
    double *values;
};

void lp_csv_table_free(lp_csv_table *t) {
    if (!t) return;
    free(t->scorer);
    if (t->names)
        for (int32_t k = 0; k < t->n_keypoints; ++k) free(t->names[k]);
    free(t->names);
    for (int64_t i = 0; i < t->n_rows; ++i) {
        free(t->index[i]);
        if (t->set) free(t->set[i]);
    }
    free(t->index);
    free(t->set);
    free(t->values);
    free(t);
}

lp_status lp_csv_table_read(const char *path, lp_csv_table **out) {
    if (out) *out = NULL;
    if (!path || !out) return lp_set_error(LP_STATUS_BAD_ARG, "lp_csv_table_read: NULL argument");
    lp_csv_rows *r;
    lp_status st = lp_csv_rows_open(path, &r);
    if (st) return st;
    lp_csv_table *t = calloc(1, sizeof *t);
    int nv = r->kind == LP_CSV_PREDICTIONS ? 3 * r->n_keypoints : r->n_keypoints;
    int64_t cap = 64;
    t->kind = r->kind;
    t->n_keypoints = r->n_keypoints;
    t->with_set = r->with_set;
    t->index = malloc(sizeof(char *) * (size_t)cap);
    t->set = r->with_set ? malloc(sizeof(char *) * (size_t)cap) : NULL;
    t->values = malloc(sizeof(double) * (size_t)(cap * nv));
    for (;;) {
        if (t->n_rows == cap) {
            cap *= 2;
            t->index = realloc(t->index, sizeof(char *) * (size_t)cap);
            if (t->set) t->set = realloc(t->set, sizeof(char *) * (size_t)cap);
            t->values = realloc(t->values, sizeof(double) * (size_t)(cap * nv));
        }
        st = lp_csv_rows_next(r, t->values + t->n_rows * nv);
        if (st == LP_STATUS_EOF) break;
        if (st) {
            lp_csv_rows_free(r);
            lp_csv_table_free(t);
            return st;
        }
        t->index[t->n_rows] = r->index;
        r->index = NULL;
        if (t->set) {
            t->set[t->n_rows] = r->set;
            r->set = NULL;
        }
        ++t->n_rows;
    }
    t->scorer = r->scorer;
    r->scorer = NULL;
    t->names = r->names;
    r->names = NULL;
    lp_csv_rows_free(r);
    *out = t;
    return LP_STATUS_OK;
}

int32_t lp_csv_table_kind(const lp_csv_table *t) { return t ? t->kind : -1; }
int64_t lp_csv_table_n_rows(const lp_csv_table *t) { return t ? t->n_rows : -1; }
int32_t lp_csv_table_n_keypoints(const lp_csv_table *t) { return t ? t->n_keypoints : -1; }
int32_t lp_csv_table_has_set(const lp_csv_table *t) { return t ? t->with_set : -1; }
const char *lp_csv_table_scorer(const lp_csv_table *t) { return t ? t->scorer : NULL; }
const char *lp_csv_table_keypoint_name(const lp_csv_table *t, int32_t i) {
    return t && i >= 0 && i < t->n_keypoints ? t->names[i] : NULL;
}
const char *lp_csv_table_index(const lp_csv_table *t, int64_t row) {
    return t && row >= 0 && row < t->n_rows ? t->index[row] : NULL;
}
const char *lp_csv_table_set(const lp_csv_table *t, int64_t row) {
    return t && t->set && row >= 0 && row < t->n_rows ? t->set[row] : NULL;
}
const double *lp_csv_table_values(const lp_csv_table *t) { return t ? t->values : NULL; }
