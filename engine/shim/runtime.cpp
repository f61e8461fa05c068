// runtime.cpp: what every libtorch translation unit of the shim shares
// (shim.hpp): tensor handles and the memory counters, argument checks, enum
// translation, the first line of a libtorch message; and the runtime (threads,
// seed, CUDA devices).
#include "shim.hpp"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <climits>
#include <cstdlib>
#include <malloc.h>
#include <mutex>
#include <unistd.h>

namespace lp {

std::string torch_message(const c10::Error &e) {
    std::string m = e.what_without_backtrace();
    size_t nl = m.find('\n');
    if (nl != std::string::npos) m.resize(nl);
    return m;
}

} // namespace lp

// ==========================================================================
// Handles, memory counters, argument checks
// ==========================================================================

static std::atomic<int64_t> g_n_tensors{0};
static std::atomic<int64_t> g_bytes_cpu{0};
static std::atomic<int64_t> g_bytes_cuda{0};

namespace lp {

lp_tensor *new_handle(at::Tensor t) {
    if (!t.defined()) fail(LP_STATUS_INTERNAL, "result tensor is undefined");
    lp_tensor *h = new lp_tensor;
    h->t = std::move(t);
    h->bytes = (int64_t)h->t.numel() * (int64_t)h->t.element_size();
    h->cuda = h->t.is_cuda();
    g_n_tensors.fetch_add(1, std::memory_order_relaxed);
    (h->cuda ? g_bytes_cuda : g_bytes_cpu).fetch_add(h->bytes, std::memory_order_relaxed);
    return h;
}

void check_out(const void *out, const char *name) {
    if (!out) fail(LP_STATUS_BAD_ARG, "out-parameter '%s' is NULL", name);
}

const at::Tensor &ref(const lp_tensor *h, const char *arg) {
    if (!h) fail(LP_STATUS_BAD_ARG, "argument '%s' is NULL (freed tensor?)", arg);
    return h->t;
}

at::Tensor &mut(lp_tensor *h, const char *arg) {
    if (!h) fail(LP_STATUS_BAD_ARG, "argument '%s' is NULL (freed tensor?)", arg);
    return h->t;
}

c10::optional<at::Tensor> opt(const lp_tensor *h) {
    if (!h) return c10::nullopt;
    return h->t;
}

at::ScalarType to_scalar_type(int32_t dtype, const char *arg) {
    switch (dtype) {
    case LP_DTYPE_F32: return at::kFloat;
    case LP_DTYPE_F64: return at::kDouble;
    case LP_DTYPE_F16: return at::kHalf;
    case LP_DTYPE_BF16: return at::kBFloat16;
    case LP_DTYPE_I64: return at::kLong;
    case LP_DTYPE_I32: return at::kInt;
    case LP_DTYPE_U8: return at::kByte;
    case LP_DTYPE_BOOL: return at::kBool;
    default: fail(LP_STATUS_BAD_ARG, "%s %d is not an lp_dtype (expected 0..7)", arg, (int)dtype);
    }
}

int32_t from_scalar_type(at::ScalarType st) {
    switch (st) {
    case at::kFloat: return LP_DTYPE_F32;
    case at::kDouble: return LP_DTYPE_F64;
    case at::kHalf: return LP_DTYPE_F16;
    case at::kBFloat16: return LP_DTYPE_BF16;
    case at::kLong: return LP_DTYPE_I64;
    case at::kInt: return LP_DTYPE_I32;
    case at::kByte: return LP_DTYPE_U8;
    case at::kBool: return LP_DTYPE_BOOL;
    default: return -1;
    }
}

at::Device to_device(lp_device dev) {
    if (dev == LP_DEVICE_CPU) return at::Device(at::kCPU);
    if (dev < -1) fail(LP_STATUS_BAD_ARG, "device %d is invalid (-1 is the CPU, N >= 0 is cuda:N)", (int)dev);
    if (!at::hasCUDA())
        fail(LP_STATUS_UNSUPPORTED, "cuda:%d requested but this libtorch has no CUDA", (int)dev);
    int n = at::detail::getCUDAHooks().getNumGPUs();
    if (dev >= n) fail(LP_STATUS_BAD_ARG, "cuda:%d requested but there are %d CUDA device(s)", (int)dev, n);
    return at::Device(at::kCUDA, (c10::DeviceIndex)dev);
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char *arg) {
    int64_t n = ndim > 0 ? ndim : 1; // scalars accept dim 0 and -1, as in PyTorch
    if (dim < -n || dim >= n)
        fail(LP_STATUS_BAD_ARG, "%s %lld out of range for a %lld-dim tensor (expected %lld..%lld)", arg,
             (long long)dim, (long long)ndim, (long long)-n, (long long)(n - 1));
    return dim < 0 ? dim + n : dim;
}

std::vector<int64_t> shape_vec(const int64_t *shape, int32_t ndim, const char *arg) {
    if (ndim < 0 || ndim > LP_MAX_DIMS)
        fail(LP_STATUS_BAD_ARG, "ndim %d out of range (0..%d)", (int)ndim, (int)LP_MAX_DIMS);
    if (ndim > 0 && !shape) fail(LP_STATUS_BAD_ARG, "argument '%s' is NULL", arg);
    std::vector<int64_t> v(shape, shape + ndim);
    for (int32_t i = 0; i < ndim; i++)
        if (v[i] < 0) fail(LP_STATUS_BAD_ARG, "%s[%d] = %lld is negative", arg, (int)i, (long long)v[i]);
    return v;
}

std::vector<int64_t> dims_vec(const int64_t *dims, int32_t n, int64_t ndim, const char *arg) {
    if (n < 0 || n > LP_MAX_DIMS) fail(LP_STATUS_BAD_ARG, "n_dims %d out of range (0..%d)", (int)n, (int)LP_MAX_DIMS);
    if (n > 0 && !dims) fail(LP_STATUS_BAD_ARG, "argument '%s' is NULL", arg);
    std::vector<int64_t> v(n);
    for (int32_t i = 0; i < n; i++) {
        v[i] = wrap_dim(dims[i], ndim, arg);
        for (int32_t j = 0; j < i; j++)
            if (v[j] == v[i]) fail(LP_STATUS_BAD_ARG, "%s: dim %lld appears twice", arg, (long long)v[i]);
    }
    return v;
}

const int64_t *pair_or(const int64_t *p, const int64_t *dflt) { return p ? p : dflt; }

std::string shape_str(at::IntArrayRef s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); i++) {
        if (i) r += ", ";
        r += std::to_string(s[i]);
    }
    return r + "]";
}

