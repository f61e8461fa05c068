/* fork_join.h: run one function over a few argument blocks at once, the
 * calling thread included (internal). The CPU kernels that split their work
 * over threads (decode_sparse.c, model_crnn_recur.c) run their blocks here. */
#ifndef LP_FORK_JOIN_H
#define LP_FORK_JOIN_H

#include <stddef.h>
#include <stdint.h>

/* fn(args + i * size) for i = 0..n-1, at once on libgomp's threads (the
 * pool libtorch runs its ops on), the calling thread included: on
 * min(n, lp_get_num_threads()) threads, each block on a thread of its own
 * while there are threads, the rest in turn after them. Returns when every
 * block is done. Blocks may share a work counter. */
void lp_fork_join(void *(*fn)(void *), void *args, size_t size, int64_t n);

/* Make libgomp count the calling thread, one it did not start, as a thread
 * of its own, for as long as the calling thread lives. Call it first thing in
 * a thread that works while libtorch's ops run (the video decoder). Why: see
 * fork_join.c. */
void lp_fork_join_count_this_thread(void);

#endif
