/* lpose.h: the public C API of lpose, the one contract between the C core,
 * the libtorch shim and the Lua frontend (lua/lpose/cdef.lua is generated
 * from this file by `make cdef`; `make check-cdef` fails when they differ).
 *
 * Rules (docs/design/house-style.md §2, docs/design/errors.md):
 *  - Every function that can fail returns lp_status; results come through
 *    out-parameters, which come last and are named `out`.
 *  - On failure, lp_last_error() holds a message that starts with the name of
 *    the failing function. It stays valid until the next failure on the same
 *    thread. Functions marked nothrow never fail and never set it.
 *  - Tensors are opaque handles. A function writing an `lp_tensor **out`
 *    returns a new reference that the caller releases with lp_tensor_free().
 *    Arguments are borrowed. A view is its own handle: freeing the base
 *    never invalidates a view.
 *  - Dimensions are 0-based here and may be negative (-1 is the last dim);
 *    the Lua API converts its 1-based dims in exactly one place.
 *  - Sizes are int64_t, dims and flags int32_t, scalars double.
 *
 * This header is C99-clean (tests/c/test_header_c99.c compiles it with
 * -std=c99 -pedantic -Werror). The cdef generator drops every line that
 * starts with '#', so keep each preprocessor directive on its own lines and
 * write constants as enums, not macros.
 */
#ifndef LPOSE_H
#define LPOSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Status, errors, version, runtime
 * ------------------------------------------------------------------------ */

typedef enum lp_status {
    LP_STATUS_OK = 0,
    LP_STATUS_BAD_ARG = 1,     /* wrong shape, dtype, value or a freed/NULL handle */
    LP_STATUS_OOM = 2,         /* out of memory (host or device) */
    LP_STATUS_IO = 3,          /* a file could not be read or written */
    LP_STATUS_EOF = 4,         /* end of a stream: not an error */
    LP_STATUS_UNSUPPORTED = 5, /* e.g. CUDA asked of a CPU-only libtorch */
    LP_STATUS_TORCH = 6,       /* any other error reported by libtorch */
    LP_STATUS_INTERNAL = 7,    /* a bug in lpose: please report it */
    LP_STATUS_INTERRUPTED = 8  /* stopped by lp_interrupt_request() (Ctrl-C, SIGTERM) */
} lp_status;

/* The message of the last failure on this thread ("" if none). nothrow */
const char *lp_last_error(void);
/* Name of a status code, e.g. "LP_STATUS_IO". nothrow */
const char *lp_status_name(lp_status status);
/* Set the thread's error message (printf-style is not exposed: plain text).
 * Returns `status` so C code can write `return lp_set_error(...)`. nothrow */
lp_status lp_set_error(lp_status status, const char *message);
/* "0.1.0". nothrow */
const char *lp_version(void);

/* Process-wide tuning from docs/spec/toolchain.md: glibc malloc never
 * mmaps activations, libtorch uses `n_threads` threads (<= 0: read
 * LPOSE_NUM_THREADS, else all online cores). Idempotent. */
lp_status lp_runtime_init(int32_t n_threads);
lp_status lp_set_num_threads(int32_t n_threads);
int32_t lp_get_num_threads(void); /* nothrow */
/* Seed the global CPU (and CUDA, when present) generators. */
lp_status lp_manual_seed(uint64_t seed);
/* Number of CUDA devices the linked libtorch can use (0 for CPU builds). nothrow */
int32_t lp_cuda_device_count(void);

/* Live tensor handles and the bytes they view, counted by the engine so
 * that Lua can collect garbage under memory pressure (docs/design/memory.md). Views
 * count their own numel*element_size, so bytes can over-count shared
 * storage; it is a pressure signal, not an allocator statistic. */
typedef struct lp_mem_stats {
    int64_t n_tensors;
    int64_t bytes_cpu;
    int64_t bytes_cuda;
} lp_mem_stats;
void lp_mem_stats_get(lp_mem_stats *out); /* nothrow */

