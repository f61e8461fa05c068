/* crnn_recur.h: what model_crnn_recur.c (the threads) shares with its
 * kernel, crnn_recur_plane.h, compiled once per vector width:
 * crnn_recur_v8.c (AVX2 and baseline x86-64) and crnn_recur_v16.c
 * (AVX-512). */
#ifndef LP_CRNN_RECUR_H
#define LP_CRNN_RECUR_H

#include <stdint.h>

enum { N_CONTEXT = 5 };

typedef struct cr_job {
    const float *ab, *mt_f, *c_f, *mt_b, *c_b;
    float *out;
    int64_t n_out, step, K, h, w;
    int64_t first, stride; /* this worker is number first of stride */
    int32_t vw;            /* floats per vector of the kernel in use */
    int32_t softmax;       /* each map softmaxed in place */
} cr_job;

/* Output plane (frame j, keypoint k), by the kernel of one width; the
 * 16-wide one only where lpm_simd_wide(). */
void cr_plane_v8(const cr_job *jb, int64_t j, int64_t k);
void cr_plane_v16(const cr_job *jb, int64_t j, int64_t k);

#endif
