/* fuzz_pickle.c: torch.save files (zip container + pickle VM,
 * engine/shim/torch_zip.cpp and pickle.cpp; docs/spec/checkpoint-files.md).
 * An input that starts with "PK" is the whole file. Any other input is the
 * pickle alone: the harness stores it as archive/data.pkl in a valid zip
 * beside eight 256-byte storages (archive/data/0 .. 7), so that mutations of
 * the pickle are not all lost to zip offsets and CRCs. */
#include "fuzz_util.h"

typedef struct zbuf {
    uint8_t *p;
    size_t n, cap;
} zbuf;

static void put(zbuf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put_le(zbuf *b, uint64_t v, int n) {
    for (int k = 0; k < n; ++k) {
        uint8_t c = (uint8_t)(v >> (8 * k));
        put(b, &c, 1);
    }
}
static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* A stored zip, as torch.save writes it, of data.pkl = pickle and data/0..7. */
static void wrap(const uint8_t *pickle, size_t size, zbuf *z) {
    static uint8_t storage[256];
    for (size_t i = 0; i < sizeof storage; ++i) storage[i] = (uint8_t)(i * 37u);
    zbuf cd = {0};
    for (int e = 0; e < 9; ++e) {
        char name[32];
        snprintf(name, sizeof name, e == 0 ? "archive/data.pkl" : "archive/data/%d", e - 1);
        const uint8_t *d = e == 0 ? pickle : storage;
        size_t n = e == 0 ? size : sizeof storage;
        uint32_t crc = crc32_of(d, n);
        size_t offset = z->n, name_len = strlen(name);
        put_le(z, 0x04034b50, 4), put_le(z, 20, 2), put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, 0, 4);
        put_le(z, crc, 4), put_le(z, n, 4), put_le(z, n, 4), put_le(z, name_len, 2), put_le(z, 0, 2);
        put(z, name, name_len);
        put(z, d, n);
        put_le(&cd, 0x02014b50, 4), put_le(&cd, 20, 2), put_le(&cd, 20, 2), put_le(&cd, 0, 2);
        put_le(&cd, 0, 2), put_le(&cd, 0, 4), put_le(&cd, crc, 4), put_le(&cd, n, 4), put_le(&cd, n, 4);
        put_le(&cd, name_len, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2);
        put_le(&cd, 0, 4), put_le(&cd, offset, 4);
        put(&cd, name, name_len);
    }
    size_t cd_offset = z->n;
    put(z, cd.p, cd.n);
    put_le(z, 0x06054b50, 4), put_le(z, 0, 4), put_le(z, 9, 2), put_le(z, 9, 2);
    put_le(z, cd.n, 4), put_le(z, cd_offset, 4), put_le(z, 0, 2);
    free(cd.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    zbuf z = {0};
    int whole_file = size >= 2 && data[0] == 'P' && data[1] == 'K';
    if (!whole_file) wrap(data, size, &z);
    const char *path = whole_file ? fuzz_temp_file(data, size, ".pt") : fuzz_temp_file(z.p, z.n, ".pt");
    free(z.p);
    lp_tensor_list *list = NULL;
    if (path && lp_pickle_load(path, &list) == LP_STATUS_OK) {
        fuzz_touch_list(list); /* views must lie inside their storages */
    }
    lp_tensor_list_free(list);
    return 0;
}