/* ------------------------------------------------------------------------
 * Interrupts and temporary files
 *
 * One process-wide interrupt flag that long C calls poll: the lpose
 * executable sets it from its SIGINT/SIGTERM handler; any program embedding
 * the engine may do the same. A call that sees it (video prediction once per
 * window, video decoding and labeled videos once per frame) stops, removes
 * its temporary files and returns LP_STATUS_INTERRUPTED with "fn:
 * interrupted!". The flag stays set until lp_interrupt_clear(), so every
 * later long call stops too; whoever handles the interrupt clears it.
 *
 * Files are written atomically: PATH.tmp-<pid>, then rename to PATH. Each
 * writer (but the PNG writer, which writes thousands of files into one
 * folder) first removes PATH.tmp-<pid> files whose process is gone, so the
 * leftovers of a killed run go away the next time the same output is
 * written.
 * ------------------------------------------------------------------------ */

/* Ask long calls to stop. async-signal-safe, any thread. nothrow */
void lp_interrupt_request(void);
/* Forget the requests (after the interrupt was handled). nothrow */
void lp_interrupt_clear(void);
/* Number of requests since the last clear, 0 when none. async-signal-safe. nothrow */
int32_t lp_interrupt_pending(void);
/* Unlink every temporary file this process is writing right now, for a
 * signal handler that is about to end the process: the final names are
 * never touched. async-signal-safe. nothrow */
void lp_tmp_remove_all(void);
/* Remove PATH.tmp-<pid> files of processes that no longer exist
 * (kill(pid, 0) fails with ESRCH); *out (may be NULL) = how many. A folder
 * that cannot be listed is not an error. */
lp_status lp_tmp_remove_stale(const char *path, int32_t *out);

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------ */

typedef struct lp_tensor lp_tensor;

typedef enum lp_dtype {
    LP_DTYPE_F32 = 0,
    LP_DTYPE_F64 = 1,
    LP_DTYPE_F16 = 2,
    LP_DTYPE_BF16 = 3,
    LP_DTYPE_I64 = 4,
    LP_DTYPE_I32 = 5,
    LP_DTYPE_U8 = 6,
    LP_DTYPE_BOOL = 7
} lp_dtype;

/* A device is an int32: LP_DEVICE_CPU, or a CUDA ordinal >= 0 (cuda:N). */
typedef int32_t lp_device;
enum { LP_DEVICE_CPU = -1 };

enum { LP_MAX_DIMS = 16 };

/* Bytes per element of a dtype, 0 for an unknown value. nothrow */
int32_t lp_dtype_size(lp_dtype dtype);
/* "f32", "f64", "f16", "bf16", "i64", "i32", "u8", "bool"; "?" if unknown. nothrow */
const char *lp_dtype_name(lp_dtype dtype);

/* ------------------------------------------------------------------------
 * Lifetime and metadata
 * ------------------------------------------------------------------------ */

/* Release a handle; NULL is ignored. nothrow */
void lp_tensor_free(lp_tensor *t);

/* Accessors: nothrow. On a NULL handle they return -1 (or 0 for flags). */
int32_t lp_tensor_dim(const lp_tensor *t);
int64_t lp_tensor_size(const lp_tensor *t, int32_t dim); /* dim may be negative */
int64_t lp_tensor_numel(const lp_tensor *t);
int32_t lp_tensor_dtype(const lp_tensor *t);           /* an lp_dtype */
lp_device lp_tensor_device(const lp_tensor *t);
int32_t lp_tensor_requires_grad(const lp_tensor *t);
int32_t lp_tensor_is_contiguous(const lp_tensor *t);
int32_t lp_tensor_is_leaf(const lp_tensor *t);
/* In-place modification counter (PyTorch's t._version): grows with every
 * in-place op on the tensor or a view of it, so a cache derived from a
 * tensor can tell it is stale. -1 for NULL. */
int64_t lp_tensor_version(const lp_tensor *t);
/* How many tensors share t's memory (libtorch's use count of its storage):
 * t, its views, and the tensors views were taken from (a view keeps its base
 * alive). 1 when t alone holds it; -1 for NULL or a tensor without storage.
 * Lets the owner of a buffer it lends as views tell whether one is still
 * held before it writes the buffer again. nothrow */
