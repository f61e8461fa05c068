/* crnn_recur_v16.c: crnn_recur_plane.h's kernel with 16 floats per
 * vector, as AVX-512 code on x86-64 (portable vector code elsewhere, which
 * lpm_simd_wide never picks). */
#include <math.h>
#include <string.h>

#include "crnn_recur.h"
#define SIMD_VW 16
#include "simd.h"

#define CR_PLANE cr_plane_v16
#include "crnn_recur_plane.h"
