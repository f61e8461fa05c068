/* fuzz_util.h: what every fuzz target shares (docs/developer/fuzzing.md).
 * The readers under test take paths, as users give them files, so each
 * input is written to one temp file per process (in /dev/shm when there is
 * one: no disk traffic per execution) and read back through the public API.
 * Each target defines LLVMFuzzerTestOneInput; libFuzzer drives it in
 * `make fuzz`, and replay_main.c feeds it the committed inputs in `make test`. */
#ifndef LPOSE_FUZZ_UTIL_H
#define LPOSE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

static inline void fuzz_remove_temp(void) {
    if (fuzz_path[0]) unlink(fuzz_path);
}

/* Write data to this process's temp file (name ending in `suffix`, which
 * FFmpeg uses as a format hint) and return its path; NULL if that fails. */
static inline const char *fuzz_temp_file(const uint8_t *data, size_t size, const char *suffix) {
    if (!fuzz_path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_path, sizeof fuzz_path, "%s/lpose_fuzz_%ld%s", dir, (long)getpid(), suffix);
        atexit(fuzz_remove_temp);
    }
    FILE *f = fopen(fuzz_path, "wb");
    if (!f) return NULL;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || put != size) return NULL;
    return fuzz_path;
}

/* Once per process: libtorch on one thread, so runs are reproducible. */
static inline void fuzz_init_runtime(void) {
    static int done;
    if (!done) {
        lp_runtime_init(1);
        done = 1;
    }
}

/* Read every tensor, name and the metadata of a loaded list (a view outside
 * its storage, or a bad name, shows under the sanitizers). */
static inline void fuzz_touch_list(lp_tensor_list *list) {
    for (int32_t i = 0; i < lp_tensor_list_size(list); ++i) {
        lp_tensor *t = NULL, *s = NULL;
        (void)strlen(lp_tensor_list_name(list, i));
        if (lp_tensor_list_get(list, i, &t) == LP_STATUS_OK &&
            lp_tensor_reduce(LP_REDUCE_SUM, t, NULL, 0, 0, &s) == LP_STATUS_OK) {
            double v = 0;
            lp_tensor_item(s, &v);
        }
        lp_tensor_free(s);
        lp_tensor_free(t);
    }
    (void)strlen(lp_tensor_list_meta(list));
}

#endif
