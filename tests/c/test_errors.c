/* test_errors.c: every failure path returns a non-OK status and a message
 * that starts with the failing function's name, and never aborts (docs/design/errors.md
 * §2-3, §8): NULL/freed handles, bad shapes, bad enums, bad devices, bad dims,
 * libtorch's own errors, optimizer misuse and broken .lpt files. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lp_test.h"

/* The message starts with "fn: " and carries no C++ backtrace. */
#define CHECK_MSG(fn)                                                                        \
    LP_CHECK(strncmp(lp_last_error(), fn ": ", strlen(fn) + 2) == 0 &&                        \
             strstr(lp_last_error(), "Exception raised from") == NULL && strlen(lp_last_error()) < 1024)

static lp_tensor *mk(int64_t a, int64_t b, lp_dtype dt) {
    int64_t s[2] = {a, b};
    lp_tensor *t = NULL;
    lp_tensor_ones(s, 2, dt, LP_DEVICE_CPU, &t);
    return t;
}

static void test_null_handles(void) {
    lp_tensor *x = mk(2, 3, LP_DTYPE_F32), *out = NULL;
    int64_t s[2] = {3, 2};
    double d;
    void *p;
    LP_CHECK_FAILS(lp_tensor_unary(LP_UNARY_EXP, NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_unary");
    LP_CHECK(strstr(lp_last_error(), "argument 't' is NULL (freed tensor?)") != NULL);
    CHECK_MSG("lp_tensor_unary");
    LP_CHECK_FAILS(lp_tensor_binary(LP_BINARY_ADD, x, NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_binary");
    LP_CHECK(strstr(lp_last_error(), "'b'") != NULL);
    LP_CHECK_FAILS(lp_tensor_binary_(LP_BINARY_ADD, NULL, x), LP_STATUS_BAD_ARG, "lp_tensor_binary_");
    LP_CHECK_FAILS(lp_tensor_view(NULL, s, 2, &out), LP_STATUS_BAD_ARG, "lp_tensor_view");
    LP_CHECK_FAILS(lp_tensor_matmul(NULL, x, &out), LP_STATUS_BAD_ARG, "lp_tensor_matmul");
    LP_CHECK_FAILS(lp_tensor_item(NULL, &d), LP_STATUS_BAD_ARG, "lp_tensor_item");
    LP_CHECK_FAILS(lp_tensor_to_buffer(NULL, &d, 8), LP_STATUS_BAD_ARG, "lp_tensor_to_buffer");
    LP_CHECK_FAILS(lp_tensor_data_ptr(NULL, &p), LP_STATUS_BAD_ARG, "lp_tensor_data_ptr");
    LP_CHECK_FAILS(lp_tensor_clone(NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_clone");
    LP_CHECK_FAILS(lp_tensor_to(NULL, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_to");
    LP_CHECK_FAILS(lp_tensor_copy_(x, NULL), LP_STATUS_BAD_ARG, "lp_tensor_copy_");
    LP_CHECK_FAILS(lp_tensor_fill_(NULL, 1), LP_STATUS_BAD_ARG, "lp_tensor_fill_");
    LP_CHECK_FAILS(lp_tensor_reduce(LP_REDUCE_SUM, NULL, NULL, 0, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_reduce");
    LP_CHECK_FAILS(lp_tensor_where(NULL, x, x, &out), LP_STATUS_BAD_ARG, "lp_tensor_where");
    LP_CHECK_FAILS(lp_tensor_backward(NULL, NULL, 0), LP_STATUS_BAD_ARG, "lp_tensor_backward");
    LP_CHECK_FAILS(lp_tensor_grad(NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_grad");
    LP_CHECK_FAILS(lp_tensor_set_requires_grad(NULL, 1), LP_STATUS_BAD_ARG, "lp_tensor_set_requires_grad");
    LP_CHECK_FAILS(lp_nn_conv2d(x, NULL, NULL, NULL, NULL, NULL, 1, &out), LP_STATUS_BAD_ARG, "lp_nn_conv2d");
    LP_CHECK_FAILS(lp_nn_softmax(NULL, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_softmax");
    const lp_tensor *pair[2] = {x, NULL};
    LP_CHECK_FAILS(lp_tensor_cat(pair, 2, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_cat");
    LP_CHECK_FAILS(lp_tensor_clone(x, NULL), LP_STATUS_BAD_ARG, "lp_tensor_clone"); /* NULL out */
    LP_CHECK(out == NULL); /* no failing call wrote an out-parameter */
    /* nothrow accessors and free accept NULL */
    int64_t shp[LP_MAX_DIMS];
    LP_CHECK(lp_tensor_dim(NULL) == -1 && lp_tensor_numel(NULL) == -1 && lp_tensor_size(NULL, 0) == -1);
    LP_CHECK(lp_tensor_dtype(NULL) == -1 && lp_tensor_shape(NULL, shp) == -1);
    LP_CHECK(lp_tensor_requires_grad(NULL) == 0 && lp_tensor_is_leaf(NULL) == 0 && lp_tensor_is_contiguous(NULL) == 0);
    lp_tensor_free(NULL);
    lp_mem_stats_get(NULL);
    lp_tensor_free(x);
}

static void test_bad_shapes(void) {
    lp_tensor *a = mk(2, 3, LP_DTYPE_F32), *b = mk(2, 3, LP_DTYPE_F32), *c = mk(4, 5, LP_DTYPE_F32), *out = NULL;
    int64_t s7[1] = {7}, s_two_neg[2] = {-1, -1}, s_neg[2] = {-2, 3};
    LP_CHECK_FAILS(lp_tensor_view(a, s7, 1, &out), LP_STATUS_BAD_ARG, "lp_tensor_view");
    LP_CHECK(strstr(lp_last_error(), "invalid for input of size 6") != NULL);
    LP_CHECK_FAILS(lp_tensor_reshape(a, s_two_neg, 2, &out), LP_STATUS_BAD_ARG, "lp_tensor_reshape");
    LP_CHECK_FAILS(lp_tensor_zeros(s_neg, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    LP_CHECK_FAILS(lp_tensor_zeros(s7, 17, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    LP_CHECK_FAILS(lp_tensor_zeros(NULL, 2, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    LP_CHECK_FAILS(lp_tensor_matmul(a, b, &out), LP_STATUS_BAD_ARG, "lp_tensor_matmul");
    LP_CHECK(strstr(lp_last_error(), "cannot be multiplied") != NULL);
    LP_CHECK_FAILS(lp_tensor_bmm(a, b, &out), LP_STATUS_BAD_ARG, "lp_tensor_bmm");
    LP_CHECK_FAILS(lp_tensor_linear(a, c, NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_linear");
    /* mismatched broadcast is libtorch's own error: TORCH, still a clean message */
    LP_CHECK_FAILS(lp_tensor_binary(LP_BINARY_ADD, a, c, &out), LP_STATUS_TORCH, "lp_tensor_binary");
    CHECK_MSG("lp_tensor_binary");
    LP_CHECK_FAILS(lp_tensor_binary_(LP_BINARY_ADD, a, c), LP_STATUS_TORCH, "lp_tensor_binary_");
    const lp_tensor *ac[2] = {a, c};
    LP_CHECK_FAILS(lp_tensor_stack(ac, 2, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_stack");
    LP_CHECK_FAILS(lp_tensor_cat(ac, 2, 0, &out), LP_STATUS_TORCH, "lp_tensor_cat");
    LP_CHECK_FAILS(lp_tensor_cat(ac, 0, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_cat");
    int64_t ex[2] = {4, 3};
    LP_CHECK_FAILS(lp_tensor_expand(a, ex, 2, &out), LP_STATUS_BAD_ARG, "lp_tensor_expand");
    double d;
    LP_CHECK_FAILS(lp_tensor_item(a, &d), LP_STATUS_BAD_ARG, "lp_tensor_item");
    float buf[6];
    LP_CHECK_FAILS(lp_tensor_to_buffer(a, buf, 5 * 4), LP_STATUS_BAD_ARG, "lp_tensor_to_buffer");
    lp_tensor *t = NULL;
    void *p;
    lp_tensor_transpose(a, 0, 1, &t);
    LP_CHECK_FAILS(lp_tensor_data_ptr(t, &p), LP_STATUS_BAD_ARG, "lp_tensor_data_ptr");
    lp_tensor_free(t);
    int64_t s3[1] = {3};
    LP_CHECK_FAILS(lp_tensor_from_buffer(NULL, LP_DTYPE_F32, s3, 1, &out), LP_STATUS_BAD_ARG, "lp_tensor_from_buffer");
    LP_CHECK_FAILS(lp_tensor_arange(0, 1, 0, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_arange");
    LP_CHECK_FAILS(lp_tensor_arange(0, 5, -1, LP_DTYPE_F32, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_arange");

    /* nn shape errors */
    int64_t sx[4] = {1, 3, 8, 8}, sw[4] = {4, 2, 3, 3};
    lp_tensor *x = NULL, *w = NULL, *bias = NULL;
    lp_tensor_ones(sx, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &x);
    lp_tensor_ones(sw, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &w);
    lp_tensor_ones(s3, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &bias);
    LP_CHECK_FAILS(lp_nn_conv2d(x, w, NULL, NULL, NULL, NULL, 1, &out), LP_STATUS_BAD_ARG, "lp_nn_conv2d");
    LP_CHECK(strstr(lp_last_error(), "input channels") != NULL);
    LP_CHECK_FAILS(lp_nn_conv2d(x, w, NULL, NULL, NULL, NULL, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_conv2d");
    LP_CHECK_FAILS(lp_nn_conv2d(a, w, NULL, NULL, NULL, NULL, 1, &out), LP_STATUS_BAD_ARG, "lp_nn_conv2d");
    int64_t zero_stride[2] = {0, 1};
    LP_CHECK_FAILS(lp_nn_conv2d(x, w, NULL, zero_stride, NULL, NULL, 1, &out), LP_STATUS_BAD_ARG, "lp_nn_conv2d");
    LP_CHECK_FAILS(lp_nn_conv_transpose2d(x, w, NULL, NULL, NULL, NULL, 1, NULL, &out), LP_STATUS_BAD_ARG,
                   "lp_nn_conv_transpose2d");
    LP_CHECK_FAILS(lp_nn_batch_norm(x, bias, NULL, NULL, NULL, 0, 0.1, 1e-5, &out), LP_STATUS_BAD_ARG,
                   "lp_nn_batch_norm"); /* eval without running stats */
    int64_t one[4] = {1, 3, 1, 1};
    lp_tensor *x1 = NULL;
    lp_tensor_ones(one, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &x1);
    LP_CHECK_FAILS(lp_nn_batch_norm(x1, NULL, NULL, NULL, NULL, 1, 0.1, 1e-5, &out), LP_STATUS_BAD_ARG,
                   "lp_nn_batch_norm"); /* one value per channel */
    lp_tensor_free(x1);
    int64_t k2[2] = {2, 2}, big_pad[2] = {2, 2}, sz[2] = {4, 4};
    LP_CHECK_FAILS(lp_nn_max_pool2d(x, NULL, NULL, NULL, NULL, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_max_pool2d");
    LP_CHECK_FAILS(lp_nn_avg_pool2d(x, k2, NULL, big_pad, 0, 1, &out), LP_STATUS_BAD_ARG, "lp_nn_avg_pool2d");
    LP_CHECK_FAILS(lp_nn_pixel_shuffle(x, 2, &out), LP_STATUS_BAD_ARG, "lp_nn_pixel_shuffle");
    LP_CHECK_FAILS(lp_nn_interpolate(x, sz, (lp_interp_mode)7, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_interpolate");
    int64_t pads[3] = {1, 1, 1}, refl[2] = {8, 8};
    LP_CHECK_FAILS(lp_nn_pad(x, pads, 3, LP_PAD_CONSTANT, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_pad");
    LP_CHECK_FAILS(lp_nn_pad(x, refl, 2, LP_PAD_REFLECT, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_pad");
    LP_CHECK_FAILS(lp_nn_pad(x, pads, 2, (lp_pad_mode)9, 0, &out), LP_STATUS_BAD_ARG, "lp_nn_pad");
    lp_tensor_free(x);
    lp_tensor_free(w);
    lp_tensor_free(bias);
    lp_tensor_free(a);
    lp_tensor_free(b);
    lp_tensor_free(c);
}

static void test_bad_enums_devices_dims(void) {
    int64_t s[2] = {2, 3};
    lp_tensor *a = mk(2, 3, LP_DTYPE_F32), *i = mk(2, 3, LP_DTYPE_I64), *out = NULL;
    LP_CHECK_FAILS(lp_tensor_zeros(s, 2, (lp_dtype)99, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    LP_CHECK(strstr(lp_last_error(), "99") != NULL);
    LP_CHECK_FAILS(lp_tensor_from_buffer(s, (lp_dtype)-3, s, 1, &out), LP_STATUS_BAD_ARG, "lp_tensor_from_buffer");
    LP_CHECK_FAILS(lp_tensor_to(a, (lp_dtype)99, LP_DEVICE_CPU, &out), LP_STATUS_BAD_ARG, "lp_tensor_to");
    LP_CHECK_FAILS(lp_tensor_unary((lp_unary_op)99, a, &out), LP_STATUS_BAD_ARG, "lp_tensor_unary");
    LP_CHECK_FAILS(lp_tensor_unary_((lp_unary_op)-1, a), LP_STATUS_BAD_ARG, "lp_tensor_unary_");
    LP_CHECK_FAILS(lp_tensor_binary((lp_binary_op)99, a, a, &out), LP_STATUS_BAD_ARG, "lp_tensor_binary");
    LP_CHECK_FAILS(lp_tensor_binary_scalar((lp_binary_op)LP_BINARY_COUNT, a, 1, 0, &out), LP_STATUS_BAD_ARG,
                   "lp_tensor_binary_scalar");
    LP_CHECK_FAILS(lp_tensor_reduce((lp_reduce_op)99, a, NULL, 0, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_reduce");
    /* devices */
    if (lp_cuda_device_count() == 0) {
        LP_CHECK_FAILS(lp_tensor_zeros(s, 2, LP_DTYPE_F32, 0, &out), LP_STATUS_UNSUPPORTED, "lp_tensor_zeros");
        LP_CHECK(strstr(lp_last_error(), "no CUDA") != NULL);
        LP_CHECK_FAILS(lp_tensor_to(a, LP_DTYPE_F32, 0, &out), LP_STATUS_UNSUPPORTED, "lp_tensor_to");
        LP_CHECK_FAILS(lp_tensor_randn(s, 2, LP_DTYPE_F32, 1, 5, &out), LP_STATUS_UNSUPPORTED, "lp_tensor_randn");
    } else {
        LP_CHECK_FAILS(lp_tensor_zeros(s, 2, LP_DTYPE_F32, 999, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    }
    LP_CHECK_FAILS(lp_tensor_zeros(s, 2, LP_DTYPE_F32, -5, &out), LP_STATUS_BAD_ARG, "lp_tensor_zeros");
    /* dims */
    LP_CHECK_FAILS(lp_tensor_transpose(a, 0, 5, &out), LP_STATUS_BAD_ARG, "lp_tensor_transpose");
    LP_CHECK(strstr(lp_last_error(), "out of range") != NULL);
    int64_t d3[1] = {3}, dd[2] = {0, -2};
    LP_CHECK_FAILS(lp_tensor_reduce(LP_REDUCE_SUM, a, d3, 1, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_reduce");
    LP_CHECK_FAILS(lp_tensor_reduce(LP_REDUCE_SUM, a, dd, 2, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_reduce");
    int64_t d01[2] = {0, 1};
    LP_CHECK_FAILS(lp_tensor_reduce(LP_REDUCE_ARGMAX, a, d01, 2, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_reduce");
    LP_CHECK_FAILS(lp_tensor_select(a, 1, 3, &out), LP_STATUS_BAD_ARG, "lp_tensor_select");
    LP_CHECK_FAILS(lp_tensor_narrow(a, 1, 2, 2, &out), LP_STATUS_BAD_ARG, "lp_tensor_narrow");
    LP_CHECK_FAILS(lp_tensor_slice(a, 0, 0, 2, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_slice");
    LP_CHECK_FAILS(lp_tensor_squeeze(a, -3, &out), LP_STATUS_BAD_ARG, "lp_tensor_squeeze");
    LP_CHECK_FAILS(lp_tensor_unsqueeze(a, 4, &out), LP_STATUS_BAD_ARG, "lp_tensor_unsqueeze");
    LP_CHECK_FAILS(lp_tensor_flatten(a, 1, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_flatten");
    int64_t perm[2] = {0, 0};
    LP_CHECK_FAILS(lp_tensor_permute(a, perm, 2, &out), LP_STATUS_BAD_ARG, "lp_tensor_permute");
    LP_CHECK_FAILS(lp_tensor_permute(a, perm, 1, &out), LP_STATUS_BAD_ARG, "lp_tensor_permute");
    LP_CHECK_FAILS(lp_tensor_max_dim(a, 2, 0, &out, NULL), LP_STATUS_BAD_ARG, "lp_tensor_max_dim");
    LP_CHECK_FAILS(lp_tensor_cumsum(a, -3, &out), LP_STATUS_BAD_ARG, "lp_tensor_cumsum");
    LP_CHECK_FAILS(lp_nn_softmax(a, 2, &out), LP_STATUS_BAD_ARG, "lp_nn_softmax");
    LP_CHECK_FAILS(lp_tensor_quantile(a, 1.5, 0, 0, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_quantile");
    LP_CHECK_FAILS(lp_tensor_std(a, NULL, 0, -1, 0, &out), LP_STATUS_BAD_ARG, "lp_tensor_std");
    LP_CHECK_FAILS(lp_tensor_index_select(a, 0, a, &out), LP_STATUS_BAD_ARG, "lp_tensor_index_select");
    /* dtype misuse */
    LP_CHECK_FAILS(lp_tensor_set_requires_grad(i, 1), LP_STATUS_BAD_ARG, "lp_tensor_set_requires_grad");
    LP_CHECK_FAILS(lp_tensor_randn(s, 2, LP_DTYPE_I32, LP_DEVICE_CPU, 1, &out), LP_STATUS_BAD_ARG, "lp_tensor_randn");
    LP_CHECK_FAILS(lp_tensor_svd(i, 0, &out, &out, &out), LP_STATUS_BAD_ARG, "lp_tensor_svd");
    LP_CHECK_FAILS(lp_tensor_eigh(a, &out, &out), LP_STATUS_BAD_ARG, "lp_tensor_eigh");
    LP_CHECK_FAILS(lp_set_num_threads(0), LP_STATUS_BAD_ARG, "lp_set_num_threads");
    /* autograd misuse */
    LP_CHECK_FAILS(lp_tensor_backward(a, NULL, 0), LP_STATUS_BAD_ARG, "lp_tensor_backward");
    lp_tensor_set_requires_grad(a, 1);
    LP_CHECK_FAILS(lp_tensor_backward(a, NULL, 0), LP_STATUS_BAD_ARG, "lp_tensor_backward"); /* not scalar */
    LP_CHECK_FAILS(lp_tensor_unary_(LP_UNARY_EXP, a), LP_STATUS_TORCH, "lp_tensor_unary_");   /* in-place on a leaf */
    CHECK_MSG("lp_tensor_unary_");
    lp_tensor *y = NULL;
    lp_tensor_binary_scalar(LP_BINARY_MUL, a, 2, 0, &y);
    LP_CHECK_FAILS(lp_tensor_set_requires_grad(y, 0), LP_STATUS_BAD_ARG, "lp_tensor_set_requires_grad");
    lp_tensor_free(y);
    LP_CHECK(out == NULL);
    lp_tensor_free(a);
    lp_tensor_free(i);
}

static void test_optim_errors(void) {
    lp_optim *opt = NULL;
    lp_optim_params p = lp_optim_default_params(LP_OPTIM_SGD);
    double lr;
    LP_CHECK_FAILS(lp_optim_init(NULL, &opt), LP_STATUS_BAD_ARG, "lp_optim_init");
    p.kind = 9;
    LP_CHECK_FAILS(lp_optim_init(&p, &opt), LP_STATUS_BAD_ARG, "lp_optim_init");
    p = lp_optim_default_params(LP_OPTIM_SGD);
    p.nesterov = 1;
    LP_CHECK_FAILS(lp_optim_init(&p, &opt), LP_STATUS_BAD_ARG, "lp_optim_init");
    p = lp_optim_default_params(LP_OPTIM_ADAM);
    p.beta2 = 1.0;
    LP_CHECK_FAILS(lp_optim_init(&p, &opt), LP_STATUS_BAD_ARG, "lp_optim_init");
    p = lp_optim_default_params(LP_OPTIM_ADAM);
    LP_CHECK_OK(lp_optim_init(&p, &opt));
    lp_tensor *w = mk(2, 2, LP_DTYPE_F32), *nl = NULL;
    const lp_tensor *ps[1] = {w};
    LP_CHECK_FAILS(lp_optim_add_group(opt, ps, 1, -1, NULL), LP_STATUS_BAD_ARG, "lp_optim_add_group");
    lp_tensor_set_requires_grad(w, 1);
    lp_tensor_binary_scalar(LP_BINARY_ADD, w, 1, 0, &nl);
    const lp_tensor *bad[1] = {nl};
    LP_CHECK_FAILS(lp_optim_add_group(opt, bad, 1, -1, NULL), LP_STATUS_BAD_ARG, "lp_optim_add_group");
    LP_CHECK(strstr(lp_last_error(), "leaf") != NULL);
    LP_CHECK_FAILS(lp_optim_add_group(opt, ps, 0, -1, NULL), LP_STATUS_BAD_ARG, "lp_optim_add_group");
    LP_CHECK_OK(lp_optim_add_group(opt, ps, 1, -1, NULL));
    LP_CHECK_FAILS(lp_optim_add_group(opt, ps, 1, -1, NULL), LP_STATUS_BAD_ARG, "lp_optim_add_group"); /* twice */
    LP_CHECK_FAILS(lp_optim_set_lr(opt, 1, 0.1), LP_STATUS_BAD_ARG, "lp_optim_set_lr");
    LP_CHECK_FAILS(lp_optim_set_lr(opt, 0, -1), LP_STATUS_BAD_ARG, "lp_optim_set_lr");
    LP_CHECK_FAILS(lp_optim_get_lr(opt, -1, &lr), LP_STATUS_BAD_ARG, "lp_optim_get_lr");
    LP_CHECK_FAILS(lp_optim_step(NULL), LP_STATUS_BAD_ARG, "lp_optim_step");
    LP_CHECK_FAILS(lp_optim_zero_grad(NULL), LP_STATUS_BAD_ARG, "lp_optim_zero_grad");
    LP_CHECK_FAILS(lp_optim_load_state(opt, NULL), LP_STATUS_BAD_ARG, "lp_optim_load_state");
    lp_tensor_list *l = NULL;
    lp_tensor_list_init(&l);
    lp_tensor_list_push(l, "garbage", w);
    LP_CHECK_FAILS(lp_optim_load_state(opt, l), LP_STATUS_BAD_ARG, "lp_optim_load_state");
    lp_tensor_list_free(l);
    lp_tensor_list_init(&l);
    lp_tensor_list_push(l, "3.0.exp_avg", w);
    LP_CHECK_FAILS(lp_optim_load_state(opt, l), LP_STATUS_BAD_ARG, "lp_optim_load_state");
    lp_tensor_list_free(l);
    lp_tensor_list_init(&l);
    lp_tensor_list_push(l, "0.0.exp_avg", w); /* incomplete: no exp_avg_sq */
    LP_CHECK_FAILS(lp_optim_load_state(opt, l), LP_STATUS_BAD_ARG, "lp_optim_load_state");
    lp_tensor_list_free(l);
    LP_CHECK(lp_optim_n_groups(NULL) == 0);
    lp_optim_free(opt);
    lp_tensor_free(nl);
    lp_tensor_free(w);
}

/* ---------------------------------------------------------------- .lpt files */

static char g_dir[64];

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void test_file_errors(void) {
    char path[256], bad[512];
    lp_tensor_list *l = NULL, *out = NULL;
    LP_CHECK_FAILS(lp_tensor_list_load("/nonexistent/lpose/none.lpt", &out), LP_STATUS_IO, "lp_tensor_list_load");
    LP_CHECK(strstr(lp_last_error(), "/nonexistent/lpose/none.lpt") != NULL);
    LP_CHECK_FAILS(lp_tensor_list_load(NULL, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    LP_CHECK_FAILS(lp_tensor_list_load(g_dir, &out), LP_STATUS_IO, "lp_tensor_list_load"); /* a directory */

    /* a good file to damage */
    lp_tensor_list_init(&l);
    lp_tensor *t = mk(4, 8, LP_DTYPE_F64);
    lp_tensor_list_push(l, "weights", t);
    lp_tensor_list_set_meta(l, "{}");
    snprintf(path, sizeof path, "%s/good.lpt", g_dir);
    LP_CHECK_OK(lp_tensor_list_save(l, path));
    FILE *f = fopen(path, "rb");
    unsigned char buf[512];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    LP_CHECK(n == 8 + 8 + 2 + 4 + 7 + 8 + 16 + 8 + 256);

    snprintf(bad, sizeof bad, "%s/bad.lpt", g_dir);
    size_t cuts[4] = {5, 12, 30, n - 1}; /* inside magic, header, entry header, data */
    for (int k = 0; k < 4; k++) {
        write_file(bad, buf, cuts[k]);
        char what[64];
        lp_status st = lp_tensor_list_load(bad, &out);
        snprintf(what, sizeof what, "file cut to %zu bytes is LP_STATUS_IO", cuts[k]);
        lp_test_report(st == LP_STATUS_IO && strstr(lp_last_error(), "lp_tensor_list_load: ") == lp_last_error() &&
                           strstr(lp_last_error(), bad) != NULL,
                       __FILE__, __LINE__, what);
    }
    LP_CHECK(strstr(lp_last_error(), "truncated") != NULL);
    unsigned char m[512];
    memcpy(m, buf, n);
    m[0] = 'X';
    write_file(bad, m, n);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    LP_CHECK(strstr(lp_last_error(), "magic") != NULL);
    memcpy(m, buf, n);
    m[8 + 8 + 2 + 4 + 7] = 42; /* dtype */
    write_file(bad, m, n);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    LP_CHECK(strstr(lp_last_error(), "dtype") != NULL);
    memcpy(m, buf, n);
    m[8 + 8 + 2 + 4 + 7 + 4] = 40; /* ndim */
    write_file(bad, m, n);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    memcpy(m, buf, n);
    m[8 + 8 + 2 + 4 + 7 + 8 + 16] = 7; /* nbytes no longer matches the shape */
    write_file(bad, m, n);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    memcpy(m, buf, n);
    m[8] = 200; /* tensor count far beyond the file */
    write_file(bad, m, n);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_IO, "lp_tensor_list_load");
    memcpy(m, buf, n);
    m[n] = 0; /* one trailing byte */
    write_file(bad, m, n + 1);
    LP_CHECK_FAILS(lp_tensor_list_load(bad, &out), LP_STATUS_BAD_ARG, "lp_tensor_list_load");
    LP_CHECK(out == NULL);
    unlink(bad);

    /* saving into a directory that doesn't exist: IO, and nothing is created */
    char missing[256];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.lpt", g_dir);
    LP_CHECK_FAILS(lp_tensor_list_save(l, missing), LP_STATUS_IO, "lp_tensor_list_save");
    LP_CHECK(strstr(lp_last_error(), missing) != NULL);
    struct stat sb;
    LP_CHECK(stat(missing, &sb) != 0 && errno == ENOENT);
    /* a failed save over an existing file leaves the old file intact: the
     * final name is a directory here, so rename fails after writing the tmp */
    char dirpath[256];
    snprintf(dirpath, sizeof dirpath, "%s/adir.lpt", g_dir);
    mkdir(dirpath, 0700);
    LP_CHECK_FAILS(lp_tensor_list_save(l, dirpath), LP_STATUS_IO, "lp_tensor_list_save");
    LP_CHECK(stat(dirpath, &sb) == 0 && S_ISDIR(sb.st_mode));
    snprintf(bad, sizeof bad, "%s.tmp-%ld", dirpath, (long)getpid());
    LP_CHECK(stat(bad, &sb) != 0); /* the temporary file was removed */
    rmdir(dirpath);
    LP_CHECK_FAILS(lp_tensor_list_save(NULL, path), LP_STATUS_BAD_ARG, "lp_tensor_list_save");
    LP_CHECK_FAILS(lp_tensor_list_push(l, NULL, t), LP_STATUS_BAD_ARG, "lp_tensor_list_push");
    LP_CHECK_FAILS(lp_tensor_list_push(l, "x", NULL), LP_STATUS_BAD_ARG, "lp_tensor_list_push");
    unlink(path);
    lp_tensor_free(t);
    lp_tensor_list_free(l);
}

int main(void) {
    lp_runtime_init(0);
    snprintf(g_dir, sizeof g_dir, "/tmp/lpose_err_XXXXXX");
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    lp_mem_stats m0, m1;
    lp_mem_stats_get(&m0);
    test_null_handles();
    test_bad_shapes();
    test_bad_enums_devices_dims();
    test_optim_errors();
    test_file_errors();
    lp_mem_stats_get(&m1);
    LP_CHECK(m1.n_tensors == m0.n_tensors); /* failed calls leak no handles */
    LP_CHECK(rmdir(g_dir) == 0);
    LP_DONE();
}
