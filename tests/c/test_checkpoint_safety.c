/* test_checkpoint_safety.c: the torch.save reader's contract
 * (docs/spec/checkpoint-files.md) against hand-made hostile files. Each
 * file is written here from bytes: a stored zip (as torch.save writes it)
 * holding a protocol-2 pickle, so no Python is needed. */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#include "lp_test.h"

/* ---------------------------------------------------------------- bytes */

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put_le(buf *b, uint64_t v, int n) {
    for (int k = 0; k < n; ++k) {
        unsigned char c = (unsigned char)(v >> (8 * k));
        put(b, &c, 1);
    }
}
static void put_s(buf *b, const char *s) { put(b, s, strlen(s)); }

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* ---------------------------------------------------------------- zip */

typedef struct entry {
    const char *name;        /* under "archive/" */
    const unsigned char *data;
    size_t len;
    uint64_t declared;       /* size written in the headers; 0: len */
} entry;

static char dir[256];

static const char *write_zip(const char *file, const entry *e, int n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    buf z = {0}, cd = {0};
    for (int i = 0; i < n; ++i) {
        char name[256];
        snprintf(name, sizeof name, "archive/%s", e[i].name);
        uint64_t size = e[i].declared ? e[i].declared : e[i].len;
        uint32_t crc = crc32_of(e[i].data, e[i].len);
        size_t offset = z.n;
        put_le(&z, 0x04034b50, 4);
        put_le(&z, 20, 2), put_le(&z, 0, 2), put_le(&z, 0, 2), put_le(&z, 0, 4);
        put_le(&z, crc, 4), put_le(&z, size, 4), put_le(&z, size, 4);
        put_le(&z, strlen(name), 2), put_le(&z, 0, 2);
        put_s(&z, name);
        put(&z, e[i].data, e[i].len);
        put_le(&cd, 0x02014b50, 4);
        put_le(&cd, 20, 2), put_le(&cd, 20, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 4);
        put_le(&cd, crc, 4), put_le(&cd, size, 4), put_le(&cd, size, 4);
        put_le(&cd, strlen(name), 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2);
        put_le(&cd, 0, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 4), put_le(&cd, offset, 4);
        put_s(&cd, name);
    }
    size_t cd_offset = z.n;
    put(&z, cd.p, cd.n);
    put_le(&z, 0x06054b50, 4);
    put_le(&z, 0, 2), put_le(&z, 0, 2), put_le(&z, (uint64_t)n, 2), put_le(&z, (uint64_t)n, 2);
    put_le(&z, cd.n, 4), put_le(&z, cd_offset, 4), put_le(&z, 0, 2);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(z.p, 1, z.n, f);
        fclose(f);
    }
    free(z.p);
    free(cd.p);
    return path;
}

/* ---------------------------------------------------------------- pickle */

static void p_str(buf *b, const char *s) {
    put_s(b, "X");
    put_le(b, strlen(s), 4);
    put_s(b, s);
}
static void p_int(buf *b, int64_t v) {
    put_s(b, "\x8a\x08"); /* LONG1, 8 bytes */
    put_le(b, (uint64_t)v, 8);
}
/* _rebuild_tensor_v2((storage, 'storage' key, numel), offset, (size,), (1,), False, OrderedDict()) */
static void p_tensor(buf *b, const char *key, int64_t numel, int64_t offset, int64_t size) {
    put_s(b, "ctorch._utils\n_rebuild_tensor_v2\n(");
    put_s(b, "(");
    p_str(b, "storage");
    put_s(b, "ctorch\nFloatStorage\n");
    p_str(b, key);
    p_str(b, "cpu");
    p_int(b, numel);
    put_s(b, "tQ");
    p_int(b, offset);
    put_s(b, "(");
    p_int(b, size);
    put_s(b, "t(");
    p_int(b, 1);
    put_s(b, "t\x89" "ccollections\nOrderedDict\n)R" "tR");
}

static const float six[6] = {0, 1, 2, 3, 4, 5};

