// tensor.cpp: tensor ops over ATen: types and metadata, creation,
// conversion, views, elementwise math, masking, reductions and linear
// algebra. Handles, argument checks and the runtime are in runtime.cpp, the
// error buffer in error.cpp. One of the shim's libtorch translation units
// (the .cpp files that include shim.hpp): see docs/design/house-style.md §1.
#include "shim.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using lp::fail;
using lp::ref;

// ==========================================================================
// Types and metadata
// ==========================================================================

// C callers may pass any int as an lp_dtype (e.g. a dtype field read from a
// file); in C++ loading an out-of-range enum is undefined, so read its bytes.
static int32_t dtype_value(lp_dtype dtype) {
    int32_t v;
    memcpy(&v, &dtype, sizeof v);
    return v;
}

LP_EXPORT int32_t lp_dtype_size(lp_dtype dtype) {
    switch (dtype_value(dtype)) {
    case LP_DTYPE_F32: case LP_DTYPE_I32: return 4;
    case LP_DTYPE_F64: case LP_DTYPE_I64: return 8;
    case LP_DTYPE_F16: case LP_DTYPE_BF16: return 2;
    case LP_DTYPE_U8: case LP_DTYPE_BOOL: return 1;
    default: return 0;
    }
}

LP_EXPORT const char *lp_dtype_name(lp_dtype dtype) {
    switch (dtype_value(dtype)) {
    case LP_DTYPE_F32: return "f32";
    case LP_DTYPE_F64: return "f64";
    case LP_DTYPE_F16: return "f16";
    case LP_DTYPE_BF16: return "bf16";
    case LP_DTYPE_I64: return "i64";
    case LP_DTYPE_I32: return "i32";
    case LP_DTYPE_U8: return "u8";
    case LP_DTYPE_BOOL: return "bool";
    default: return "?";
    }
}

LP_EXPORT int32_t lp_tensor_dim(const lp_tensor *t) { LP_NOTHROW(-1, if (t) return (int32_t)t->t.dim();) }

LP_EXPORT int64_t lp_tensor_size(const lp_tensor *t, int32_t dim) {
    LP_NOTHROW(-1, if (!t) return -1; int64_t n = t->t.dim(); if (dim < -n || dim >= n) return -1;
               return t->t.size(dim < 0 ? dim + n : dim);)
}

LP_EXPORT int64_t lp_tensor_numel(const lp_tensor *t) { LP_NOTHROW(-1, if (t) return (int64_t)t->t.numel();) }

LP_EXPORT int32_t lp_tensor_dtype(const lp_tensor *t) {
    LP_NOTHROW(-1, if (t) return lp::from_scalar_type(t->t.scalar_type());)
}

LP_EXPORT lp_device lp_tensor_device(const lp_tensor *t) {
    LP_NOTHROW(-1, if (t && t->t.is_cuda()) return (lp_device)t->t.get_device(); return LP_DEVICE_CPU;)
}

LP_EXPORT int32_t lp_tensor_requires_grad(const lp_tensor *t) {
    LP_NOTHROW(0, if (t) return t->t.requires_grad() ? 1 : 0;)
}

LP_EXPORT int32_t lp_tensor_is_contiguous(const lp_tensor *t) {
    LP_NOTHROW(0, if (t) return t->t.is_contiguous() ? 1 : 0;)
}

LP_EXPORT int64_t lp_tensor_version(const lp_tensor *t) {
    LP_NOTHROW(-1, if (t) return (int64_t)t->t._version();)
}

LP_EXPORT int64_t lp_tensor_storage_refs(const lp_tensor *t) {
    LP_NOTHROW(-1, if (t && t->t.has_storage()) return (int64_t)t->t.storage().use_count();)
}

LP_EXPORT int32_t lp_tensor_is_leaf(const lp_tensor *t) { LP_NOTHROW(0, if (t) return t->t.is_leaf() ? 1 : 0;) }

LP_EXPORT int32_t lp_tensor_shape(const lp_tensor *t, int64_t *out) {
    LP_NOTHROW(-1, if (!t) return -1; int32_t n = (int32_t)t->t.dim(); if (out && n <= LP_MAX_DIMS) {
        for (int32_t i = 0; i < n; i++) out[i] = t->t.size(i);
    } return n;)
}

// ==========================================================================
// Creation
// ==========================================================================

static at::TensorOptions make_opts(int32_t dtype, lp_device device) {
    return at::TensorOptions().dtype(lp::to_scalar_type(dtype)).device(lp::to_device(device));
}

// numel of a shape with an overflow check (a huge shape must fail, not wrap).
static int64_t checked_numel(const std::vector<int64_t> &s) {
    int64_t n = 1;
    for (int64_t d : s) {
        if (d != 0 && n > INT64_MAX / d) fail(LP_STATUS_BAD_ARG, "shape %s is too large", lp::shape_str(s).c_str());
        n *= d;
    }
    return n;
}