void require_float(const at::Tensor &t, const char *arg) {
    if (!at::isFloatingType(t.scalar_type()))
        fail(LP_STATUS_BAD_ARG, "'%s' must have a floating dtype, got %s", arg, c10::toString(t.scalar_type()));
}

} // namespace lp

using lp::fail;

LP_EXPORT void lp_mem_stats_get(lp_mem_stats *out) {
    if (!out) return;
    out->n_tensors = g_n_tensors.load(std::memory_order_relaxed);
    out->bytes_cpu = g_bytes_cpu.load(std::memory_order_relaxed);
    out->bytes_cuda = g_bytes_cuda.load(std::memory_order_relaxed);
}

LP_EXPORT void lp_tensor_free(lp_tensor *t) {
    if (!t) return;
    g_n_tensors.fetch_sub(1, std::memory_order_relaxed);
    (t->cuda ? g_bytes_cuda : g_bytes_cpu).fetch_sub(t->bytes, std::memory_order_relaxed);
    try {
        delete t;
    } catch (...) {
    }
}

// ==========================================================================
// Runtime
// ==========================================================================

static int32_t default_threads() {
    const char *env = getenv("LPOSE_NUM_THREADS");
    if (env && *env) {
        long v = strtol(env, nullptr, 10);
        if (v > 0 && v < 4096) return (int32_t)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

LP_EXPORT lp_status lp_runtime_init(int32_t n_threads) {
    LP_TRY
    // Big activations must not be mmapped/unmapped every forward (docs/spec/toolchain.md §5).
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
    });
    at::set_num_threads(n_threads > 0 ? n_threads : default_threads());
    LP_CATCH
}

LP_EXPORT lp_status lp_set_num_threads(int32_t n_threads) {
    LP_TRY
    if (n_threads < 1) fail(LP_STATUS_BAD_ARG, "n_threads must be >= 1, got %d", (int)n_threads);
    at::set_num_threads(n_threads);
    LP_CATCH
}

LP_EXPORT int32_t lp_get_num_threads(void) { LP_NOTHROW(1, return (int32_t)at::get_num_threads();) }

LP_EXPORT lp_status lp_manual_seed(uint64_t seed) {
    LP_TRY
    at::manual_seed(seed);
    LP_CATCH
}

LP_EXPORT int32_t lp_cuda_device_count(void) {
    LP_NOTHROW(0, if (!at::hasCUDA()) return 0; return (int32_t)at::detail::getCUDAHooks().getNumGPUs();)
}
