/* lp_fixtures.h: loading the .lpt fixtures written by tests/fixtures/gen_*.py,
 * shared by the C tests that compare against PyTorch. */
#ifndef LP_FIXTURES_H
#define LP_FIXTURES_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpose.h"

/* tests/fixtures/<subdir>/<name>, looked up in $LPOSE_FIXTURES, then from
 * the current directory, then from the test executable (build/tests/). */
static inline lp_tensor_list *lp_fixture_load(const char *subdir, const char *name) {
    char path[2 * PATH_MAX];
    lp_tensor_list *l = NULL;
    const char *dir = getenv("LPOSE_FIXTURES");
    if (dir) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (lp_tensor_list_load(path, &l) == LP_STATUS_OK) return l;
    }
    snprintf(path, sizeof path, "tests/fixtures/%s/%s", subdir, name);
    if (lp_tensor_list_load(path, &l) == LP_STATUS_OK) return l;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        snprintf(path, sizeof path, "%s/../../tests/fixtures/%s/%s", exe, subdir, name);
        if (lp_tensor_list_load(path, &l) == LP_STATUS_OK) return l;
    }
    printf("# cannot load fixture %s/%s: %s\n", subdir, name, lp_last_error());
    return NULL;
}

/* Make the repository root the working directory when `probe` (a path
 * relative to it) is not reachable from here: argv0 is build/tests/<exe>.
 * Returns 0 on success, -1 when the root cannot be found. */
static inline int lp_fixture_chdir_root(const char *argv0, const char *probe) {
    if (access(probe, R_OK) == 0) return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", argv0);
    for (int up = 0; up < 3; ++up) {
        char *s = strrchr(dir, '/');
        if (s) *s = '\0'; else snprintf(dir, sizeof dir, ".");
    }
    return chdir(dir) == 0 ? 0 : -1;
}

/* New reference to the fixture tensor `name`, or NULL (and a note). */
static inline lp_tensor *lp_fixture_tensor(const lp_tensor_list *list, const char *name) {
    lp_tensor *t = NULL;
    int32_t i = lp_tensor_list_find(list, name);
    if (i < 0 || lp_tensor_list_get(list, i, &t) != LP_STATUS_OK) printf("# fixture tensor %s missing\n", name);
    return t;
}

#endif
