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

/* libgomp's threads wait for the next parallel region by spinning: 300,000
 * spins (about 3 ms) by default, 100 while libgomp manages more threads than
 * there are CPUs (libgomp manual, GOMP_SPINCOUNT). A thread libgomp did not
 * start is not counted. So while the video decoder ran, libtorch's threads
 * spun on the core it needed, and the thread it displaced held up the other
 * at every op's end. `lpose predict` on a 1280x1024 clip: 117-125 frames/s,
 * 129-148 with GOMP_SPINCOUNT=100..10000 (alternating processes); with
 * this call, 1.09x the throughput without it (bench_predict line 5). A
 * team of two started here gives this thread a pool of its own; its second
 * thread sleeps there until this thread exits, and until then libgomp counts
 * one thread more. The short spin has a price: every op's end becomes a
 * sleep and a wake-up, and the model alone on decoded 128x128 frames took
 * 1-11 % longer with GOMP_SPINCOUNT=100 (median 4.4 %, 9 of 9 process
 * pairs). So count a thread only while it works: the prefetcher decodes each
 * window on a new thread that calls this (predict_prefetch.c). Not for the
 * training loader's threads: there the short spin made the training step
 * itself slower. While a counted thread lives, a user's GOMP_SPINCOUNT
 * applies only where lower than 100 (1000 with OMP_WAIT_POLICY=active;
 * passive stays passive): LPOSE_OMP_COUNT_DECODER=0 keeps the decoder out of
 * the count. */
void lp_fork_join_count_this_thread(void) {
    /* The team is the point; an empty body would be compiled away with it. */
#pragma omp parallel num_threads(2)
    __asm__ volatile("" ::: "memory");
}
