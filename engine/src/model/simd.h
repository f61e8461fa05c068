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

SIMD_INLINE vf vf_max(vf a, vf b) {
    vi gt = a > b;
    return (vf)((gt & (vi)a) | (~gt & (vi)b));
}

SIMD_INLINE float vf_hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < VW; ++i) m = v[i] > m ? v[i] : m;
    return m;
}

SIMD_INLINE float vf_hsum(vf v) {
    float s = 0;
    for (int i = 0; i < VW; ++i) s += v[i];
    return s;
}

/* e^x for x <= 0 (float32, ~1 ulp): x = n ln2 + r, |r| <= ln2/2, e^r by its
 * degree-7 Taylor polynomial (remainder < 6e-9 relative), times 2^n from the
 * exponent bits. Below -87 (under float32's normal range) gives 0. */
SIMD_INLINE vf vf_exp(vf x) {
    const vf lo = vf_splat(-87.0f), magic = vf_splat(12582912.0f); /* 1.5 * 2^23 */
    vi keep = x > lo;
    x = vf_max(x, lo);
    vf t = x * vf_splat(1.44269504f) + magic; /* round(x / ln2) in the low bits */
    vi n = (vi)t - (vi)magic;
    t = t - magic;
    vf r = x - t * vf_splat(0.693145752f) - t * vf_splat(1.42860677e-6f); /* ln2 hi + lo */
    vf q = vf_splat(1.0f / 5040);
    q = q * r + vf_splat(1.0f / 720);
    q = q * r + vf_splat(1.0f / 120);
    q = q * r + vf_splat(1.0f / 24);
    q = q * r + vf_splat(1.0f / 6);
    q = q * r + vf_splat(0.5f);
    q = q * r + vf_splat(1.0f);
    q = q * r + vf_splat(1.0f);
    vi scale = (n + 127) << 23;
    return (vf)((vi)(q * (vf)scale) & keep);
}

#endif
