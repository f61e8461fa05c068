/* decode_sparse_v16.c: decode_sparse_map.h's kernels with 16 floats per
 * vector, as AVX-512 code on x86-64 (portable vector code elsewhere, which
 * lpm_simd_wide never picks). */
#include <math.h>

#include "decode_sparse.h"
#define SIMD_VW 16
#include "simd.h"

#define DS_DECODE_MAP ds_decode_map_v16
#include "decode_sparse_map.h"
