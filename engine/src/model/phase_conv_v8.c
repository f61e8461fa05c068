/* phase_conv_v8.c: phase_conv_rows.h's kernel with 8 floats per vector:
 * AVX2 clones and baseline x86-64 ones (and any other CPU's). */
#include "phase_conv.h"
#include "simd.h"

#define PC_ROWS pc_rows_v8
#include "phase_conv_rows.h"
