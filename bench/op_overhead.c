/* bench/op_overhead.c: the C side of bench/op_overhead.lua. Times N tiny
 * in-place adds and N add+free pairs through the C API and prints
 * "inplace_us <x>" and "add_free_us <y>" (best of 7 rounds, µs per op of
 * process CPU time, which other jobs on a shared machine do not inflate). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lpose.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int64_t shape[1] = {4};
    lp_tensor *a = NULL, *b = NULL, *c = NULL;
    if (lp_runtime_init(1) || lp_tensor_ones(shape, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &a) ||
        lp_tensor_ones(shape, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &b)) {
        fprintf(stderr, "op_overhead: %s\n", lp_last_error());
        return 1;
    }
    double best_inplace = 1e9, best_add = 1e9;
    for (int round = 0; round < 7; ++round) {
        double t0 = now();
        for (long i = 0; i < n; ++i) lp_tensor_binary_(LP_BINARY_ADD, a, b);
        double t1 = now();
        for (long i = 0; i < n; ++i) {
            lp_tensor_binary(LP_BINARY_ADD, a, b, &c);
            lp_tensor_free(c);
        }
        double t2 = now();
        if ((t1 - t0) < best_inplace) best_inplace = t1 - t0;
        if ((t2 - t1) < best_add) best_add = t2 - t1;
    }
    printf("inplace_us %.4f\nadd_free_us %.4f\n", best_inplace / n * 1e6, best_add / n * 1e6);
    lp_tensor_free(a);
    lp_tensor_free(b);
    return 0;
}
