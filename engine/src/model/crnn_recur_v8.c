/* crnn_recur_v8.c: crnn_recur_plane.h's kernel with 8 floats per vector:
 * AVX2 clones and baseline x86-64 ones (and any other CPU's). */
#include <math.h>
#include <string.h>

#include "crnn_recur.h"
#include "simd.h"

#define CR_PLANE cr_plane_v8
#include "crnn_recur_plane.h"