int64_t lp_tensor_storage_refs(const lp_tensor *t);
/* Write the shape into out[0..dim-1] (out has room for LP_MAX_DIMS);
 * returns the number of dims, or -1 for NULL. nothrow */
int32_t lp_tensor_shape(const lp_tensor *t, int64_t *out);

/* ------------------------------------------------------------------------
 * Creation
 * ------------------------------------------------------------------------ */

/* Copy `data` (contiguous, row-major, `dtype`) into a new CPU tensor. */
lp_status lp_tensor_from_buffer(const void *data, lp_dtype dtype, const int64_t *shape,
                                int32_t ndim, lp_tensor **out);
/* Copy a tensor (any device, any strides) into `data` as contiguous values of
 * its own dtype; `nbytes` must be numel * lp_dtype_size(dtype). */
lp_status lp_tensor_to_buffer(const lp_tensor *t, void *data, int64_t nbytes);
/* Borrowed pointer to the first element of a contiguous CPU tensor, valid
 * while `t` lives; lets C loaders fill tensors without a copy. */
lp_status lp_tensor_data_ptr(const lp_tensor *t, void **out);
/* Value of a one-element tensor as a double. */
lp_status lp_tensor_item(const lp_tensor *t, double *out);

lp_status lp_tensor_empty(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          lp_tensor **out);
lp_status lp_tensor_zeros(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          lp_tensor **out);
lp_status lp_tensor_ones(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                         lp_tensor **out);
lp_status lp_tensor_full(const int64_t *shape, int32_t ndim, double value, lp_dtype dtype,
                         lp_device device, lp_tensor **out);
/* Values start, start+step, ... < end (PyTorch's arange). */
lp_status lp_tensor_arange(double start, double end, double step, lp_dtype dtype,
                           lp_device device, lp_tensor **out);
lp_status lp_tensor_linspace(double start, double end, int64_t steps, lp_dtype dtype,
                             lp_device device, lp_tensor **out);
/* Random tensors. seed >= 0 draws from a private generator seeded with it
 * (same seed, same values); seed < 0 draws from the global generator. */
lp_status lp_tensor_randn(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          int64_t seed, lp_tensor **out);
lp_status lp_tensor_rand(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                         int64_t seed, lp_tensor **out);
/* In-place initialisers (used by model init code). */
lp_status lp_tensor_fill_(lp_tensor *t, double value);
lp_status lp_tensor_zero_(lp_tensor *t);
lp_status lp_tensor_uniform_(lp_tensor *t, double low, double high, int64_t seed);
lp_status lp_tensor_normal_(lp_tensor *t, double mean, double std, int64_t seed);
/* dst <- src (broadcast, dtype and device converted). */
lp_status lp_tensor_copy_(lp_tensor *dst, const lp_tensor *src);

/* ------------------------------------------------------------------------
 * Conversion
 * ------------------------------------------------------------------------ */

