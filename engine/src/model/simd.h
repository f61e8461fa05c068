/* simd.h: the CPU float32 kernels' vectors (decode_sparse_v*.c,
 * model_crnn_recur.c): GCC vectors of SIMD_VW floats, unaligned loads and
 * stores, and the target of the hot functions. SIMD_VW 8 (the default):
 * AVX2 clones next to baseline x86-64 ones, picked by the CPU at load time
 * (glibc ifunc). SIMD_VW 16: AVX-512 (x86-64-v4) code only, which the
 * including file's caller must run only where __builtin_cpu_supports
 * ("x86-64-v4") says so; SIMD_HAS_V16 tells whether this compiler makes it.
 * Include it last, after the system headers: its pragmas apply to the rest
 * of the including file. */
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

#ifndef SIMD_VW
#define SIMD_VW 8
#endif
enum { VW = SIMD_VW }; /* floats per vector */
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIMD_HAS_V16 1
#if SIMD_VW == 16
#define SIMD_HOT __attribute__((target("arch=x86-64-v4")))
#else
#define SIMD_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#else
#define SIMD_HAS_V16 0
#define SIMD_HOT
#endif
#define SIMD_INLINE static inline __attribute__((always_inline))

/* A broadcast. Not (vf){0} + v: that is a scalar add of +0 first, which
 * the compiler must keep (it turns -0 into +0). */
SIMD_INLINE vf vf_splat(float v) {
    vf r;
    for (int i = 0; i < VW; ++i) r[i] = v;
    return r;
}
SIMD_INLINE vf vf_load(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
SIMD_INLINE void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }

#endif