/* {"w": tensor of data/0 with numel, offset, size} plus `extra` before STOP */
static const char *tensor_file(const char *file, int64_t numel, int64_t offset, int64_t size, uint64_t declared) {
    buf p = {0};
    put_s(&p, "\x80\x02}");
    p_str(&p, "w");
    p_tensor(&p, "0", numel, offset, size);
    put_s(&p, "s.");
    entry e[2] = {{"data.pkl", p.p, p.n, 0}, {"data/0", (const unsigned char *)six, sizeof six, declared}};
    const char *path = write_zip(file, e, 2);
    free(p.p);
    return path;
}

static const char *pickle_file(const char *file, const buf *p) {
    entry e[1] = {{"data.pkl", p->p, p->n, 0}};
    return write_zip(file, e, 1);
}

/* ---------------------------------------------------------------- tests */

static void test_well_formed(void) {
    lp_tensor_list *l = NULL;
    /* a tensor plus non-tensor leaves: the leaves are named in the meta */
    buf p = {0};
    put_s(&p, "\x80\x02}(");
    p_str(&p, "w");
    p_tensor(&p, "0", 6, 1, 4);
    p_str(&p, "x");
    p_int(&p, 5);
    p_str(&p, "cfg");
    put_s(&p, "comegaconf.dictconfig\nDictConfig\n)\x81}b");
    put_s(&p, "u.");
    entry e[2] = {{"data.pkl", p.p, p.n, 0}, {"data/0", (const unsigned char *)six, sizeof six, 0}};
    LP_CHECK_OK(lp_pickle_load(write_zip("lpose_safety_ok.pt", e, 2), &l));
    free(p.p);
    LP_CHECK(lp_tensor_list_size(l) == 1 && strcmp(lp_tensor_list_name(l, 0), "w") == 0);
    LP_CHECK(strcmp(lp_tensor_list_meta(l), "x\ncfg") == 0);
    lp_tensor *w = NULL;
    if (l && lp_tensor_list_get(l, 0, &w) == LP_STATUS_OK) {
        double v = -1;
        lp_tensor *last = NULL;
        LP_CHECK(lp_tensor_numel(w) == 4);
        if (lp_tensor_select(w, 0, 3, &last) == LP_STATUS_OK) lp_tensor_item(last, &v);
        LP_CHECK(v == 4.0); /* offset 1: elements 1..4 */
        lp_tensor_free(last);
    }
    lp_tensor_free(w);
    lp_tensor_list_free(l);
}

static void test_code_is_refused(void) {
    lp_tensor_list *l = NULL;
    buf p = {0};
    /* {"w": tensor, "x": os.system('echo pwned')} */
    put_s(&p, "\x80\x02}(");
    p_str(&p, "x");
    put_s(&p, "cos\nsystem\n(");
    p_str(&p, "echo pwned");
    put_s(&p, "tRu.");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_os.pt", &p), &l), LP_STATUS_UNSUPPORTED,
                   "global 'os.system' is not allowed");
    LP_CHECK(l == NULL);
    /* the same through STACK_GLOBAL (protocol 4), and builtins.eval */
    p.n = 0;
    put_s(&p, "\x80\x04");
    p_str(&p, "builtins");
    p_str(&p, "eval");
    put_s(&p, "\x93(");
    p_str(&p, "1");
    put_s(&p, "tR.");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_eval.pt", &p), &l), LP_STATUS_UNSUPPORTED,
                   "global 'builtins.eval' is not allowed");
    /* INST (protocol 0's call-a-class) is an opcode we never accept */
    p.n = 0;
    put_s(&p, "(ios\nsystem\n.");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_inst.pt", &p), &l), LP_STATUS_UNSUPPORTED,
                   "opcode INST (0x69) is not allowed");
    free(p.p);
}