lp_status lp_tensor_to(const lp_tensor *t, lp_dtype dtype, lp_device device, lp_tensor **out);
lp_status lp_tensor_clone(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_contiguous(const lp_tensor *t, lp_tensor **out);
/* The same values with channels-last strides (N, C, H, W stored as N, H, W, C):
 * the layout oneDNN's convolutions run fastest in; convolutions, pooling and
 * elementwise ops keep it. lp_tensor_contiguous goes back. */
lp_status lp_tensor_channels_last(const lp_tensor *t, lp_tensor **out);
/* A new handle on the same tensor (shares storage and autograd identity). */
lp_status lp_tensor_ref(const lp_tensor *t, lp_tensor **out);

/* ------------------------------------------------------------------------
 * Views and shape ops
 * ------------------------------------------------------------------------ */

lp_status lp_tensor_view(const lp_tensor *t, const int64_t *shape, int32_t ndim, lp_tensor **out);
lp_status lp_tensor_reshape(const lp_tensor *t, const int64_t *shape, int32_t ndim,
                            lp_tensor **out);
lp_status lp_tensor_permute(const lp_tensor *t, const int64_t *dims, int32_t ndim,
                            lp_tensor **out);
lp_status lp_tensor_transpose(const lp_tensor *t, int32_t dim0, int32_t dim1, lp_tensor **out);
lp_status lp_tensor_narrow(const lp_tensor *t, int32_t dim, int64_t start, int64_t length,
                           lp_tensor **out);
/* Elements start, start+step, ... < end along dim (Python's t[start:end:step]). */
lp_status lp_tensor_slice(const lp_tensor *t, int32_t dim, int64_t start, int64_t end,
                          int64_t step, lp_tensor **out);
/* Drop `dim` by taking one index (negative counts from the end). */
lp_status lp_tensor_select(const lp_tensor *t, int32_t dim, int64_t index, lp_tensor **out);
lp_status lp_tensor_index_select(const lp_tensor *t, int32_t dim, const lp_tensor *index,
                                 lp_tensor **out);
lp_status lp_tensor_gather(const lp_tensor *t, int32_t dim, const lp_tensor *index,
                           lp_tensor **out);
lp_status lp_tensor_cat(const lp_tensor *const *tensors, int32_t n, int32_t dim, lp_tensor **out);
lp_status lp_tensor_stack(const lp_tensor *const *tensors, int32_t n, int32_t dim,
                          lp_tensor **out);
lp_status lp_tensor_expand(const lp_tensor *t, const int64_t *shape, int32_t ndim,
                           lp_tensor **out);
lp_status lp_tensor_squeeze(const lp_tensor *t, int32_t dim, lp_tensor **out);
lp_status lp_tensor_unsqueeze(const lp_tensor *t, int32_t dim, lp_tensor **out);
lp_status lp_tensor_flatten(const lp_tensor *t, int32_t start_dim, int32_t end_dim,
                            lp_tensor **out);
lp_status lp_tensor_flip(const lp_tensor *t, const int64_t *dims, int32_t ndim, lp_tensor **out);
lp_status lp_tensor_repeat(const lp_tensor *t, const int64_t *repeats, int32_t ndim,
                           lp_tensor **out);

/* ------------------------------------------------------------------------
 * Elementwise math. One entry point per family keeps the API and the cdef
 * small; Lua and C give each op its own name on top (t:exp(), t:add(u)).
 * ------------------------------------------------------------------------ */

typedef enum lp_unary_op {
    LP_UNARY_NEG = 0,
    LP_UNARY_ABS,
    LP_UNARY_EXP,
    LP_UNARY_LOG,
    LP_UNARY_LOG1P,
    LP_UNARY_SQRT,
    LP_UNARY_RSQRT,
    LP_UNARY_SQUARE,
    LP_UNARY_RECIPROCAL,
    LP_UNARY_SIN,
    LP_UNARY_COS,
    LP_UNARY_TANH,
    LP_UNARY_SIGMOID,
    LP_UNARY_RELU,
    LP_UNARY_FLOOR,
    LP_UNARY_CEIL,
    LP_UNARY_ROUND,
    LP_UNARY_TRUNC,
    LP_UNARY_SIGN,
    LP_UNARY_ISNAN,       /* -> bool */
    LP_UNARY_ISFINITE,    /* -> bool */
    LP_UNARY_LOGICAL_NOT, /* -> bool */
    LP_UNARY_COUNT
} lp_unary_op;

typedef enum lp_binary_op {
    LP_BINARY_ADD = 0,
    LP_BINARY_SUB,
    LP_BINARY_MUL,
    LP_BINARY_DIV,
    LP_BINARY_POW,
    LP_BINARY_MAXIMUM,
    LP_BINARY_MINIMUM,
    LP_BINARY_ATAN2,
    LP_BINARY_REMAINDER,
    LP_BINARY_EQ, /* comparisons and logical ops -> bool */
    LP_BINARY_NE,
    LP_BINARY_LT,
    LP_BINARY_LE,
    LP_BINARY_GT,
    LP_BINARY_GE,
    LP_BINARY_LOGICAL_AND,
    LP_BINARY_LOGICAL_OR,
    LP_BINARY_ADD_RELU, /* relu(a + b): one pass on the CPU (a residual block's end) */
    LP_BINARY_COUNT
} lp_binary_op;

lp_status lp_tensor_unary(lp_unary_op op, const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_unary_(lp_unary_op op, lp_tensor *t); /* in place */
/* a op b with broadcasting */
lp_status lp_tensor_binary(lp_binary_op op, const lp_tensor *a, const lp_tensor *b,
                           lp_tensor **out);
lp_status lp_tensor_binary_(lp_binary_op op, lp_tensor *a, const lp_tensor *b); /* a op= b */
/* a op s, and s op a when `scalar_first` is nonzero (e.g. 1 - t, 2 / t).
 * s promotes like a Python number: an integral s acts as an int (an i64
 * tensor minus 1 stays i64), any other s as a float. */
lp_status lp_tensor_binary_scalar(lp_binary_op op, const lp_tensor *a, double s,
                                  int32_t scalar_first, lp_tensor **out);
lp_status lp_tensor_binary_scalar_(lp_binary_op op, lp_tensor *a, double s);
/* Clamp to [lo, hi]; a NaN bound means "no bound". */
lp_status lp_tensor_clamp(const lp_tensor *t, double lo, double hi, lp_tensor **out);
lp_status lp_tensor_clamp_(lp_tensor *t, double lo, double hi);

/* ------------------------------------------------------------------------
 * Masking
 * ------------------------------------------------------------------------ */

/* cond ? a : b, broadcast */
lp_status lp_tensor_where(const lp_tensor *cond, const lp_tensor *a, const lp_tensor *b,
                          lp_tensor **out);
lp_status lp_tensor_masked_fill(const lp_tensor *t, const lp_tensor *mask, double value,
                                lp_tensor **out);
lp_status lp_tensor_masked_fill_(lp_tensor *t, const lp_tensor *mask, double value);
lp_status lp_tensor_masked_select(const lp_tensor *t, const lp_tensor *mask, lp_tensor **out);
lp_status lp_tensor_nan_to_num(const lp_tensor *t, double nan, double posinf, double neginf,
                               lp_tensor **out);

/* ------------------------------------------------------------------------
 * Reductions. `dims` lists the dims to reduce (n_dims == 0: all of them).
 * ------------------------------------------------------------------------ */

typedef enum lp_reduce_op {
    LP_REDUCE_SUM = 0,
    LP_REDUCE_MEAN,
    LP_REDUCE_PROD,
    LP_REDUCE_AMAX, /* max values over several dims */
    LP_REDUCE_AMIN,
    LP_REDUCE_ARGMAX, /* exactly one dim, or none (flattened index) */
    LP_REDUCE_ARGMIN,
    LP_REDUCE_LOGSUMEXP,
    LP_REDUCE_ANY,
    LP_REDUCE_ALL,
    LP_REDUCE_NANSUM,
    LP_REDUCE_NANMEAN,
    LP_REDUCE_COUNT
} lp_reduce_op;

lp_status lp_tensor_reduce(lp_reduce_op op, const lp_tensor *t, const int64_t *dims,
                           int32_t n_dims, int32_t keepdim, lp_tensor **out);
/* Max / min along one dim, with the indices (i64). Either out may be NULL. */
lp_status lp_tensor_max_dim(const lp_tensor *t, int32_t dim, int32_t keepdim,
                            lp_tensor **out_values, lp_tensor **out_indices);
lp_status lp_tensor_min_dim(const lp_tensor *t, int32_t dim, int32_t keepdim,
                            lp_tensor **out_values, lp_tensor **out_indices);
/* correction: 1 for the unbiased estimate (PyTorch's default), 0 for biased */
lp_status lp_tensor_std(const lp_tensor *t, const int64_t *dims, int32_t n_dims,
                        int32_t correction, int32_t keepdim, lp_tensor **out);
lp_status lp_tensor_var(const lp_tensor *t, const int64_t *dims, int32_t n_dims,
                        int32_t correction, int32_t keepdim, lp_tensor **out);
/* p-norm (p = 2: Euclidean; p = INFINITY: max abs) */
lp_status lp_tensor_norm(const lp_tensor *t, double p, const int64_t *dims, int32_t n_dims,
                         int32_t keepdim, lp_tensor **out);
/* q in [0,1], linear interpolation; has_dim == 0 flattens the input first. */
lp_status lp_tensor_quantile(const lp_tensor *t, double q, int32_t has_dim, int32_t dim,
                             int32_t keepdim, lp_tensor **out);
/* Running sum along dim. */
lp_status lp_tensor_cumsum(const lp_tensor *t, int32_t dim, lp_tensor **out);

/* ------------------------------------------------------------------------
 * Linear algebra
 * ------------------------------------------------------------------------ */

lp_status lp_tensor_matmul(const lp_tensor *a, const lp_tensor *b, lp_tensor **out);
lp_status lp_tensor_bmm(const lp_tensor *a, const lp_tensor *b, lp_tensor **out);
/* x W^T + b; bias may be NULL */
lp_status lp_tensor_linear(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                           lp_tensor **out);
/* A = U diag(S) Vh (torch.linalg.svd) */
lp_status lp_tensor_svd(const lp_tensor *a, int32_t full_matrices, lp_tensor **out_u,
                        lp_tensor **out_s, lp_tensor **out_vh);
/* Symmetric eigendecomposition, eigenvalues ascending (torch.linalg.eigh). */
lp_status lp_tensor_eigh(const lp_tensor *a, lp_tensor **out_values, lp_tensor **out_vectors);

/* ------------------------------------------------------------------------
 * Neural-network functional ops (NCHW). Arrays of two are (height, width).
 * Optional tensors (bias, batch-norm affine/running stats) may be NULL.
 * ------------------------------------------------------------------------ */

lp_status lp_nn_conv2d(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                       const int64_t stride[2], const int64_t padding[2],
                       const int64_t dilation[2], int64_t groups, lp_tensor **out);
lp_status lp_nn_conv_transpose2d(const lp_tensor *x, const lp_tensor *weight,
                                 const lp_tensor *bias, const int64_t stride[2],
                                 const int64_t padding[2], const int64_t output_padding[2],
                                 int64_t groups, const int64_t dilation[2], lp_tensor **out);
/* training != 0 uses batch statistics and updates running_mean/var in place
 * (when given) with `momentum`, exactly as torch.nn.functional.batch_norm. */
lp_status lp_nn_batch_norm(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                           lp_tensor *running_mean, lp_tensor *running_var, int32_t training,
                           double momentum, double eps, lp_tensor **out);
lp_status lp_nn_max_pool2d(const lp_tensor *x, const int64_t kernel[2], const int64_t stride[2],
                           const int64_t padding[2], const int64_t dilation[2],
                           int32_t ceil_mode, lp_tensor **out);
lp_status lp_nn_avg_pool2d(const lp_tensor *x, const int64_t kernel[2], const int64_t stride[2],
                           const int64_t padding[2], int32_t ceil_mode,
                           int32_t count_include_pad, lp_tensor **out);
lp_status lp_nn_adaptive_avg_pool2d(const lp_tensor *x, const int64_t output_size[2],
                                    lp_tensor **out);
lp_status lp_nn_pixel_shuffle(const lp_tensor *x, int64_t upscale_factor, lp_tensor **out);

typedef enum lp_interp_mode {
    LP_INTERP_NEAREST = 0,
    LP_INTERP_BILINEAR = 1,
    LP_INTERP_BICUBIC = 2
} lp_interp_mode;
/* Resize the last two dims to size[0] x size[1]. align_corners is ignored
 * for NEAREST. */
lp_status lp_nn_interpolate(const lp_tensor *x, const int64_t size[2], lp_interp_mode mode,
                            int32_t align_corners, lp_tensor **out);

typedef enum lp_pad_mode {
    LP_PAD_CONSTANT = 0,
    LP_PAD_REFLECT = 1,
    LP_PAD_REPLICATE = 2
} lp_pad_mode;
/* pads as torch.nn.functional.pad: (last_left, last_right, prev_left, ...) */
lp_status lp_nn_pad(const lp_tensor *x, const int64_t *pads, int32_t n_pads, lp_pad_mode mode,
                    double value, lp_tensor **out);
lp_status lp_nn_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out);
lp_status lp_nn_log_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out);

