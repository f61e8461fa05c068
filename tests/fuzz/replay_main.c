/* replay_main.c: `make test` runs each fuzz target without the fuzzer: this
 * main() feeds every file of tests/fuzz/corpus/<target>/ (the seeds) and
 * tests/fixtures/fuzz/<target>/ (inputs that once crashed a reader) to the
 * target's LLVMFuzzerTestOneInput and prints one TAP line per file. A file
 * that crashes kills the process, which tests/run_all.sh counts as a failure;
 * the "# replaying" line before it names the file. FUZZ_TARGET is set by the
 * Makefile (tests/fuzz/fuzz.mk). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int count;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void replay_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; ++i) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
        fclose(f);
        printf("# replaying %s\n", path);
        fflush(stdout);
        if (buf && got == (size_t)len) LLVMFuzzerTestOneInput(buf, got);
        printf("%s %d - fuzz target " FUZZ_TARGET " survives %s\n", buf && got == (size_t)len ? "ok" : "not ok",
               ++count, path);
        fflush(stdout);
        free(buf);
    }
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    replay_dir("tests/fuzz/corpus/" FUZZ_TARGET);
    replay_dir("tests/fixtures/fuzz/" FUZZ_TARGET);
    if (count == 0) printf("not ok 1 - fuzz target " FUZZ_TARGET " has no inputs to replay (run from the repository root)\n");
    printf("1..%d\n", count ? count : 1);
    return 0;
}
