/* decode_sparse_v16.c: decode_sparse_map.h's kernels with 16 floats per
 * vector, as AVX-512 code on x86-64 (portable vector code elsewhere, which
 * ds_cpu_has_v16 never picks). */
#include <math.h>

#include "decode_sparse.h"
#define SIMD_VW 16
#include "simd.h"

#define DS_DECODE_MAP ds_decode_map_v16
#include "decode_sparse_map.h"

int ds_cpu_has_v16(void) {
#if SIMD_HAS_V16
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4");
#else
    return 0;
#endif
}