/* ------------------------------------------------------------------------
 * int8 inference (CPU only; libtorch's quantized engine: oneDNN, x86 or
 * fbgemm, whichever it has). Activations are quint8 tensors with one
 * scale and zero point; lp_nn_max_pool2d takes them as they are.
 * ------------------------------------------------------------------------ */
typedef struct lp_qconv lp_qconv; /* a prepacked int8 Conv2d */
/* weight (out, in, k, k) float32, quantized per output channel to qint8
 * (scale max |w| / 127, zero point 0; / 63 on x86 CPUs without VNNI, whose
 * int8 kernels could saturate otherwise); bias (out) float32 or NULL. */
lp_status lp_qconv_new(const lp_tensor *weight, const lp_tensor *bias, int64_t stride, int64_t pad,
                       lp_qconv **out);
void lp_qconv_free(lp_qconv *conv); /* nothrow */
/* x quint8 -> conv (then relu when `relu`), requantized to quint8 with
 * out_scale and out_zero_point. */
lp_status lp_qconv_forward(const lp_qconv *conv, const lp_tensor *x, double out_scale,
                           int64_t out_zero_point, int32_t relu, lp_tensor **out);
/* float -> quint8 (round(x / scale) + zero_point, clamped to 0..255) and back */
lp_status lp_tensor_quantize(const lp_tensor *x, double scale, int64_t zero_point, lp_tensor **out);
lp_status lp_tensor_dequantize(const lp_tensor *x, lp_tensor **out);
/* relu(a + b) of two quint8 tensors, requantized to (scale, zero_point) */
lp_status lp_tensor_qadd_relu(const lp_tensor *a, const lp_tensor *b, double scale, int64_t zero_point,
                              lp_tensor **out);