LP_EXPORT lp_status lp_tensor_from_buffer(const void *data, lp_dtype dtype, const int64_t *shape, int32_t ndim,
                                          lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    at::ScalarType st = lp::to_scalar_type(dtype);
    auto s = lp::shape_vec(shape, ndim);
    int64_t n = checked_numel(s);
    if (n > 0 && !data) fail(LP_STATUS_BAD_ARG, "argument 'data' is NULL");
    // bool is copied as bytes and normalised, so any nonzero byte means true.
    at::Tensor t = at::empty(s, at::TensorOptions().dtype(st == at::kBool ? at::kByte : st));
    if (n > 0) memcpy(t.data_ptr(), data, (size_t)n * t.element_size());
    if (st == at::kBool) t = t.ne(0);
    *out = lp::new_handle(std::move(t));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_to_buffer(const lp_tensor *t, void *data, int64_t nbytes) {
    LP_TRY
    const at::Tensor &x = ref(t, "t");
    int64_t want = (int64_t)x.numel() * (int64_t)x.element_size();
    if (nbytes != want)
        fail(LP_STATUS_BAD_ARG, "nbytes is %lld but the tensor %s (%s) has %lld bytes", (long long)nbytes,
             lp::shape_str(x.sizes()).c_str(), c10::toString(x.scalar_type()), (long long)want);
    if (want == 0) return LP_STATUS_OK;
    if (!data) fail(LP_STATUS_BAD_ARG, "argument 'data' is NULL");
    at::Tensor c = x.detach();
    if (!c.is_cpu()) c = c.cpu();
    c = c.contiguous();
    memcpy(data, c.data_ptr(), (size_t)want);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_data_ptr(const lp_tensor *t, void **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (!x.is_cpu()) fail(LP_STATUS_BAD_ARG, "tensor is not on the CPU");
    if (!x.is_contiguous()) fail(LP_STATUS_BAD_ARG, "tensor is not contiguous (use lp_tensor_contiguous)");
    *out = x.data_ptr();
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_item(const lp_tensor *t, double *out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (x.numel() != 1)
        fail(LP_STATUS_BAD_ARG, "tensor of shape %s has %lld elements, expected 1", lp::shape_str(x.sizes()).c_str(),
             (long long)x.numel());
    *out = x.item().toDouble();
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_empty(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                                    lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(at::empty(s, make_opts(dtype, device)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_zeros(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                                    lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(at::zeros(s, make_opts(dtype, device)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_ones(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                                   lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(at::ones(s, make_opts(dtype, device)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_full(const int64_t *shape, int32_t ndim, double value, lp_dtype dtype,
                                   lp_device device, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(at::full(s, value, make_opts(dtype, device)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_arange(double start, double end, double step, lp_dtype dtype, lp_device device,
                                     lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto o = make_opts(dtype, device);
    if (!(step != 0) || std::isnan(start) || std::isnan(end) || std::isinf(start) || std::isinf(end))
        fail(LP_STATUS_BAD_ARG, "need finite start/end and a nonzero step (got %g, %g, %g)", start, end, step);
    if ((end - start) / step < 0)
        fail(LP_STATUS_BAD_ARG, "step %g goes away from end (start %g, end %g)", step, start, end);
    *out = lp::new_handle(at::arange(start, end, step, o));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_linspace(double start, double end, int64_t steps, lp_dtype dtype, lp_device device,
                                       lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto o = make_opts(dtype, device);
    if (steps < 0) fail(LP_STATUS_BAD_ARG, "steps must be >= 0, got %lld", (long long)steps);
    *out = lp::new_handle(at::linspace(start, end, steps, o));
    LP_CATCH
}

// Random values are drawn in f32/f64 on the CPU when seeded (a private
// generator, so the same seed gives the same values on every device), then
// converted; f16/bf16 are drawn in f32.
static at::Tensor random_tensor(bool normal, const std::vector<int64_t> &s, at::ScalarType st, at::Device dev,
                                int64_t seed) {
    if (!at::isFloatingType(st))
        fail(LP_STATUS_BAD_ARG, "random tensors need a floating dtype, got %s", c10::toString(st));
    at::ScalarType draw = st == at::kDouble ? at::kDouble : at::kFloat;
    at::Tensor t;
    if (seed >= 0) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>((uint64_t)seed);
        auto o = at::TensorOptions().dtype(draw);
        t = normal ? at::randn(s, gen, o) : at::rand(s, gen, o);
    } else {
        auto o = at::TensorOptions().dtype(dev.is_cpu() ? draw : st).device(dev);
        t = normal ? at::randn(s, o) : at::rand(s, o);
    }
    return t.to(at::TensorOptions().dtype(st).device(dev));
}

LP_EXPORT lp_status lp_tensor_randn(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                                    int64_t seed, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(random_tensor(true, s, lp::to_scalar_type(dtype), lp::to_device(device), seed));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_rand(const int64_t *shape, int32_t ndim, lp_dtype dtype, lp_device device,
                                   int64_t seed, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto s = lp::shape_vec(shape, ndim);
    checked_numel(s);
    *out = lp::new_handle(random_tensor(false, s, lp::to_scalar_type(dtype), lp::to_device(device), seed));
    LP_CATCH
}

// Initialising a parameter (a leaf that requires grad) in place is what
// nn.init does under no_grad; elsewhere keep the op visible to autograd.
static bool init_needs_no_grad(const at::Tensor &t) { return t.requires_grad() && t.is_leaf(); }

LP_EXPORT lp_status lp_tensor_fill_(lp_tensor *t, double value) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    c10::AutoGradMode g(c10::GradMode::is_enabled() && !init_needs_no_grad(x));
    x.fill_(value);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_zero_(lp_tensor *t) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    c10::AutoGradMode g(c10::GradMode::is_enabled() && !init_needs_no_grad(x));
    x.zero_();
    LP_CATCH
}

static void random_fill_(at::Tensor &x, bool normal, double a, double b, int64_t seed) {
    lp::require_float(x, "t");
    c10::AutoGradMode g(c10::GradMode::is_enabled() && !init_needs_no_grad(x));
    auto s = x.sizes().vec();
    at::Tensor r;
    if (seed >= 0 || !x.is_cpu() || x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16) {
        r = random_tensor(normal, s, x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat, x.device(), seed);
        if (normal)
            r.mul_(b).add_(a);
        else
            r.mul_(b - a).add_(a);
        x.copy_(r);
    } else if (normal) {
        x.normal_(a, b);
    } else {
        x.uniform_(a, b);
    }
}

LP_EXPORT lp_status lp_tensor_uniform_(lp_tensor *t, double low, double high, int64_t seed) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    if (!(low <= high)) fail(LP_STATUS_BAD_ARG, "need low <= high, got %g > %g", low, high);
    random_fill_(x, false, low, high, seed);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_normal_(lp_tensor *t, double mean, double std, int64_t seed) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    if (!(std >= 0)) fail(LP_STATUS_BAD_ARG, "std must be >= 0, got %g", std);
    random_fill_(x, true, mean, std, seed);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_copy_(lp_tensor *dst, const lp_tensor *src) {
    LP_TRY
    at::Tensor &d = lp::mut(dst, "dst");
    const at::Tensor &s = ref(src, "src");
    c10::AutoGradMode g(c10::GradMode::is_enabled() && !init_needs_no_grad(d));
    d.copy_(s);
    LP_CATCH
}

// ==========================================================================
// Conversion
// ==========================================================================

LP_EXPORT lp_status lp_tensor_to(const lp_tensor *t, lp_dtype dtype, lp_device device, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    *out = lp::new_handle(x.to(make_opts(dtype, device)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_clone(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(ref(t, "t").clone());
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_contiguous(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(ref(t, "t").contiguous());
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_channels_last(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (x.dim() != 4) fail(LP_STATUS_BAD_ARG, "expected a 4-d tensor (N, C, H, W), got %d dims", (int)x.dim());
    *out = lp::new_handle(x.contiguous(at::MemoryFormat::ChannelsLast));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_ref(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(ref(t, "t"));
    LP_CATCH
}

// ==========================================================================
// Views and shape ops
// ==========================================================================

// Check a view/reshape target (one -1 allowed) against numel in C++, since a
// c10 throw costs milliseconds and a wrong view is a common REPL mistake.
static std::vector<int64_t> target_shape(const at::Tensor &x, const int64_t *shape, int32_t ndim) {
    if (ndim < 0 || ndim > LP_MAX_DIMS)
        fail(LP_STATUS_BAD_ARG, "ndim %d out of range (0..%d)", (int)ndim, (int)LP_MAX_DIMS);
    if (ndim > 0 && !shape) fail(LP_STATUS_BAD_ARG, "argument 'shape' is NULL");
    std::vector<int64_t> s(shape, shape + ndim);
    int infer = -1;
    int64_t n = 1;
    for (int32_t i = 0; i < ndim; i++) {
        if (s[i] == -1) {
            if (infer >= 0) fail(LP_STATUS_BAD_ARG, "only one dimension can be -1 in %s", lp::shape_str(s).c_str());
            infer = i;
        } else if (s[i] < 0) {
            fail(LP_STATUS_BAD_ARG, "shape %s has a negative size", lp::shape_str(s).c_str());
        } else {
            if (s[i] != 0 && n > INT64_MAX / s[i]) fail(LP_STATUS_BAD_ARG, "shape is too large");
            n *= s[i];
        }
    }
    int64_t numel = x.numel();
    bool ok = infer >= 0 ? (n != 0 && numel % n == 0) : n == numel;
    if (!ok)
        fail(LP_STATUS_BAD_ARG, "shape %s is invalid for input of size %lld (shape %s)", lp::shape_str(s).c_str(),
             (long long)numel, lp::shape_str(x.sizes()).c_str());
    return s;
}

LP_EXPORT lp_status lp_tensor_view(const lp_tensor *t, const int64_t *shape, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    auto s = target_shape(x, shape, ndim);
    *out = lp::new_handle(x.view(s));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_reshape(const lp_tensor *t, const int64_t *shape, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    auto s = target_shape(x, shape, ndim);
    *out = lp::new_handle(x.reshape(s));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_permute(const lp_tensor *t, const int64_t *dims, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (ndim != x.dim())
        fail(LP_STATUS_BAD_ARG, "permute needs %lld dims for a tensor of shape %s, got %d", (long long)x.dim(),
             lp::shape_str(x.sizes()).c_str(), (int)ndim);
    auto d = lp::dims_vec(dims, ndim, x.dim());
    *out = lp::new_handle(x.permute(d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_transpose(const lp_tensor *t, int32_t dim0, int32_t dim1, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    int64_t a = lp::wrap_dim(dim0, x.dim(), "dim0"), b = lp::wrap_dim(dim1, x.dim(), "dim1");
    *out = lp::new_handle(x.transpose(a, b));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_narrow(const lp_tensor *t, int32_t dim, int64_t start, int64_t length,
                                     lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (x.dim() == 0) fail(LP_STATUS_BAD_ARG, "cannot narrow a 0-dim tensor");
    int64_t d = lp::wrap_dim(dim, x.dim());
    int64_t n = x.size(d);
    if (start < -n || start > n) fail(LP_STATUS_BAD_ARG, "start %lld out of range for size %lld", (long long)start, (long long)n);
    if (start < 0) start += n;
    if (length < 0 || start + length > n)
        fail(LP_STATUS_BAD_ARG, "start %lld + length %lld exceeds size %lld of dim %lld", (long long)start,
             (long long)length, (long long)n, (long long)d);
    *out = lp::new_handle(x.narrow(d, start, length));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_slice(const lp_tensor *t, int32_t dim, int64_t start, int64_t end, int64_t step,
                                    lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (x.dim() == 0) fail(LP_STATUS_BAD_ARG, "cannot slice a 0-dim tensor");
    int64_t d = lp::wrap_dim(dim, x.dim());
    if (step <= 0) fail(LP_STATUS_BAD_ARG, "step must be positive, got %lld", (long long)step);
    *out = lp::new_handle(at::slice(x, d, start, end, step));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_select(const lp_tensor *t, int32_t dim, int64_t index, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (x.dim() == 0) fail(LP_STATUS_BAD_ARG, "cannot select from a 0-dim tensor");
    int64_t d = lp::wrap_dim(dim, x.dim());
    int64_t n = x.size(d);
    if (index < -n || index >= n)
        fail(LP_STATUS_BAD_ARG, "index %lld out of range for dim %lld of size %lld", (long long)index, (long long)d,
             (long long)n);
    *out = lp::new_handle(x.select(d, index));
    LP_CATCH
}

static void require_index(const at::Tensor &i, const char *arg) {
    if (i.scalar_type() != at::kLong && i.scalar_type() != at::kInt)
        fail(LP_STATUS_BAD_ARG, "'%s' must be i64 or i32, got %s", arg, c10::toString(i.scalar_type()));
}

LP_EXPORT lp_status lp_tensor_index_select(const lp_tensor *t, int32_t dim, const lp_tensor *index,
                                           lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    const at::Tensor &i = ref(index, "index");
    int64_t d = lp::wrap_dim(dim, x.dim());
    require_index(i, "index");
    if (i.dim() > 1) fail(LP_STATUS_BAD_ARG, "index must be 0- or 1-dim, got shape %s", lp::shape_str(i.sizes()).c_str());
    *out = lp::new_handle(at::index_select(x, d, i));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_gather(const lp_tensor *t, int32_t dim, const lp_tensor *index, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    const at::Tensor &i = ref(index, "index");
    int64_t d = lp::wrap_dim(dim, x.dim());
    if (i.scalar_type() != at::kLong) fail(LP_STATUS_BAD_ARG, "index must be i64, got %s", c10::toString(i.scalar_type()));
    if (i.dim() != x.dim() && !(x.dim() == 0 && i.dim() <= 1))
        fail(LP_STATUS_BAD_ARG, "index has %lld dims, t has %lld", (long long)i.dim(), (long long)x.dim());
    *out = lp::new_handle(at::gather(x, d, i));
    LP_CATCH
}

static std::vector<at::Tensor> tensor_vec(const lp_tensor *const *ts, int32_t n) {
    if (n < 1) fail(LP_STATUS_BAD_ARG, "need at least one tensor, got n = %d", (int)n);
    if (!ts) fail(LP_STATUS_BAD_ARG, "argument 'tensors' is NULL");
    std::vector<at::Tensor> v;
    v.reserve(n);
    for (int32_t i = 0; i < n; i++) {
        if (!ts[i]) fail(LP_STATUS_BAD_ARG, "tensors[%d] is NULL (freed tensor?)", (int)i);
        v.push_back(ts[i]->t);
    }
    return v;
}

LP_EXPORT lp_status lp_tensor_cat(const lp_tensor *const *tensors, int32_t n, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto v = tensor_vec(tensors, n);
    int64_t d = lp::wrap_dim(dim, v[0].dim());
    for (int32_t i = 1; i < n; i++)
        if (v[i].dim() != v[0].dim())
            fail(LP_STATUS_BAD_ARG, "tensors[%d] has %lld dims, tensors[0] has %lld", (int)i, (long long)v[i].dim(),
                 (long long)v[0].dim());
    *out = lp::new_handle(at::cat(v, d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_stack(const lp_tensor *const *tensors, int32_t n, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    auto v = tensor_vec(tensors, n);
    int64_t d = lp::wrap_dim(dim, v[0].dim() + 1);
    for (int32_t i = 1; i < n; i++)
        if (!v[i].sizes().equals(v[0].sizes()))
            fail(LP_STATUS_BAD_ARG, "tensors[%d] has shape %s, tensors[0] has %s", (int)i,
                 lp::shape_str(v[i].sizes()).c_str(), lp::shape_str(v[0].sizes()).c_str());
    *out = lp::new_handle(at::stack(v, d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_expand(const lp_tensor *t, const int64_t *shape, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (ndim < x.dim() || ndim > LP_MAX_DIMS)
        fail(LP_STATUS_BAD_ARG, "cannot expand shape %s to %d dims", lp::shape_str(x.sizes()).c_str(), (int)ndim);
    if (!shape) fail(LP_STATUS_BAD_ARG, "argument 'shape' is NULL");
    std::vector<int64_t> s(shape, shape + ndim);
    for (int64_t i = 0; i < x.dim(); i++) {
        int64_t want = s[ndim - x.dim() + i], have = x.size(i);
        if (want != -1 && have != 1 && want != have)
            fail(LP_STATUS_BAD_ARG, "cannot expand shape %s to %s", lp::shape_str(x.sizes()).c_str(),
                 lp::shape_str(s).c_str());
    }
    *out = lp::new_handle(x.expand(s));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_squeeze(const lp_tensor *t, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    int64_t d = lp::wrap_dim(dim, x.dim());
    *out = lp::new_handle(x.dim() == 0 ? x.alias() : x.squeeze(d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_unsqueeze(const lp_tensor *t, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    int64_t d = lp::wrap_dim(dim, x.dim() + 1);
    if (x.dim() + 1 > LP_MAX_DIMS) fail(LP_STATUS_BAD_ARG, "result would have more than %d dims", (int)LP_MAX_DIMS);
    *out = lp::new_handle(x.unsqueeze(d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_flatten(const lp_tensor *t, int32_t start_dim, int32_t end_dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    int64_t a = lp::wrap_dim(start_dim, x.dim(), "start_dim"), b = lp::wrap_dim(end_dim, x.dim(), "end_dim");
    if (a > b) fail(LP_STATUS_BAD_ARG, "start_dim %d comes after end_dim %d", (int)start_dim, (int)end_dim);
    *out = lp::new_handle(x.flatten(a, b));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_flip(const lp_tensor *t, const int64_t *dims, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    auto d = lp::dims_vec(dims, ndim, x.dim());
    *out = lp::new_handle(x.flip(d));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_repeat(const lp_tensor *t, const int64_t *repeats, int32_t ndim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (ndim < x.dim())
        fail(LP_STATUS_BAD_ARG, "need at least %lld repeats for shape %s, got %d", (long long)x.dim(),
             lp::shape_str(x.sizes()).c_str(), (int)ndim);
    auto r = lp::shape_vec(repeats, ndim, "repeats");
    *out = lp::new_handle(x.repeat(r));
    LP_CATCH
}

// ==========================================================================
// Elementwise math
// ==========================================================================

static at::Tensor unary(int op, const at::Tensor &x) {
    switch (op) {
    case LP_UNARY_NEG: return at::neg(x);
    case LP_UNARY_ABS: return at::abs(x);
    case LP_UNARY_EXP: return at::exp(x);
    case LP_UNARY_LOG: return at::log(x);
    case LP_UNARY_LOG1P: return at::log1p(x);
    case LP_UNARY_SQRT: return at::sqrt(x);
    case LP_UNARY_RSQRT: return at::rsqrt(x);
    case LP_UNARY_SQUARE: return at::square(x);
    case LP_UNARY_RECIPROCAL: return at::reciprocal(x);
    case LP_UNARY_SIN: return at::sin(x);
    case LP_UNARY_COS: return at::cos(x);
    case LP_UNARY_TANH: return at::tanh(x);
    case LP_UNARY_SIGMOID: return at::sigmoid(x);
    case LP_UNARY_RELU: return at::relu(x);
    case LP_UNARY_FLOOR: return at::floor(x);
    case LP_UNARY_CEIL: return at::ceil(x);
    case LP_UNARY_ROUND: return at::round(x);
    case LP_UNARY_TRUNC: return at::trunc(x);
    case LP_UNARY_SIGN: return at::sign(x);
    case LP_UNARY_ISNAN: return at::isnan(x);
    case LP_UNARY_ISFINITE: return at::isfinite(x);
    case LP_UNARY_LOGICAL_NOT: return at::logical_not(x);
    default: fail(LP_STATUS_BAD_ARG, "op %d is not an lp_unary_op (0..%d)", op, (int)LP_UNARY_COUNT - 1);
    }
}

static void unary_(int op, at::Tensor &x) {
    switch (op) {
    case LP_UNARY_NEG: x.neg_(); return;
    case LP_UNARY_ABS: x.abs_(); return;
    case LP_UNARY_EXP: x.exp_(); return;
    case LP_UNARY_LOG: x.log_(); return;
    case LP_UNARY_LOG1P: x.log1p_(); return;
    case LP_UNARY_SQRT: x.sqrt_(); return;
    case LP_UNARY_RSQRT: x.rsqrt_(); return;
    case LP_UNARY_SQUARE: x.square_(); return;
    case LP_UNARY_RECIPROCAL: x.reciprocal_(); return;
    case LP_UNARY_SIN: x.sin_(); return;
    case LP_UNARY_COS: x.cos_(); return;
    case LP_UNARY_TANH: x.tanh_(); return;
    case LP_UNARY_SIGMOID: x.sigmoid_(); return;
    case LP_UNARY_RELU: x.relu_(); return;
    case LP_UNARY_FLOOR: x.floor_(); return;
    case LP_UNARY_CEIL: x.ceil_(); return;
    case LP_UNARY_ROUND: x.round_(); return;
    case LP_UNARY_TRUNC: x.trunc_(); return;
    case LP_UNARY_SIGN: x.sign_(); return;
    case LP_UNARY_LOGICAL_NOT: x.logical_not_(); return;
    case LP_UNARY_ISNAN:
    case LP_UNARY_ISFINITE: x.copy_(unary(op, x)); return; // no in-place kernel: store 0/1 in x's dtype
    default: fail(LP_STATUS_BAD_ARG, "op %d is not an lp_unary_op (0..%d)", op, (int)LP_UNARY_COUNT - 1);
    }
}

static void check_binary_op(int op) {
    if (op < 0 || op >= LP_BINARY_COUNT)
        fail(LP_STATUS_BAD_ARG, "op %d is not an lp_binary_op (0..%d)", op, (int)LP_BINARY_COUNT - 1);
}

// ATen's fused add + relu has a CPU kernel only, and no derivative to rely
// on: elsewhere (CUDA, autograd) it is the two ops, which give the same values.
static bool one_pass_add_relu(const at::Tensor &a, const at::Tensor &b) {
    return a.device().is_cpu() && b.device().is_cpu() && !(at::GradMode::is_enabled() &&
                                                           (a.requires_grad() || b.requires_grad()));
}

static at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case LP_BINARY_ADD: return at::add(a, b);
    case LP_BINARY_SUB: return at::sub(a, b);
    case LP_BINARY_MUL: return at::mul(a, b);
    case LP_BINARY_DIV: return at::div(a, b);
    case LP_BINARY_POW: return at::pow(a, b);
    case LP_BINARY_MAXIMUM: return at::maximum(a, b);
    case LP_BINARY_MINIMUM: return at::minimum(a, b);
    case LP_BINARY_ATAN2: return at::atan2(a, b);
    case LP_BINARY_REMAINDER: return at::remainder(a, b);
    case LP_BINARY_EQ: return at::eq(a, b);
    case LP_BINARY_NE: return at::ne(a, b);
    case LP_BINARY_LT: return at::lt(a, b);
    case LP_BINARY_LE: return at::le(a, b);
    case LP_BINARY_GT: return at::gt(a, b);
    case LP_BINARY_GE: return at::ge(a, b);
    case LP_BINARY_LOGICAL_AND: return at::logical_and(a, b);
    case LP_BINARY_LOGICAL_OR: return at::logical_or(a, b);
    case LP_BINARY_ADD_RELU: return one_pass_add_relu(a, b) ? at::_add_relu(a, b) : at::relu(at::add(a, b));
    default: check_binary_op(op); return at::Tensor();
    }
}

static void binary_(int op, at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case LP_BINARY_ADD: a.add_(b); return;
    case LP_BINARY_SUB: a.sub_(b); return;
    case LP_BINARY_MUL: a.mul_(b); return;
    case LP_BINARY_DIV: a.div_(b); return;
    case LP_BINARY_POW: a.pow_(b); return;
    case LP_BINARY_ATAN2: a.atan2_(b); return;
    case LP_BINARY_REMAINDER: a.remainder_(b); return;
    case LP_BINARY_EQ: a.eq_(b); return;
    case LP_BINARY_NE: a.ne_(b); return;
    case LP_BINARY_LT: a.lt_(b); return;
    case LP_BINARY_LE: a.le_(b); return;
    case LP_BINARY_GT: a.gt_(b); return;
    case LP_BINARY_GE: a.ge_(b); return;
    case LP_BINARY_LOGICAL_AND: a.logical_and_(b); return;
    case LP_BINARY_LOGICAL_OR: a.logical_or_(b); return;
    case LP_BINARY_ADD_RELU:
        if (one_pass_add_relu(a, b)) at::_add_relu_(a, b);
        else a.add_(b).relu_();
        return;
    case LP_BINARY_MAXIMUM:
    case LP_BINARY_MINIMUM: a.copy_(binary(op, a, b)); return; // no in-place kernel
    default: check_binary_op(op);
    }
}

// A double wrapped the way Python wraps a number, so type promotion treats it
// as a scalar (f32 tensor + 0.5 stays f32) and it may live on the CPU. Lua has
// one number type, so an integral value acts as a Python int (i64 tensor - 1
// stays i64) and any other value as a Python float.
static at::Tensor wrapped_scalar(double s) {
    bool integral = std::isfinite(s) && s == std::floor(s) && std::fabs(s) < 9.0e15;
    at::Tensor t = integral ? at::scalar_tensor((int64_t)s, at::TensorOptions().dtype(at::kLong))
                            : at::scalar_tensor(s, at::TensorOptions().dtype(at::kDouble));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
}

LP_EXPORT lp_status lp_tensor_unary(lp_unary_op op, const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    *out = lp::new_handle(unary(op, x));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_unary_(lp_unary_op op, lp_tensor *t) {
    LP_TRY
    unary_(op, lp::mut(t, "t"));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_binary(lp_binary_op op, const lp_tensor *a, const lp_tensor *b, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    check_binary_op(op);
    const at::Tensor &x = ref(a, "a");
    const at::Tensor &y = ref(b, "b");
    *out = lp::new_handle(binary(op, x, y));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_binary_(lp_binary_op op, lp_tensor *a, const lp_tensor *b) {
    LP_TRY
    check_binary_op(op);
    at::Tensor &x = lp::mut(a, "a");
    const at::Tensor &y = ref(b, "b");
    binary_(op, x, y);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_binary_scalar(lp_binary_op op, const lp_tensor *a, double s, int32_t scalar_first,
                                            lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    check_binary_op(op);
    const at::Tensor &x = ref(a, "a");
    at::Tensor w = wrapped_scalar(s);
    *out = lp::new_handle(scalar_first ? binary(op, w, x) : binary(op, x, w));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_binary_scalar_(lp_binary_op op, lp_tensor *a, double s) {
    LP_TRY
    check_binary_op(op);
    binary_(op, lp::mut(a, "a"), wrapped_scalar(s));
    LP_CATCH
}

static c10::optional<at::Scalar> bound(double v) {
    if (std::isnan(v)) return c10::nullopt;
    return at::Scalar(v);
}

LP_EXPORT lp_status lp_tensor_clamp(const lp_tensor *t, double lo, double hi, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if (std::isnan(lo) && std::isnan(hi))
        *out = lp::new_handle(x.clone());
    else
        *out = lp::new_handle(at::clamp(x, bound(lo), bound(hi)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_clamp_(lp_tensor *t, double lo, double hi) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    if (!(std::isnan(lo) && std::isnan(hi))) x.clamp_(bound(lo), bound(hi));
    LP_CATCH
}

// ==========================================================================
// Masking
// ==========================================================================

static at::Tensor as_mask(const at::Tensor &m) { return m.scalar_type() == at::kBool ? m : m.ne(0); }

LP_EXPORT lp_status lp_tensor_where(const lp_tensor *cond, const lp_tensor *a, const lp_tensor *b, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &c = ref(cond, "cond");
    const at::Tensor &x = ref(a, "a");
    const at::Tensor &y = ref(b, "b");
    *out = lp::new_handle(at::where(as_mask(c), x, y));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_masked_fill(const lp_tensor *t, const lp_tensor *mask, double value, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    const at::Tensor &m = ref(mask, "mask");
    *out = lp::new_handle(x.masked_fill(as_mask(m), value));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_masked_fill_(lp_tensor *t, const lp_tensor *mask, double value) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    const at::Tensor &m = ref(mask, "mask");
    x.masked_fill_(as_mask(m), value);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_masked_select(const lp_tensor *t, const lp_tensor *mask, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    const at::Tensor &m = ref(mask, "mask");
    *out = lp::new_handle(x.masked_select(as_mask(m)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_nan_to_num(const lp_tensor *t, double nan, double posinf, double neginf,
                                         lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(at::nan_to_num(ref(t, "t"), nan, posinf, neginf));
    LP_CATCH
}

// ==========================================================================
// Reductions
// ==========================================================================

// dims to reduce: the given ones (wrapped, unique) or all of them.
static std::vector<int64_t> reduce_dims(const at::Tensor &x, const int64_t *dims, int32_t n_dims) {
    if (n_dims == 0) {
        std::vector<int64_t> all(x.dim());
        for (int64_t i = 0; i < x.dim(); i++) all[i] = i;
        return all;
    }
    return lp::dims_vec(dims, n_dims, x.dim());
}

// Ops with only a one-dim kernel (prod, any, all): reduce dims from the last.
template <class F> static at::Tensor reduce_each(const at::Tensor &x, std::vector<int64_t> d, bool keepdim, F f) {
    if (x.dim() == 0) return f(x, 0, keepdim);
    std::sort(d.rbegin(), d.rend());
    at::Tensor r = x;
    for (int64_t k : d) r = f(r, k, keepdim);
    return r;
}

LP_EXPORT lp_status lp_tensor_reduce(lp_reduce_op op, const lp_tensor *t, const int64_t *dims, int32_t n_dims,
                                     int32_t keepdim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    if ((int)op < 0 || op >= LP_REDUCE_COUNT)
        fail(LP_STATUS_BAD_ARG, "op %d is not an lp_reduce_op (0..%d)", (int)op, (int)LP_REDUCE_COUNT - 1);
    bool kd = keepdim != 0;
    auto d = reduce_dims(x, dims, n_dims);
    bool all = n_dims == 0;
    at::Tensor r;
    switch (op) {
    case LP_REDUCE_SUM: r = all && !kd ? at::sum(x) : at::sum(x, d, kd); break;
    case LP_REDUCE_MEAN: r = all && !kd ? at::mean(x) : at::mean(x, d, kd); break;
    case LP_REDUCE_NANSUM: r = at::nansum(x, d, kd); break;
    case LP_REDUCE_NANMEAN: r = at::nanmean(x, d, kd); break;
    case LP_REDUCE_AMAX: r = at::amax(x, d, kd); break;
    case LP_REDUCE_AMIN: r = at::amin(x, d, kd); break;
    case LP_REDUCE_LOGSUMEXP: r = x.dim() == 0 ? at::logsumexp(x, {0}, kd) : at::logsumexp(x, d, kd); break;
    case LP_REDUCE_PROD:
        r = all && !kd ? at::prod(x)
                       : reduce_each(x, d, kd, [](const at::Tensor &a, int64_t k, bool kk) { return at::prod(a, k, kk); });
        break;
    case LP_REDUCE_ANY:
        r = all && !kd ? at::any(x)
                       : reduce_each(x, d, kd, [](const at::Tensor &a, int64_t k, bool kk) { return at::any(a, k, kk); });
        break;
    case LP_REDUCE_ALL:
        r = all && !kd ? at::all(x)
                       : reduce_each(x, d, kd, [](const at::Tensor &a, int64_t k, bool kk) { return at::all(a, k, kk); });
        break;
    case LP_REDUCE_ARGMAX:
    case LP_REDUCE_ARGMIN: {
        if (n_dims > 1) fail(LP_STATUS_BAD_ARG, "argmax/argmin take one dim or none, got %d", (int)n_dims);
        c10::optional<int64_t> dd;
        if (n_dims == 1) dd = d[0];
        if (x.numel() == 0) fail(LP_STATUS_BAD_ARG, "argmax/argmin of an empty tensor");
        r = op == LP_REDUCE_ARGMAX ? at::argmax(x, dd, kd) : at::argmin(x, dd, kd);
        break;
    }
    default: break;
    }
    *out = lp::new_handle(std::move(r));
    LP_CATCH
}

static lp_status minmax_dim(bool is_max, const lp_tensor *t, int32_t dim, int32_t keepdim, lp_tensor **ov,
                            lp_tensor **oi) {
    const at::Tensor &x = ref(t, "t");
    int64_t d = lp::wrap_dim(dim, x.dim());
    if (x.dim() > 0 && x.size(d) == 0) fail(LP_STATUS_BAD_ARG, "cannot reduce an empty dim %lld", (long long)d);
    auto r = is_max ? at::max(x, d, keepdim != 0) : at::min(x, d, keepdim != 0);
    lp::Handle v(ov ? lp::new_handle(std::get<0>(r)) : nullptr);
    lp::Handle i(oi ? lp::new_handle(std::get<1>(r)) : nullptr);
    if (ov) *ov = v.release();
    if (oi) *oi = i.release();
    return LP_STATUS_OK;
}

LP_EXPORT lp_status lp_tensor_max_dim(const lp_tensor *t, int32_t dim, int32_t keepdim, lp_tensor **out_values,
                                      lp_tensor **out_indices) {
    LP_TRY
    return minmax_dim(true, t, dim, keepdim, out_values, out_indices);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_min_dim(const lp_tensor *t, int32_t dim, int32_t keepdim, lp_tensor **out_values,
                                      lp_tensor **out_indices) {
    LP_TRY
    return minmax_dim(false, t, dim, keepdim, out_values, out_indices);
    LP_CATCH
}

static at::Tensor std_var(bool is_std, const at::Tensor &x, const int64_t *dims, int32_t n_dims, int32_t correction,
                          int32_t keepdim) {
    if (correction < 0) fail(LP_STATUS_BAD_ARG, "correction must be >= 0, got %d", (int)correction);
    lp::require_float(x, "t");
    at::OptionalIntArrayRef od;
    std::vector<int64_t> d;
    if (n_dims > 0) {
        d = lp::dims_vec(dims, n_dims, x.dim());
        od = d;
    } else if (n_dims < 0) {
        fail(LP_STATUS_BAD_ARG, "n_dims must be >= 0, got %d", (int)n_dims);
    }
    c10::optional<int64_t> c = (int64_t)correction;
    return is_std ? at::std(x, od, c, keepdim != 0) : at::var(x, od, c, keepdim != 0);
}

LP_EXPORT lp_status lp_tensor_std(const lp_tensor *t, const int64_t *dims, int32_t n_dims, int32_t correction,
                                  int32_t keepdim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(std_var(true, ref(t, "t"), dims, n_dims, correction, keepdim));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_var(const lp_tensor *t, const int64_t *dims, int32_t n_dims, int32_t correction,
                                  int32_t keepdim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(std_var(false, ref(t, "t"), dims, n_dims, correction, keepdim));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_norm(const lp_tensor *t, double p, const int64_t *dims, int32_t n_dims, int32_t keepdim,
                                   lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    lp::require_float(x, "t");
    if (std::isnan(p)) fail(LP_STATUS_BAD_ARG, "p is NaN");
    at::OptionalIntArrayRef od;
    std::vector<int64_t> d;
    if (n_dims != 0) {
        d = lp::dims_vec(dims, n_dims, x.dim());
        od = d;
    }
    *out = lp::new_handle(at::linalg_vector_norm(x, p, od, keepdim != 0));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_quantile(const lp_tensor *t, double q, int32_t has_dim, int32_t dim, int32_t keepdim,
                                       lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    lp::require_float(x, "t");
    if (!(q >= 0 && q <= 1)) fail(LP_STATUS_BAD_ARG, "q must be in [0, 1], got %g", q);
    if (x.numel() == 0) fail(LP_STATUS_BAD_ARG, "quantile of an empty tensor");
    c10::optional<int64_t> d;
    if (has_dim) d = lp::wrap_dim(dim, x.dim());
    *out = lp::new_handle(at::quantile(x, q, d, keepdim != 0, "linear"));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_cumsum(const lp_tensor *t, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    *out = lp::new_handle(at::cumsum(x, lp::wrap_dim(dim, x.dim())));
    LP_CATCH
}

// ==========================================================================
// Linear algebra
// ==========================================================================

LP_EXPORT lp_status lp_tensor_matmul(const lp_tensor *a, const lp_tensor *b, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(a, "a");
    const at::Tensor &y = ref(b, "b");
    if (x.dim() == 0 || y.dim() == 0) fail(LP_STATUS_BAD_ARG, "both arguments need at least 1 dim");
    int64_t k1 = x.size(-1), k2 = y.dim() == 1 ? y.size(0) : y.size(-2);
    if (k1 != k2)
        fail(LP_STATUS_BAD_ARG, "shapes %s and %s cannot be multiplied (%lld != %lld)", lp::shape_str(x.sizes()).c_str(),
             lp::shape_str(y.sizes()).c_str(), (long long)k1, (long long)k2);
    *out = lp::new_handle(at::matmul(x, y));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_bmm(const lp_tensor *a, const lp_tensor *b, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(a, "a");
    const at::Tensor &y = ref(b, "b");
    if (x.dim() != 3 || y.dim() != 3 || x.size(0) != y.size(0) || x.size(2) != y.size(1))
        fail(LP_STATUS_BAD_ARG, "bmm needs [b, n, m] and [b, m, p], got %s and %s", lp::shape_str(x.sizes()).c_str(),
             lp::shape_str(y.sizes()).c_str());
    *out = lp::new_handle(at::bmm(x, y));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_linear(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                                     lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    const at::Tensor &w = ref(weight, "weight");
    if (w.dim() != 2 || xx.dim() < 1 || xx.size(-1) != w.size(1))
        fail(LP_STATUS_BAD_ARG, "input %s does not fit weight %s (expected [out, in] with in = last dim of x)",
             lp::shape_str(xx.sizes()).c_str(), lp::shape_str(w.sizes()).c_str());
    *out = lp::new_handle(at::linear(xx, w, lp::opt(bias)));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_svd(const lp_tensor *a, int32_t full_matrices, lp_tensor **out_u, lp_tensor **out_s,
                                  lp_tensor **out_vh) {
    LP_TRY
    lp::check_out(out_u, "out_u");
    lp::check_out(out_s, "out_s");
    lp::check_out(out_vh, "out_vh");
    const at::Tensor &x = ref(a, "a");
    if (x.dim() < 2) fail(LP_STATUS_BAD_ARG, "svd needs a matrix (>= 2 dims), got shape %s", lp::shape_str(x.sizes()).c_str());
    lp::require_float(x, "a");
    auto r = at::linalg_svd(x, full_matrices != 0);
    lp::Handle u(lp::new_handle(std::get<0>(r)));
    lp::Handle s(lp::new_handle(std::get<1>(r)));
    lp::Handle vh(lp::new_handle(std::get<2>(r)));
    *out_u = u.release();
    *out_s = s.release();
    *out_vh = vh.release();
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_eigh(const lp_tensor *a, lp_tensor **out_values, lp_tensor **out_vectors) {
    LP_TRY
    lp::check_out(out_values, "out_values");
    lp::check_out(out_vectors, "out_vectors");
    const at::Tensor &x = ref(a, "a");
    if (x.dim() < 2 || x.size(-1) != x.size(-2))
        fail(LP_STATUS_BAD_ARG, "eigh needs square matrices, got shape %s", lp::shape_str(x.sizes()).c_str());
    lp::require_float(x, "a");
    auto r = at::linalg_eigh(x, "L");
    lp::Handle v(lp::new_handle(std::get<0>(r)));
    lp::Handle w(lp::new_handle(std::get<1>(r)));
    *out_values = v.release();
    *out_vectors = w.release();
    LP_CATCH
}
