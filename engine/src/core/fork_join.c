/* fork_join.c: see fork_join.h. */
#include "fork_join.h"

#include <pthread.h>
#include <stdlib.h>

void lp_fork_join(void *(*fn)(void *), void *args, size_t size, int64_t n) {
    char *block = args;
    pthread_t *tid = n > 1 ? malloc((size_t)n * sizeof *tid) : NULL;
    char *started = n > 1 ? calloc((size_t)n, 1) : NULL;
    for (int64_t i = 1; i < n && tid && started; ++i)
        started[i] = pthread_create(&tid[i], NULL, fn, block + (size_t)i * size) == 0;
    if (n > 0) fn(block);
    for (int64_t i = 1; i < n; ++i) {
        if (started && started[i]) pthread_join(tid[i], NULL);
        else fn(block + (size_t)i * size);
    }
    free(tid);
    free(started);
}