/* ------------------------------------------------------------------------
 * Autograd
 * ------------------------------------------------------------------------ */

lp_status lp_tensor_set_requires_grad(lp_tensor *t, int32_t requires_grad);
/* Backpropagate from t; grad may be NULL for a one-element t. */
lp_status lp_tensor_backward(const lp_tensor *t, const lp_tensor *grad, int32_t retain_graph);
/* The accumulated gradient, or *out = NULL when there is none yet. */
lp_status lp_tensor_grad(const lp_tensor *t, lp_tensor **out);
/* Drop the accumulated gradient (PyTorch's set_to_none=True). */
lp_status lp_tensor_zero_grad(lp_tensor *t);
lp_status lp_tensor_detach(const lp_tensor *t, lp_tensor **out);
/* Grad mode is thread-local, as in libtorch. nothrow */
void lp_grad_set_enabled(int32_t enabled);
int32_t lp_grad_is_enabled(void);

/* ------------------------------------------------------------------------
 * Optimizers: torch.optim.Adam and torch.optim.SGD semantics, with
 * parameter groups whose learning rate can change every step. The
 * optimizer holds its own references to the parameters.
 * ------------------------------------------------------------------------ */

typedef struct lp_optim lp_optim;

typedef enum lp_optim_kind {
    LP_OPTIM_ADAM = 0,
    LP_OPTIM_SGD = 1
} lp_optim_kind;

