/* simd.h: the CPU float32 kernels' vectors (decode_sparse.c,
 * model_crnn_recur.c): 8-float GCC vectors, AVX2 clones of the hot
 * functions, and unaligned loads and stores. Include it last, after the
 * system headers: its pragmas apply to the rest of the including file. */
#ifndef LP_MODEL_SIMD_H
#define LP_MODEL_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* The vector helpers are always inlined: no vector ever crosses a call. */
#pragma GCC diagnostic ignored "-Wpsabi"
/* a * b + c may be one fused multiply-add (rounding only gets better) */
#pragma GCC optimize("fp-contract=fast")
#endif

enum { VW = 8 }; /* floats per vector */
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));

/* Clone a hot kernel for AVX2 where the CPU has it (glibc ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIMD_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SIMD_HOT
#endif
#define SIMD_INLINE static inline __attribute__((always_inline))

SIMD_INLINE vf vf_splat(float v) { return (vf){0} + v; } /* a broadcast */
SIMD_INLINE vf vf_load(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
SIMD_INLINE void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }

#endif