static void test_bombs(void) {
    lp_tensor_list *l = NULL;
    buf p = {0};
    /* a list nested 100 000 deep: [[[[...]]]] */
    put_s(&p, "\x80\x02");
    for (int i = 0; i < 100000; ++i) put_s(&p, "]");
    for (int i = 0; i < 99999; ++i) put_s(&p, "a");
    put_s(&p, ".");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_deep.pt", &p), &l), LP_STATUS_BAD_ARG,
                   "containers nested deeper than 64");
    /* shared references: x -> (x, x), 60 times, is 2^60 paths through a 200-byte pickle */
    p.n = 0;
    put_s(&p, "\x80\x02N");
    for (int i = 0; i < 60; ++i) put_s(&p, "2\x86"); /* x -> (x, x) */
    put_s(&p, ".");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_laughs.pt", &p), &l), LP_STATUS_BAD_ARG,
                   "expands to more than");
    /* a million and one values */
    p.n = 0;
    put_s(&p, "\x80\x02");
    for (int i = 0; i < 1000001; ++i) put_s(&p, "N");
    put_s(&p, ".");
    LP_CHECK_FAILS(lp_pickle_load(pickle_file("lpose_safety_many.pt", &p), &l), LP_STATUS_BAD_ARG,
                   "more than 1000000 values");
    free(p.p);
    LP_CHECK(l == NULL);
}

static void test_storage_checks(void) {
    lp_tensor_list *l = NULL;
    /* a view whose last element is past the 6-element storage */
    LP_CHECK_FAILS(lp_pickle_load(tensor_file("lpose_safety_offset.pt", 6, 100, 2, 0), &l), LP_STATUS_BAD_ARG,
                   "runs past its storage of 6 elements");
    LP_CHECK_FAILS(lp_pickle_load(tensor_file("lpose_safety_size.pt", 6, 0, 7, 0), &l), LP_STATUS_BAD_ARG,
                   "runs past its storage");
    /* a 1 TB storage (2^38 floats) backed by 24 bytes: refused by the size check, which runs
     * before the allocation (an attempted 1 TB allocation would fail with LP_STATUS_OOM) */
    LP_CHECK_FAILS(lp_pickle_load(tensor_file("lpose_safety_1tb.pt", (int64_t)1 << 38, 0, 1, 0), &l),
                   LP_STATUS_BAD_ARG, "declares 1099511627776 bytes but its zip entry holds 24");
    /* a zip entry that claims more bytes than the file has */
    LP_CHECK_FAILS(lp_pickle_load(tensor_file("lpose_safety_lie.pt", 6, 0, 6, 1000), &l), LP_STATUS_BAD_ARG,
                   "'archive/data/0' declares 1000 bytes but the file holds only");
    LP_CHECK(l == NULL);
}

/* The fuzzer's first finding: every refused zip leaked its FILE (the reader's
 * constructor threw before a destructor could close it), so a long-running
 * process ran out of file descriptors. */
static int open_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) ++n;
    closedir(d);
    return n;
}

static void test_no_fd_leak(void) {
    lp_tensor_list *l = NULL;
    const char *bad = "tests/fixtures/fuzz/pickle/fd-leak-no-central-directory.pt";
    LP_CHECK_FAILS(lp_pickle_load(bad, &l), LP_STATUS_BAD_ARG, "not a zip file (no end of central directory)");
    int before = open_fds();
    for (int i = 0; i < 200; ++i) lp_pickle_load(bad, &l);
    LP_CHECK(before > 0 && open_fds() == before);
}

int main(void) {
    lp_runtime_init(0);
    snprintf(dir, sizeof dir, "/tmp/lpose_test_safety_XXXXXX");
    if (!mkdtemp(dir)) LP_SKIP_ALL("cannot create a temp dir");
    test_well_formed();
    test_code_is_refused();
    test_bombs();
    test_storage_checks();
    test_no_fd_leak();
    const char *names[] = {"ok", "os", "eval", "inst", "deep", "laughs", "many", "offset", "size", "1tb", "lie"};
    for (size_t i = 0; i < sizeof names / sizeof *names; ++i) {
        char path[512];
        snprintf(path, sizeof path, "%s/lpose_safety_%s.pt", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    LP_DONE();
}