typedef struct lp_optim_params {
    int32_t kind;        /* lp_optim_kind */
    double lr;           /* default learning rate of new groups */
    double beta1, beta2; /* Adam */
    double eps;          /* Adam */
    double weight_decay; /* L2 penalty added to the gradient (both kinds) */
    double momentum;     /* SGD */
    double dampening;    /* SGD */
    int32_t nesterov;    /* SGD */
    int32_t amsgrad;     /* Adam */
} lp_optim_params;

/* Defaults of torch.optim for `kind` (Adam: lr 1e-3, betas 0.9/0.999, eps 1e-8). nothrow */
lp_optim_params lp_optim_default_params(lp_optim_kind kind);
lp_status lp_optim_init(const lp_optim_params *params, lp_optim **out);
void lp_optim_free(lp_optim *opt); /* nothrow; NULL ignored */
/* Add a group of parameters (leaf tensors that require grad); `*out` is its
 * 0-based index. lr < 0 uses the default. */
lp_status lp_optim_add_group(lp_optim *opt, const lp_tensor *const *params, int32_t n,
                             double lr, int32_t *out);
int32_t lp_optim_n_groups(const lp_optim *opt); /* nothrow */
lp_status lp_optim_set_lr(lp_optim *opt, int32_t group, double lr);
lp_status lp_optim_get_lr(const lp_optim *opt, int32_t group, double *out);
/* One update of every parameter that has a gradient. */
lp_status lp_optim_step(lp_optim *opt);
/* Drop every parameter's gradient. */
lp_status lp_optim_zero_grad(lp_optim *opt);
/* Optimizer state as named tensors for checkpoints: names look like
 * "0.3.exp_avg" (group.param.buffer) and "0.3.step". The list is in a fixed
 * order; lp_optim_load_state accepts exactly what lp_optim_state gives. */
