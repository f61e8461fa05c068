/* test_fork_join.c: lp_fork_join (engine/src/core/fork_join.c) runs every
 * block exactly once, with fewer, as many and more blocks than threads,
 * blocks that share a work counter included, and uses the threads
 * lp_set_num_threads allows (each block records the thread it ran on).
 * lp_fork_join_count_this_thread, called on a thread of our own (as the video
 * decoder does), leaves lp_fork_join working while that thread lives and after
 * it exits (its libgomp pool is freed then; make test-asan checks the leak). */
#include "lp_test.h"
#include "core/fork_join.h"

#include <pthread.h>

enum { MAX_BLOCKS = 16, N_ITEMS = 1000 };

typedef struct block {
    int runs;
    pthread_t thread;
    int64_t *next; /* shared: the next item no block has taken */
    int64_t taken;
    int *item_runs;
} block;

static void *run_block(void *arg) {
    block *b = arg;
    b->runs += 1;
    b->thread = pthread_self();
    for (;;) {
        int64_t i = __atomic_fetch_add(b->next, 1, __ATOMIC_RELAXED);
        if (i >= N_ITEMS) break;
        b->item_runs[i] += 1;
        b->taken += 1;
    }
    return NULL;
}

static void check_blocks(int64_t n) {
    block blocks[MAX_BLOCKS];
    static int item_runs[N_ITEMS];
    int64_t next = 0;
    memset(item_runs, 0, sizeof item_runs);
    for (int64_t i = 0; i < n; ++i) blocks[i] = (block){0, pthread_self(), &next, 0, item_runs};
    lp_fork_join(run_block, blocks, sizeof *blocks, n);
    int once = 1, items_once = 1;
    for (int64_t i = 0; i < n; ++i) once &= blocks[i].runs == 1;
    for (int i = 0; i < N_ITEMS; ++i) items_once &= item_runs[i] == 1;
    printf("# %lld blocks\n", (long long)n);
    LP_CHECK(once);
    LP_CHECK(items_once);
}

static pthread_barrier_t turns; /* one thread at a time in check_blocks (its statics) */

static void *counted_thread(void *arg) {
    lp_fork_join_count_this_thread();
    lp_fork_join_count_this_thread(); /* again: the same pool, no harm */
    check_blocks(3);                  /* a team from this thread's own pool */
    pthread_barrier_wait(&turns);     /* the main thread's turn, while this one lives */
    pthread_barrier_wait(&turns);
    return arg;
}

int main(void) {
    LP_CHECK_OK(lp_runtime_init(2));
    LP_CHECK_OK(lp_set_num_threads(2));
    for (int64_t n = 1; n <= 5; ++n) check_blocks(n);
    check_blocks(MAX_BLOCKS);

    /* two blocks on two threads: each on a thread of its own */
    block blocks[2];
    int64_t next = N_ITEMS; /* no items: only the threads count */
    int item_runs[1];
    for (int i = 0; i < 2; ++i) blocks[i] = (block){0, pthread_self(), &next, 0, item_runs};
    lp_fork_join(run_block, blocks, sizeof *blocks, 2);
    LP_CHECK(!pthread_equal(blocks[0].thread, blocks[1].thread));

    /* one thread: every block on the caller */
    LP_CHECK_OK(lp_set_num_threads(1));
    for (int i = 0; i < 2; ++i) blocks[i] = (block){0, pthread_self(), &next, 0, item_runs};
    lp_fork_join(run_block, blocks, sizeof *blocks, 2);
    LP_CHECK(blocks[0].runs == 1 && blocks[1].runs == 1);
    LP_CHECK(pthread_equal(blocks[0].thread, pthread_self()) && pthread_equal(blocks[1].thread, pthread_self()));

    /* a thread counted by libgomp, as the video decoder: the main thread's
     * teams still run every block while it lives and after it exits */
    LP_CHECK_OK(lp_set_num_threads(2));
    pthread_t th;
    pthread_barrier_init(&turns, NULL, 2);
    LP_CHECK(pthread_create(&th, NULL, counted_thread, NULL) == 0);
    pthread_barrier_wait(&turns);
    check_blocks(4);
    pthread_barrier_wait(&turns);
    LP_CHECK(pthread_join(th, NULL) == 0);
    pthread_barrier_destroy(&turns);
    check_blocks(4);
    LP_DONE();
}
