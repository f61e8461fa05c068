/* interrupt.c: the engine-wide interrupt flag and the temporary files of
 * atomic writes (lpose.h "Interrupts and temporary files").
 *
 * The flag is a lock-free atomic counter, so a signal handler may set it and
 * any thread may poll it. The registry of temporary files is a fixed table
 * of slots whose state is atomic: a signal handler that is about to end the
 * process walks it with nothing but atomic loads and unlink(), which are
 * async-signal-safe. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "interrupt_internal.h"

/* ---------------------------------------------------------------- the flag */

static atomic_int g_requests;

void lp_interrupt_request(void) { atomic_fetch_add(&g_requests, 1); }

void lp_interrupt_clear(void) { atomic_store(&g_requests, 0); }

int32_t lp_interrupt_pending(void) { return (int32_t)atomic_load(&g_requests); }

lp_status lp_interrupt_check(const char *fn) {
    if (atomic_load_explicit(&g_requests, memory_order_relaxed) == 0) return LP_STATUS_OK;
    return lp_errorf(LP_STATUS_INTERRUPTED, fn, "interrupted!");
}

/* ---------------------------------------------------------------- temporary files */

enum { N_SLOTS = 64, SLOT_PATH = 4096 };
enum { SLOT_FREE = 0, SLOT_BUSY = 1, SLOT_LIVE = 2 };

static struct {
    atomic_int state;
    char path[SLOT_PATH];
} g_slots[N_SLOTS];

/* A temporary name and the registry slot it holds (-1: none); callers see
 * only `name` and give it back through lp_tmp_end. */
typedef struct tmp_name {
    int slot;
    char name[];
} tmp_name;

static tmp_name *of_name(char *name) { return (tmp_name *)(name - offsetof(tmp_name, name)); }

static int tmp_register(const char *tmp) {
    size_t n = strlen(tmp);
    if (n >= SLOT_PATH) return -1; /* not registered: the stale rule still removes it later */
    for (int i = 0; i < N_SLOTS; ++i) {
        int expected = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&g_slots[i].state, &expected, SLOT_BUSY)) continue;
        memcpy(g_slots[i].path, tmp, n + 1);
        atomic_store(&g_slots[i].state, SLOT_LIVE);
        return i;
    }
    return -1; /* more than N_SLOTS files at once: the others are not registered */
}

void lp_tmp_remove_all(void) {
    for (int i = 0; i < N_SLOTS; ++i)
        if (atomic_load(&g_slots[i].state) == SLOT_LIVE) unlink(g_slots[i].path);
}

/* "<base>.tmp-<digits>" with a pid that is surely gone: kill(pid, 0) fails
 * with ESRCH (EPERM means the process exists under another user). */
static int is_stale(const char *name, const char *base, size_t nbase) {
    static const char tag[] = ".tmp-";
    if (strncmp(name, base, nbase) != 0 || strncmp(name + nbase, tag, sizeof tag - 1) != 0)
        return 0;
    const char *digits = name + nbase + sizeof tag - 1;
    size_t nd = strspn(digits, "0123456789");
    if (nd == 0 || nd > 10 || digits[nd] != '\0') return 0;
    long pid = strtol(digits, NULL, 10);
    if (pid <= 0 || pid > INT_MAX || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

lp_status lp_tmp_remove_stale(const char *path, int32_t *out) {
    if (out) *out = 0;
    if (!path || !path[0])
        return lp_set_error(LP_STATUS_BAD_ARG, "lp_tmp_remove_stale: NULL or empty path");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t ndir = slash ? (size_t)(slash - path) : 0;
    size_t nbase = strlen(base);
    if (nbase == 0) return LP_STATUS_OK;
    char *dir = malloc(ndir + 2);
    char *full = malloc(strlen(path) + 300);
    if (!dir || !full) {
        free(dir);
        free(full);
        return lp_set_error(LP_STATUS_OOM, "lp_tmp_remove_stale: out of memory");
    }
    if (slash == path) {
        strcpy(dir, "/");
    } else if (slash) {
        memcpy(dir, path, ndir);
        dir[ndir] = '\0';
    } else {
        strcpy(dir, ".");
    }
    int32_t removed = 0;
    DIR *d = opendir(dir); /* a folder that cannot be listed: nothing to do */
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_stale(e->d_name, base, nbase)) continue;
            snprintf(full, strlen(path) + 300, "%s/%s", dir, e->d_name);
            if (unlink(full) == 0) ++removed;
        }
        closedir(d);
    }
    free(dir);
    free(full);
    if (out) *out = removed;
    return LP_STATUS_OK;
}

lp_status lp_tmp_begin(const char *path, int remove_stale, const char *fn, char **out) {
    *out = NULL;
    size_t n = strlen(path) + 32;
    tmp_name *t = malloc(sizeof *t + n);
    if (!t) return lp_errorf(LP_STATUS_OOM, fn, "%s: out of memory", path);
    snprintf(t->name, n, "%s.tmp-%ld", path, (long)getpid());
    if (remove_stale) lp_tmp_remove_stale(path, NULL); /* best effort: never stops the write */
    t->slot = tmp_register(t->name);
    *out = t->name;
    return LP_STATUS_OK;
}

void lp_tmp_end(char *tmp) {
    if (!tmp) return;
    tmp_name *t = of_name(tmp);
    if (t->slot >= 0) atomic_store(&g_slots[t->slot].state, SLOT_FREE);
    free(t);
}

void lp_tmp_discard(char *tmp) {
    if (!tmp) return;
    unlink(tmp);
    lp_tmp_end(tmp);
}