typedef struct lp_tensor_list lp_tensor_list;
lp_status lp_optim_state(const lp_optim *opt, lp_tensor_list **out);
lp_status lp_optim_load_state(lp_optim *opt, const lp_tensor_list *state);

/* ------------------------------------------------------------------------
 * Named tensor lists and the lpose tensor file (.lpt): our own format, so
 * it needs no pickle. Little-endian: magic "LPOSETF1", u32 n, u32 meta_len,
 * meta bytes (e.g. JSON), then per tensor: u32 name_len, name, i32 dtype,
 * i32 ndim, i64 shape[ndim], u64 nbytes, raw contiguous data. Saving writes
 * PATH.tmp-<pid>, fsyncs and renames, so PATH is never half written (and
 * removes stale PATH.tmp-<pid> files of dead processes first).
 * ------------------------------------------------------------------------ */

lp_status lp_tensor_list_init(lp_tensor_list **out);
void lp_tensor_list_free(lp_tensor_list *list); /* nothrow; NULL ignored */
/* Append (name, t); the list takes its own reference to t. */
lp_status lp_tensor_list_push(lp_tensor_list *list, const char *name, const lp_tensor *t);
int32_t lp_tensor_list_size(const lp_tensor_list *list); /* nothrow */
/* Borrowed name, NULL when out of range. nothrow */
const char *lp_tensor_list_name(const lp_tensor_list *list, int32_t i);
/* New reference to the i-th tensor. */
lp_status lp_tensor_list_get(const lp_tensor_list *list, int32_t i, lp_tensor **out);
/* Index of `name`, or -1. nothrow */
int32_t lp_tensor_list_find(const lp_tensor_list *list, const char *name);
/* Free-form metadata saved with the list (NUL-terminated; copied). */
lp_status lp_tensor_list_set_meta(lp_tensor_list *list, const char *meta);
const char *lp_tensor_list_meta(const lp_tensor_list *list); /* borrowed, "" if none. nothrow */

lp_status lp_tensor_list_save(const lp_tensor_list *list, const char *path);
lp_status lp_tensor_list_load(const char *path, lp_tensor_list **out);

#ifdef __cplusplus
}
#endif

/* Areas built on the tensor API above, one section header each (each has its
 * own extern "C" guard). */
#include "lpose/data.h"
#include "lpose/video.h"
#include "lpose/model.h"
#include "lpose/loss.h"
#include "lpose/synth.h"
#include "lpose/dataset.h"
#include "lpose/predict.h"
#include "lpose/dist.h"
#include "lpose/plot.h"
#include "lpose/eks.h"

#endif /* LPOSE_H */
