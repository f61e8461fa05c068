/* decode_sparse_v8.c: decode_sparse_map.h's kernels with 8 floats per
 * vector: AVX2 clones and baseline x86-64 ones (and any other CPU's). */
#include <math.h>

#include "decode_sparse.h"
#include "simd.h"

#define DS_DECODE_MAP ds_decode_map_v8
#include "decode_sparse_map.h"
