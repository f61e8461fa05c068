/* phase_conv_v16.c: phase_conv_rows.h's kernel with 16 floats per vector, as
 * AVX-512 code on x86-64 (portable vector code elsewhere, which
 * lpm_simd_wide never picks). */
#include "phase_conv.h"
#define SIMD_VW 16
#include "simd.h"

#define PC_ROWS pc_rows_v16
#include "phase_conv_rows.h"
