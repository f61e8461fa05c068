-- Generated from engine/include/lpose.h by tools/gen_cdef.lua: do not edit.
-- Run `make cdef` after changing the header.
return [[
typedef enum lp_status {
    LP_STATUS_OK = 0,
    LP_STATUS_BAD_ARG = 1,
    LP_STATUS_OOM = 2,
    LP_STATUS_IO = 3,
    LP_STATUS_EOF = 4,
    LP_STATUS_UNSUPPORTED = 5,
    LP_STATUS_TORCH = 6,
    LP_STATUS_INTERNAL = 7,
    LP_STATUS_INTERRUPTED = 8
} lp_status;
const char *lp_last_error(void);
const char *lp_status_name(lp_status status);
lp_status lp_set_error(lp_status status, const char *message);
const char *lp_version(void);
lp_status lp_runtime_init(int32_t n_threads);
lp_status lp_set_num_threads(int32_t n_threads);
int32_t lp_get_num_threads(void);
lp_status lp_manual_seed(uint64_t seed);
int32_t lp_cuda_device_count(void);
typedef struct lp_mem_stats {
    int64_t n_tensors;
    int64_t bytes_cpu;
    int64_t bytes_cuda;
} lp_mem_stats;
void lp_mem_stats_get(lp_mem_stats *out);
void lp_interrupt_request(void);
void lp_interrupt_clear(void);
int32_t lp_interrupt_pending(void);
void lp_tmp_remove_all(void);
lp_status lp_tmp_remove_stale(const char *path, int32_t *out);
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
typedef int32_t lp_device;
enum { LP_DEVICE_CPU = -1 };
enum { LP_MAX_DIMS = 16 };
int32_t lp_dtype_size(lp_dtype dtype);
const char *lp_dtype_name(lp_dtype dtype);
void lp_tensor_free(lp_tensor *t);
int32_t lp_tensor_dim(const lp_tensor *t);
int64_t lp_tensor_size(const lp_tensor *t, int32_t dim);
int64_t lp_tensor_numel(const lp_tensor *t);
int32_t lp_tensor_dtype(const lp_tensor *t);
lp_device lp_tensor_device(const lp_tensor *t);
int32_t lp_tensor_requires_grad(const lp_tensor *t);
int32_t lp_tensor_is_contiguous(const lp_tensor *t);
int32_t lp_tensor_is_leaf(const lp_tensor *t);
int64_t lp_tensor_version(const lp_tensor *t);
int64_t lp_tensor_storage_refs(const lp_tensor *t);
int32_t lp_tensor_shape(const lp_tensor *t, int64_t *out);
lp_status lp_tensor_from_buffer(const void *data, lp_dtype dtype, const int64_t *shape,
                                int32_t ndim, lp_tensor **out);
lp_status lp_tensor_to_buffer(const lp_tensor *t, void *data, int64_t nbytes);
lp_status lp_tensor_data_ptr(const lp_tensor *t, void **out);
lp_status lp_tensor_item(const lp_tensor *t, double *out);
lp_status lp_tensor_empty(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          lp_tensor **out);
lp_status lp_tensor_zeros(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          lp_tensor **out);
lp_status lp_tensor_ones(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                         lp_tensor **out);
lp_status lp_tensor_full(const int64_t *shape, int32_t ndim, double value, lp_dtype dtype,
                         lp_device device, lp_tensor **out);
lp_status lp_tensor_arange(double start, double end, double step, lp_dtype dtype,
                           lp_device device, lp_tensor **out);
lp_status lp_tensor_linspace(double start, double end, int64_t steps, lp_dtype dtype,
                             lp_device device, lp_tensor **out);
lp_status lp_tensor_randn(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                          int64_t seed, lp_tensor **out);
lp_status lp_tensor_rand(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                         int64_t seed, lp_tensor **out);
lp_status lp_tensor_fill_(lp_tensor *t, double value);
lp_status lp_tensor_zero_(lp_tensor *t);
lp_status lp_tensor_uniform_(lp_tensor *t, double low, double high, int64_t seed);
lp_status lp_tensor_normal_(lp_tensor *t, double mean, double std, int64_t seed);
lp_status lp_tensor_copy_(lp_tensor *dst, const lp_tensor *src);
lp_status lp_tensor_to(const lp_tensor *t, lp_dtype dtype, lp_device device, lp_tensor **out);
lp_status lp_tensor_clone(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_contiguous(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_channels_last(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_ref(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_view(const lp_tensor *t, const int64_t *shape, int32_t ndim, lp_tensor **out);
lp_status lp_tensor_reshape(const lp_tensor *t, const int64_t *shape, int32_t ndim,
                            lp_tensor **out);
lp_status lp_tensor_permute(const lp_tensor *t, const int64_t *dims, int32_t ndim,
                            lp_tensor **out);
lp_status lp_tensor_transpose(const lp_tensor *t, int32_t dim0, int32_t dim1, lp_tensor **out);
lp_status lp_tensor_narrow(const lp_tensor *t, int32_t dim, int64_t start, int64_t length,
                           lp_tensor **out);
lp_status lp_tensor_slice(const lp_tensor *t, int32_t dim, int64_t start, int64_t end,
                          int64_t step, lp_tensor **out);
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
    LP_UNARY_ISNAN,
    LP_UNARY_ISFINITE,
    LP_UNARY_LOGICAL_NOT,
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
    LP_BINARY_EQ,
    LP_BINARY_NE,
    LP_BINARY_LT,
    LP_BINARY_LE,
    LP_BINARY_GT,
    LP_BINARY_GE,
    LP_BINARY_LOGICAL_AND,
    LP_BINARY_LOGICAL_OR,
    LP_BINARY_ADD_RELU,
    LP_BINARY_COUNT
} lp_binary_op;
lp_status lp_tensor_unary(lp_unary_op op, const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_unary_(lp_unary_op op, lp_tensor *t);
lp_status lp_tensor_binary(lp_binary_op op, const lp_tensor *a, const lp_tensor *b,
                           lp_tensor **out);
lp_status lp_tensor_binary_(lp_binary_op op, lp_tensor *a, const lp_tensor *b);
lp_status lp_tensor_binary_scalar(lp_binary_op op, const lp_tensor *a, double s,
                                  int32_t scalar_first, lp_tensor **out);
lp_status lp_tensor_binary_scalar_(lp_binary_op op, lp_tensor *a, double s);
lp_status lp_tensor_clamp(const lp_tensor *t, double lo, double hi, lp_tensor **out);
lp_status lp_tensor_clamp_(lp_tensor *t, double lo, double hi);
lp_status lp_tensor_where(const lp_tensor *cond, const lp_tensor *a, const lp_tensor *b,
                          lp_tensor **out);
lp_status lp_tensor_masked_fill(const lp_tensor *t, const lp_tensor *mask, double value,
                                lp_tensor **out);
lp_status lp_tensor_masked_fill_(lp_tensor *t, const lp_tensor *mask, double value);
lp_status lp_tensor_masked_select(const lp_tensor *t, const lp_tensor *mask, lp_tensor **out);
lp_status lp_tensor_nan_to_num(const lp_tensor *t, double nan, double posinf, double neginf,
                               lp_tensor **out);
typedef enum lp_reduce_op {
    LP_REDUCE_SUM = 0,
    LP_REDUCE_MEAN,
    LP_REDUCE_PROD,
    LP_REDUCE_AMAX,
    LP_REDUCE_AMIN,
    LP_REDUCE_ARGMAX,
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
lp_status lp_tensor_max_dim(const lp_tensor *t, int32_t dim, int32_t keepdim,
                            lp_tensor **out_values, lp_tensor **out_indices);
lp_status lp_tensor_min_dim(const lp_tensor *t, int32_t dim, int32_t keepdim,
                            lp_tensor **out_values, lp_tensor **out_indices);
lp_status lp_tensor_std(const lp_tensor *t, const int64_t *dims, int32_t n_dims,
                        int32_t correction, int32_t keepdim, lp_tensor **out);
lp_status lp_tensor_var(const lp_tensor *t, const int64_t *dims, int32_t n_dims,
                        int32_t correction, int32_t keepdim, lp_tensor **out);
lp_status lp_tensor_norm(const lp_tensor *t, double p, const int64_t *dims, int32_t n_dims,
                         int32_t keepdim, lp_tensor **out);
lp_status lp_tensor_quantile(const lp_tensor *t, double q, int32_t has_dim, int32_t dim,
                             int32_t keepdim, lp_tensor **out);
lp_status lp_tensor_cumsum(const lp_tensor *t, int32_t dim, lp_tensor **out);
lp_status lp_tensor_matmul(const lp_tensor *a, const lp_tensor *b, lp_tensor **out);
lp_status lp_tensor_bmm(const lp_tensor *a, const lp_tensor *b, lp_tensor **out);
lp_status lp_tensor_linear(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                           lp_tensor **out);
lp_status lp_tensor_svd(const lp_tensor *a, int32_t full_matrices, lp_tensor **out_u,
                        lp_tensor **out_s, lp_tensor **out_vh);
lp_status lp_tensor_eigh(const lp_tensor *a, lp_tensor **out_values, lp_tensor **out_vectors);
lp_status lp_nn_conv2d(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                       const int64_t stride[2], const int64_t padding[2],
                       const int64_t dilation[2], int64_t groups, lp_tensor **out);
lp_status lp_nn_conv_transpose2d(const lp_tensor *x, const lp_tensor *weight,
                                 const lp_tensor *bias, const int64_t stride[2],
                                 const int64_t padding[2], const int64_t output_padding[2],
                                 int64_t groups, const int64_t dilation[2], lp_tensor **out);
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
lp_status lp_nn_interpolate(const lp_tensor *x, const int64_t size[2], lp_interp_mode mode,
                            int32_t align_corners, lp_tensor **out);
typedef enum lp_pad_mode {
    LP_PAD_CONSTANT = 0,
    LP_PAD_REFLECT = 1,
    LP_PAD_REPLICATE = 2
} lp_pad_mode;
lp_status lp_nn_pad(const lp_tensor *x, const int64_t *pads, int32_t n_pads, lp_pad_mode mode,
                    double value, lp_tensor **out);
lp_status lp_nn_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out);
lp_status lp_nn_log_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out);
typedef struct lp_qconv lp_qconv;
lp_status lp_qconv_new(const lp_tensor *weight, const lp_tensor *bias, int64_t stride, int64_t pad,
                       lp_qconv **out);
void lp_qconv_free(lp_qconv *conv);
lp_status lp_qconv_forward(const lp_qconv *conv, const lp_tensor *x, double out_scale,
                           int64_t out_zero_point, int32_t relu, lp_tensor **out);
lp_status lp_tensor_quantize(const lp_tensor *x, double scale, int64_t zero_point, lp_tensor **out);
lp_status lp_tensor_dequantize(const lp_tensor *x, lp_tensor **out);
lp_status lp_tensor_qadd_relu(const lp_tensor *a, const lp_tensor *b, double scale, int64_t zero_point,
                              lp_tensor **out);
lp_status lp_tensor_set_requires_grad(lp_tensor *t, int32_t requires_grad);
lp_status lp_tensor_backward(const lp_tensor *t, const lp_tensor *grad, int32_t retain_graph);
lp_status lp_tensor_grad(const lp_tensor *t, lp_tensor **out);
lp_status lp_tensor_zero_grad(lp_tensor *t);
lp_status lp_tensor_detach(const lp_tensor *t, lp_tensor **out);
void lp_grad_set_enabled(int32_t enabled);
int32_t lp_grad_is_enabled(void);
typedef struct lp_optim lp_optim;
typedef enum lp_optim_kind {
    LP_OPTIM_ADAM = 0,
    LP_OPTIM_SGD = 1
} lp_optim_kind;
typedef struct lp_optim_params {
    int32_t kind;
    double lr;
    double beta1, beta2;
    double eps;
    double weight_decay;
    double momentum;
    double dampening;
    int32_t nesterov;
    int32_t amsgrad;
} lp_optim_params;
lp_optim_params lp_optim_default_params(lp_optim_kind kind);
lp_status lp_optim_init(const lp_optim_params *params, lp_optim **out);
void lp_optim_free(lp_optim *opt);
lp_status lp_optim_add_group(lp_optim *opt, const lp_tensor *const *params, int32_t n,
                             double lr, int32_t *out);
int32_t lp_optim_n_groups(const lp_optim *opt);
lp_status lp_optim_set_lr(lp_optim *opt, int32_t group, double lr);
lp_status lp_optim_get_lr(const lp_optim *opt, int32_t group, double *out);
lp_status lp_optim_step(lp_optim *opt);
lp_status lp_optim_zero_grad(lp_optim *opt);
typedef struct lp_tensor_list lp_tensor_list;
lp_status lp_optim_state(const lp_optim *opt, lp_tensor_list **out);
lp_status lp_optim_load_state(lp_optim *opt, const lp_tensor_list *state);
lp_status lp_tensor_list_init(lp_tensor_list **out);
void lp_tensor_list_free(lp_tensor_list *list);
lp_status lp_tensor_list_push(lp_tensor_list *list, const char *name, const lp_tensor *t);
int32_t lp_tensor_list_size(const lp_tensor_list *list);
const char *lp_tensor_list_name(const lp_tensor_list *list, int32_t i);
lp_status lp_tensor_list_get(const lp_tensor_list *list, int32_t i, lp_tensor **out);
int32_t lp_tensor_list_find(const lp_tensor_list *list, const char *name);
lp_status lp_tensor_list_set_meta(lp_tensor_list *list, const char *meta);
const char *lp_tensor_list_meta(const lp_tensor_list *list);
lp_status lp_tensor_list_save(const lp_tensor_list *list, const char *path);
lp_status lp_tensor_list_load(const char *path, lp_tensor_list **out);
typedef struct lp_labels lp_labels;
lp_status lp_labels_read(const char *csv_path, const char *data_dir, lp_labels **out);
void lp_labels_free(lp_labels *labels);
int64_t lp_labels_n_frames(const lp_labels *labels);
int32_t lp_labels_n_keypoints(const lp_labels *labels);
const char *lp_labels_keypoint_name(const lp_labels *labels, int32_t idx_keypoint);
const char *lp_labels_image_path(const lp_labels *labels, int64_t idx_frame);
const char *lp_labels_scorer(const lp_labels *labels);
const float *lp_labels_keypoints_data(const lp_labels *labels);
lp_status lp_labels_keypoints(const lp_labels *labels, lp_tensor **out);
int32_t lp_labels_has_visibility(const lp_labels *labels);
lp_status lp_labels_visibility(const lp_labels *labels, lp_tensor **out);
lp_status lp_image_read_rgb(const char *path, lp_tensor **out);
lp_status lp_image_read_rgb_into(const char *path, int64_t capacity, uint8_t *buf,
                                 int64_t size_out[2]);
lp_status lp_image_load(const char *path, int32_t height, int32_t width, int64_t size_out[2],
                        lp_tensor **out);
lp_status lp_image_load_into(const char *path, int32_t height, int32_t width,
                             int64_t size_out[2], float *out);
enum { LP_CONTEXT_FRAMES = 5 };
lp_status lp_context_path(const char *path, int32_t offset, int32_t fallback, int64_t capacity,
                          char *out);
lp_status lp_context_load_stack(const char *path, int32_t height, int32_t width,
                                int64_t size_out[2], lp_tensor **out);
typedef struct lp_video lp_video;
lp_status lp_video_open(const char *path, int32_t n_threads, lp_video **out);
void lp_video_free(lp_video *video);
int64_t lp_video_n_frames(const lp_video *video);
double lp_video_fps(const lp_video *video);
int32_t lp_video_width(const lp_video *video);
int32_t lp_video_height(const lp_video *video);
const char *lp_video_codec_name(const lp_video *video);
int64_t lp_video_n_seeks(const lp_video *video);
lp_status lp_video_read_batch(lp_video *video, int64_t start, int64_t n, int32_t height,
                              int32_t width, lp_tensor **out);
lp_status lp_video_read_batch_into(lp_video *video, int64_t start, int64_t n, int32_t height,
                                   int32_t width, float *out);
lp_status lp_video_read_frame_rgb(lp_video *video, int64_t index, lp_tensor **out);
lp_status lp_video_read_frame_rgb_into(lp_video *video, int64_t index, uint8_t *out);
typedef struct lp_video_writer lp_video_writer;
lp_status lp_video_writer_open(const char *path, int32_t width, int32_t height, double fps,
                               lp_video_writer **out);
lp_status lp_video_writer_write(lp_video_writer *writer, const lp_tensor *rgb);
lp_status lp_video_writer_write_rgb(lp_video_writer *writer, const uint8_t *rgb, int64_t stride);
lp_status lp_video_writer_close(lp_video_writer *writer);
void lp_video_writer_free(lp_video_writer *writer);
int64_t lp_video_writer_n_frames(const lp_video_writer *writer);
typedef struct lp_model lp_model;
typedef enum lp_model_type {
    LP_MODEL_TYPE_HEATMAP = 0,
    LP_MODEL_TYPE_HEATMAP_MHCRNN = 1
} lp_model_type;
typedef enum lp_backbone {
    LP_BACKBONE_RESNET18 = 0,
    LP_BACKBONE_RESNET34 = 1,
    LP_BACKBONE_RESNET50 = 2,
    LP_BACKBONE_RESNET101 = 3,
    LP_BACKBONE_RESNET152 = 4
} lp_backbone;
typedef struct lp_model_params {
    int32_t model_type;
    int32_t backbone;
    int32_t num_keypoints;
    int32_t downsample_factor;
    int64_t image_height;
    int64_t image_width;
    int64_t seed;
} lp_model_params;
lp_model_params lp_model_default_params(void);
const char *lp_model_type_name(int32_t model_type);
const char *lp_backbone_name(int32_t backbone);
int32_t lp_backbone_channels(int32_t backbone);
lp_status lp_model_init(const lp_model_params *params, lp_model **out);
void lp_model_free(lp_model *model);
lp_status lp_model_get_params(const lp_model *model, lp_model_params *out);
int32_t lp_model_n_tensors(const lp_model *model);
const char *lp_model_tensor_name(const lp_model *model, int32_t i);
int32_t lp_model_tensor_is_param(const lp_model *model, int32_t i);
int32_t lp_model_find_tensor(const lp_model *model, const char *name);
lp_status lp_model_tensor(const lp_model *model, int32_t i, lp_tensor **out);
lp_status lp_model_count_parameters(const lp_model *model, const char *prefix, int64_t *out);
lp_status lp_model_set_training(lp_model *model, int32_t training);
int32_t lp_model_is_training(const lp_model *model);
lp_status lp_model_set_fold_batch_norm(lp_model *model, int32_t on);
lp_status lp_model_quantize_int8(lp_model *model, const lp_tensor *images);
void lp_model_drop_int8(lp_model *model);
int32_t lp_model_is_int8(const lp_model *model);
lp_status lp_model_to(lp_model *model, lp_device device);
lp_device lp_model_device(const lp_model *model);
lp_status lp_model_forward(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                           lp_tensor **out_mf);
lp_status lp_model_forward_backbone(lp_model *model, const lp_tensor *images,
                                    lp_tensor **out);
lp_status lp_model_forward_heads(lp_model *model, const lp_tensor *features, lp_tensor **out_sf,
                                 lp_tensor **out_mf);
lp_status lp_model_context_stack(const lp_tensor *features, lp_tensor **out);
lp_status lp_model_forward_window(lp_model *model, const lp_tensor *images, lp_tensor **out_sf,
                                  lp_tensor **out_mf);
lp_status lp_heatmaps_decode(const lp_tensor *heatmaps, int32_t downsample_factor,
                             lp_tensor **out_keypoints, lp_tensor **out_confidences);
lp_status lp_keypoints_choose(const lp_tensor *keypoints_sf, const lp_tensor *confidences_sf,
                              const lp_tensor *keypoints_mf, const lp_tensor *confidences_mf,
                              lp_tensor **out_keypoints, lp_tensor **out_confidences);
lp_status lp_model_predict(lp_model *model, const lp_tensor *images, int32_t window,
                           double frame_height, double frame_width, lp_tensor **out_keypoints,
                           lp_tensor **out_confidences);
lp_status lp_pickle_load(const char *path, lp_tensor_list **out);
typedef enum lp_weights_format {
    LP_WEIGHTS_LPOSE = 0,
    LP_WEIGHTS_BACKBONE = 1,
    LP_WEIGHTS_LIGHTNING = 2
} lp_weights_format;
typedef struct lp_load_report {
    int32_t n_loaded;
    int32_t n_missing;
    int32_t n_unexpected;
    int32_t n_skipped;
} lp_load_report;
lp_status lp_model_load_weights(lp_model *model, const lp_tensor_list *weights,
                                lp_weights_format format, int32_t strict, lp_load_report *out);
lp_status lp_model_load_weights_file(lp_model *model, const char *path,
                                     lp_weights_format format, int32_t strict, lp_load_report *out);
const char *lp_model_load_report_keys(const lp_model *model, int32_t which);
lp_status lp_model_state(const lp_model *model, lp_tensor_list **out);
lp_status lp_model_save(const lp_model *model, const char *path);
lp_status lp_model_load(const char *path, lp_model **out);
lp_status lp_model_config_json(const lp_model *model, int64_t size, char *out);
lp_status lp_loss_heatmap_mse(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);
lp_status lp_loss_heatmap_kl(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);
lp_status lp_loss_heatmap_js(const lp_tensor *pred, const lp_tensor *target, lp_tensor **out);
lp_status lp_loss_temporal(const lp_tensor *keypoints, const lp_tensor *confidences,
                           const lp_tensor *epsilon, double prob_threshold, lp_tensor **out);
lp_status lp_metric_temporal_norm(const lp_tensor *keypoints, lp_tensor **out);
typedef struct lp_pca lp_pca;
lp_status lp_pca_fit(const lp_tensor *data, int64_t n_components, double explained_variance,
                     lp_pca **out);
lp_status lp_pca_init(const lp_tensor *mean, const lp_tensor *components, lp_pca **out);
void lp_pca_free(lp_pca *pca);
int64_t lp_pca_n_components(const lp_pca *pca);
int64_t lp_pca_n_features(const lp_pca *pca);
typedef enum lp_pca_field {
    LP_PCA_MEAN = 0,
    LP_PCA_COMPONENTS = 1,
    LP_PCA_EXPLAINED_VARIANCE = 2,
    LP_PCA_EXPLAINED_VARIANCE_RATIO = 3
} lp_pca_field;
lp_status lp_pca_get(const lp_pca *pca, lp_pca_field field, lp_tensor **out);
lp_status lp_pca_reproject_error(const lp_pca *pca, const lp_tensor *x, lp_tensor **out);
lp_status lp_pca_empirical_epsilon(const lp_pca *pca, const lp_tensor *x, double percentile,
                                   double multiplier, double *out);
lp_status lp_loss_pca(const lp_pca *pca, const lp_tensor *x, double epsilon, lp_tensor **out);
double lp_loss_weight_from_log(double log_weight);
double lp_loss_anneal_weight(int64_t epoch, double init_val, double increase_factor,
                             double final_val, int64_t freeze_until_epoch);
lp_status lp_image_write_png(const char *path, const uint8_t *pixels, int32_t width,
                             int32_t height, int32_t channels, int64_t stride);
typedef struct lp_synth_params {
    int32_t n_videos;
    int32_t n_test_videos;
    int32_t n_frames;
    int32_t n_keypoints;
    int32_t width;
    int32_t height;
    double fps;
    int32_t n_labeled_per_video;
    int32_t context;
    int32_t index_width;
    double occluder_rate;
    double noise_sigma;
    uint64_t seed;
} lp_synth_params;
lp_synth_params lp_synth_default_params(void);
lp_status lp_synth_check_params(const lp_synth_params *p);
lp_status lp_synth_keypoint_name(int32_t n_keypoints, int32_t idx_keypoint, int64_t capacity,
                                 char *out);
lp_status lp_synth_keypoints(const lp_synth_params *p, int32_t idx_video, float *xy,
                             uint8_t *occluded);
lp_status lp_synth_labeled_frames(const lp_synth_params *p, int32_t idx_video, int64_t capacity,
                                  int64_t *out, int64_t *n_out);
lp_status lp_synth_render_frame(const lp_synth_params *p, int32_t idx_video, int64_t idx_frame,
                                uint8_t *rgb);
lp_status lp_synth_generate(const lp_synth_params *p, const char *out_dir);
enum { LP_HEATMAP_ZERO = 0, LP_HEATMAP_UNIFORM = 1, LP_HEATMAP_GAUSSIAN = 2 };
lp_status lp_heatmaps_fill(float *keypoints, const uint8_t *visibility, int64_t n, int32_t n_keypoints,
                           int32_t height, int32_t width, int32_t downsample_factor, double sigma,
                           int32_t uniform_heatmaps, float *out);
lp_status lp_heatmaps_generate(lp_tensor *keypoints, int32_t height, int32_t width,
                               int32_t downsample_factor, int32_t uniform_heatmaps, lp_tensor **out);
lp_status lp_tensor_randperm(int64_t n, int64_t seed, lp_tensor **out);
lp_status lp_split_sizes(int64_t n, double train_prob, double val_prob, int64_t sizes_out[3]);
lp_status lp_split_indices(int64_t n, double train_prob, double val_prob, int64_t seed,
                           double train_frames, int64_t *perm_out, int64_t sizes_out[3]);
typedef struct lp_augment lp_augment;
lp_status lp_augment_open(const char *preset, lp_augment **out);
void lp_augment_free(lp_augment *aug);
const char *lp_augment_describe(const lp_augment *aug);
lp_status lp_augment_apply(const lp_augment *aug, uint64_t seed, int32_t n_frames, const uint8_t *frames,
                           int32_t in_h, int32_t in_w, float *keypoints, int32_t n_keypoints,
                           int32_t hflip, const int32_t *kp_swap, int32_t out_h, int32_t out_w,
                           uint8_t *out);
lp_status lp_augment_images(const lp_augment *aug, uint64_t seed, const lp_tensor *images,
                            const lp_tensor *keypoints, int32_t hflip, int32_t out_h, int32_t out_w,
                            lp_tensor **images_out, lp_tensor **keypoints_out);
void lp_image_normalize_chw(const uint8_t *rgb, int32_t height, int32_t width, float *out);
typedef struct lp_dataset lp_dataset;
typedef struct lp_dataset_params {
    int32_t height;
    int32_t width;
    int32_t downsample_factor;
    int32_t context;
    const char *imgaug;
    int32_t hflip;
    int32_t uniform_heatmaps;
    int64_t seed;
    int64_t cache_bytes;
} lp_dataset_params;
lp_dataset_params lp_dataset_default_params(void);
lp_status lp_dataset_open(const char *csv_path, const char *data_dir, const lp_dataset_params *params,
                          lp_dataset **out);
void lp_dataset_free(lp_dataset *ds);
int64_t lp_dataset_n_frames(const lp_dataset *ds);
int32_t lp_dataset_n_keypoints(const lp_dataset *ds);
const lp_labels *lp_dataset_labels(const lp_dataset *ds);
lp_status lp_dataset_get_params(const lp_dataset *ds, lp_dataset_params *out);
lp_status lp_dataset_get(const lp_dataset *ds, int64_t index, int32_t augment, uint64_t seed,
                         lp_tensor **images, lp_tensor **keypoints, lp_tensor **heatmaps);
typedef struct lp_loader lp_loader;
typedef struct lp_loader_params {
    int64_t batch_size;
    int32_t shuffle;
    int32_t augment;
    int32_t n_workers;
    int32_t prefetch;
    int32_t drop_last;
    int64_t seed;
    int32_t shard_index;
    int32_t shard_count;
} lp_loader_params;
lp_loader_params lp_loader_default_params(void);
lp_status lp_loader_open(lp_dataset *ds, const int64_t *indices, int64_t n, const lp_loader_params *params,
                         lp_loader **out);
lp_status lp_loader_next(lp_loader *loader, lp_tensor **images, lp_tensor **keypoints, lp_tensor **heatmaps,
                         lp_tensor **indices, lp_tensor **bbox);
int64_t lp_loader_n_batches(const lp_loader *loader);
int64_t lp_loader_epoch(const lp_loader *loader);
void lp_loader_free(lp_loader *loader);
typedef enum lp_predict_edge {
    LP_PREDICT_EDGE_LP = 0,
    LP_PREDICT_EDGE_PAD = 1
} lp_predict_edge;
typedef struct lp_predict_params {
    int64_t sequence_length;
    int32_t edge;
    int32_t prefetch;
    int32_t n_decode_threads;
    int32_t precision;
} lp_predict_params;
typedef enum lp_predict_precision {
    LP_PREDICT_F32 = 0,
    LP_PREDICT_INT8 = 1
} lp_predict_precision;
lp_predict_params lp_predict_default_params(void);
typedef struct lp_predict_stream lp_predict_stream;
lp_status lp_predict_stream_open(lp_model *model, const char *video_path,
                                 const lp_predict_params *params, lp_predict_stream **out);
lp_status lp_predict_stream_open_frames(lp_model *model, const lp_tensor *images,
                                        double frame_height, double frame_width,
                                        const lp_predict_params *params,
                                        lp_predict_stream **out);
void lp_predict_stream_free(lp_predict_stream *stream);
lp_status lp_predict_stream_next(lp_predict_stream *stream, int64_t *out_start,
                                 lp_tensor **out_keypoints, lp_tensor **out_confidences);
int64_t lp_predict_stream_n_frames(const lp_predict_stream *stream);
int64_t lp_predict_stream_n_backbone_frames(const lp_predict_stream *stream);
int64_t lp_predict_stream_n_backbone_calls(const lp_predict_stream *stream);
int32_t lp_predict_stream_width(const lp_predict_stream *stream);
int32_t lp_predict_stream_height(const lp_predict_stream *stream);
double lp_predict_stream_fps(const lp_predict_stream *stream);
double lp_predict_stream_seconds_model(const lp_predict_stream *stream);
double lp_predict_stream_seconds_wait(const lp_predict_stream *stream);
double lp_predict_stream_seconds_backbone(const lp_predict_stream *stream);
double lp_predict_stream_seconds_heads(const lp_predict_stream *stream);
double lp_predict_stream_seconds_decode(const lp_predict_stream *stream);
typedef enum lp_csv_kind {
    LP_CSV_PREDICTIONS = 0,
    LP_CSV_METRIC = 1
} lp_csv_kind;
typedef struct lp_csv_writer lp_csv_writer;
lp_status lp_csv_writer_open(const char *path, int32_t kind, const char *scorer,
                             int32_t n_keypoints, const char *const *keypoint_names,
                             int32_t with_set, lp_csv_writer **out);
lp_status lp_csv_writer_write_row(lp_csv_writer *writer, const char *index, const float *values,
                                  const char *set);
lp_status lp_csv_writer_close(lp_csv_writer *writer);
void lp_csv_writer_free(lp_csv_writer *writer);
lp_status lp_format_double(double value, int64_t capacity, char *out);
typedef struct lp_csv_table lp_csv_table;
lp_status lp_csv_table_read(const char *path, lp_csv_table **out);
void lp_csv_table_free(lp_csv_table *table);
int32_t lp_csv_table_kind(const lp_csv_table *table);
int64_t lp_csv_table_n_rows(const lp_csv_table *table);
int32_t lp_csv_table_n_keypoints(const lp_csv_table *table);
int32_t lp_csv_table_has_set(const lp_csv_table *table);
const char *lp_csv_table_scorer(const lp_csv_table *table);
const char *lp_csv_table_keypoint_name(const lp_csv_table *table, int32_t i);
const char *lp_csv_table_index(const lp_csv_table *table, int64_t row);
const char *lp_csv_table_set(const lp_csv_table *table, int64_t row);
const double *lp_csv_table_values(const lp_csv_table *table);
typedef struct lp_predict_stats {
    int64_t n_frames;
    int64_t n_backbone_frames;
    double seconds_total;
    double seconds_model;
    double seconds_wait;
    double seconds_backbone;
    double seconds_heads;
    double seconds_decode;
    int32_t width;
    int32_t height;
    double fps;
} lp_predict_stats;
lp_status lp_predict_video(lp_model *model, const char *video_path,
                           const lp_predict_params *params, const char *const *keypoint_names,
                           const char *scorer, const char *csv_path,
                           const char *temporal_norm_path, lp_predict_stats *out);
lp_status lp_predict_video_ensemble(lp_model *const *models, int32_t n_models,
                                    const char *video_path, const lp_predict_params *params,
                                    const char *const *keypoint_names, const char *scorer,
                                    const char *const *csv_paths,
                                    const char *const *temporal_norm_paths,
                                    lp_predict_stats *out);
lp_status lp_predict_draw_video(const char *video_path, const char *csv_path,
                                const char *out_path, double confidence_thresh);
typedef struct lp_label_video_options {
    double confidence_thresh;
    const char *const *skeleton;
    int32_t n_edges;
} lp_label_video_options;
lp_status lp_predict_draw_video_opts(const char *video_path, const char *csv_path,
                                     const char *out_path, const lp_label_video_options *options);
typedef struct lp_dist lp_dist;
typedef enum lp_dist_backend {
    LP_DIST_GLOO = 0,
    LP_DIST_NCCL = 1
} lp_dist_backend;
typedef enum lp_dist_op {
    LP_DIST_SUM = 0,
    LP_DIST_AVG = 1,
    LP_DIST_MAX = 2,
    LP_DIST_MIN = 3
} lp_dist_op;
typedef struct lp_dist_params {
    int32_t backend;
    int32_t rank;
    int32_t world_size;
    const char *master_addr;
    int32_t master_port;
    const char *store_path;
    const char *gloo_interface;
    int64_t timeout_ms;
    int32_t store_served;
} lp_dist_params;
lp_dist_params lp_dist_default_params(void);
int32_t lp_dist_backend_available(int32_t backend);
lp_status lp_dist_init(const lp_dist_params *params, lp_dist **out);
void lp_dist_free(lp_dist *group);
int32_t lp_dist_rank(const lp_dist *group);
int32_t lp_dist_world_size(const lp_dist *group);
lp_status lp_dist_all_reduce(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t op,
                             int64_t bucket_bytes);
lp_status lp_dist_broadcast(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t root);
lp_status lp_dist_barrier(lp_dist *group);
lp_status lp_nn_sync_batch_norm(lp_dist *group, const lp_tensor *x, const lp_tensor *weight,
                                const lp_tensor *bias, lp_tensor *running_mean,
                                lp_tensor *running_var, double momentum, double eps,
                                lp_tensor **out);
lp_status lp_model_set_sync_batchnorm(lp_model *model, lp_dist *group);
lp_status lp_process_spawn(const char *const *argv, const char *const *env_set, int64_t *pid);
lp_status lp_process_wait(int64_t pid, int32_t block, int32_t *ended, int32_t *code);
lp_status lp_process_kill(int64_t pid, int32_t signal);
lp_status lp_free_tcp_port(int32_t *port);
typedef struct lp_plot lp_plot;
enum { LP_PLOT_LOG_X = 1, LP_PLOT_LOG_Y = 2 };
typedef enum lp_plot_style {
    LP_PLOT_LINE = 0,
    LP_PLOT_MARKERS = 1,
    LP_PLOT_LINE_MARKERS = 2
} lp_plot_style;
lp_status lp_plot_new(int32_t width, int32_t height, int32_t rows, int32_t cols,
                      const char *title, lp_plot **out);
void lp_plot_free(lp_plot *plot);
lp_status lp_plot_axes(lp_plot *plot, int32_t panel, const char *title, const char *xlabel,
                       const char *ylabel, int32_t flags);
lp_status lp_plot_limits(lp_plot *plot, int32_t panel, double xmin, double xmax, double ymin,
                         double ymax);
lp_status lp_plot_series(lp_plot *plot, int32_t panel, const char *label, const double *x,
                         const double *y, int64_t n, int32_t style, int32_t color);
lp_status lp_plot_top_axis(lp_plot *plot, int32_t panel, const char *label, const double *x,
                           const char *const *tick_labels, int32_t n);
lp_status lp_plot_save_png(lp_plot *plot, const char *path);
lp_status lp_plot_panel_area(const lp_plot *plot, int32_t panel, double out[4]);
typedef struct lp_plot_keypoints {
    const char *label;
    const double *xy;
    const double *confidence;
} lp_plot_keypoints;
typedef struct lp_plot_image_options {
    const char *title;
    const char *const *keypoint_names;
    int32_t n_keypoints;
    const lp_plot_keypoints *sets;
    int32_t n_sets;
    const int32_t *skeleton;
    int32_t n_edges;
    double confidence_thresh;
    double scale;
} lp_plot_image_options;
lp_status lp_plot_image_png(const uint8_t *rgb, int32_t height, int32_t width, int64_t stride,
                            const lp_plot_image_options *options, const char *path);
lp_status lp_plot_colormap(const float *values, int64_t n, double vmin, double vmax,
                           uint8_t *out_rgb);
typedef enum lp_eks_average {
    LP_EKS_MEDIAN = 0,
    LP_EKS_MEAN = 1
} lp_eks_average;
typedef enum lp_eks_variance {
    LP_EKS_VAR_CONFIDENCE_WEIGHTED = 0,
    LP_EKS_VAR_PLAIN = 1
} lp_eks_variance;
typedef enum lp_eks_fit_noise {
    LP_EKS_FIT_MEDIAN_VARIANCE = 0,
    LP_EKS_FIT_FRAME_VARIANCE = 1
} lp_eks_fit_noise;
typedef struct lp_eks_params {
    int32_t average;
    int32_t variance;
    int32_t fit_noise;
    double smooth;
    double log_s_min;
    double log_s_max;
} lp_eks_params;
lp_eks_params lp_eks_default_params(void);
enum { LP_EKS_N_COLUMNS = 9 };
const char *lp_eks_column_name(int32_t i);
lp_status lp_eks_smooth_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out_mean, double *out_var, double *out_loglik);
lp_status lp_eks_loglik_1d(const double *y, const double *r, int64_t n, double s, double m0,
                           double p0, double *out);
lp_status lp_eks_smooth(const double *predictions, int32_t n_models, int64_t n_frames,
                        int32_t n_keypoints, const lp_eks_params *params, double *out_smooth,
                        double *out);
lp_status lp_eks_write_csv(const char *path, int64_t n_frames, int32_t n_keypoints,
                           const char *const *keypoint_names, const char *const *index,
                           const double *values);
]]
