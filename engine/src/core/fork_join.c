/* fork_join.c: see fork_join.h. Why libgomp's threads and not our own:
 * libgomp's threads spin for a while after every libtorch op (they wait for
 * the next parallel region), so threads of a kernel's own started right
 * after one shared the cores with them: the multi-frame head's recurrence
 * took 8.4 ms per 96-frame window that way, 4.8 ms with
 * OMP_WAIT_POLICY=passive. On the same pool the spinning threads are the
 * workers. (libtorch builds that bundle a renamed libgomp, such as PyTorch's
 * wheels, have two pools; then this is as before.) */
#include "fork_join.h"

#include <omp.h>

void lp_fork_join(void *(*fn)(void *), void *args, size_t size, int64_t n) {
    char *block = args;
    const int max = omp_get_max_threads(); /* at::set_num_threads sets it */
    const int threads = n < max ? (int)n : max;
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < n; ++i) fn(block + (size_t)i * size);
}
