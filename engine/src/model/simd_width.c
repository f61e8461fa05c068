/* simd_width.c: which vector width the CPU float32 kernels (the sparse
 * decoder, the MF head's recurrence, the heads' direct convolution) run at.
 * Each exists with 8 and 16 floats per vector (simd.h); 16 is AVX-512
 * code, made only by GCC for x86-64, so it may run only where the CPU has
 * x86-64-v4. */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "simd.h"

int lpm_simd_wide(void) {
    const char *env = getenv("LPOSE_SIMD_WIDTH");
    if (env && strcmp(env, "8") == 0) return 0;
#if SIMD_HAS_V16
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4") != 0;
#else
    return 0;
#endif
}
