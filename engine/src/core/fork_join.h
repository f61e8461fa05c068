/* fork_join.h: run one function over a few argument blocks at once, the
 * calling thread included (internal). The CPU kernels that split their work
 * over threads of their own (decode_sparse.c, model_crnn_recur.c) start and
 * join them here. */
#ifndef LP_FORK_JOIN_H
#define LP_FORK_JOIN_H

#include <stddef.h>
#include <stdint.h>

/* fn(args + i * size) for i = 0..n-1: block 0 on the calling thread, the
 * others on new threads; a block whose thread cannot start runs on the
 * calling thread afterwards. Returns when every block is done. */
void lp_fork_join(void *(*fn)(void *), void *args, size_t size, int64_t n);

#endif
