// shim.hpp: internal to engine/shim/*.cpp. The handle type, the error
// machinery (LP_TRY / LP_CATCH) and the argument checks shared by the shim's
// libtorch translation units (every .cpp that includes this header; they are
// defined in runtime.cpp and error.cpp). A file that needs no libtorch
// includes only error.hpp. Never included by C code.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/csrc/autograd/variable.h>

#include <atomic>
#include <memory>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "error.hpp"
#include "lpose.h"

// A handle owns one reference to a libtorch tensor (a Variable, so autograd
// works through it). `bytes` and `cuda` remember what was added to the memory
// counters so lp_tensor_free subtracts exactly that, even if the tensor was
// resized in place since.
struct lp_tensor {
    at::Tensor t;
    int64_t bytes = 0;
    bool cuda = false;
};

namespace lp {

// First line of a c10::Error's message, without backtrace.
std::string torch_message(const c10::Error &e);

// Handles. new_handle counts the tensor in lp_mem_stats.
lp_tensor *new_handle(at::Tensor t);
void check_out(const void *out, const char *name = "out");
// Owns a handle until it is handed out (frees through lp_tensor_free so the
// memory counters stay right when a later output fails).
struct HandleFree {
    void operator()(lp_tensor *t) const { lp_tensor_free(t); }
};
using Handle = std::unique_ptr<lp_tensor, HandleFree>;
const at::Tensor &ref(const lp_tensor *h, const char *arg);
at::Tensor &mut(lp_tensor *h, const char *arg);
c10::optional<at::Tensor> opt(const lp_tensor *h);

// Enum translation (our numbers, never libtorch's).
at::ScalarType to_scalar_type(int32_t dtype, const char *arg = "dtype");
int32_t from_scalar_type(at::ScalarType st); // -1 if not an lp_dtype
at::Device to_device(lp_device dev);

// Dims and shapes.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char *arg = "dim");
std::vector<int64_t> shape_vec(const int64_t *shape, int32_t ndim, const char *arg = "shape");
std::vector<int64_t> dims_vec(const int64_t *dims, int32_t n, int64_t ndim, const char *arg = "dims");
const int64_t *pair_or(const int64_t *p, const int64_t *dflt);
std::string shape_str(at::IntArrayRef s);

void require_float(const at::Tensor &t, const char *arg);

} // namespace lp

// Every exported body: LP_TRY ... LP_CATCH. __func__ names the C function, so
// every message starts with it. No exception ever leaves the shim.
#define LP_TRY try {
#define LP_CATCH                                                                                \
    }                                                                                           \
    catch (const lp::Error &e) {                                                                \
        return lp::error(e.status, __func__, "%s", e.msg.c_str());                              \
    }                                                                                           \
    catch (const c10::OutOfMemoryError &e) {                                                    \
        return lp::error(LP_STATUS_OOM, __func__, "%s", lp::torch_message(e).c_str());          \
    }                                                                                           \
    catch (const c10::IndexError &e) {                                                          \
        return lp::error(LP_STATUS_BAD_ARG, __func__, "%s", lp::torch_message(e).c_str());      \
    }                                                                                           \
    catch (const c10::ValueError &e) {                                                          \
        return lp::error(LP_STATUS_BAD_ARG, __func__, "%s", lp::torch_message(e).c_str());      \
    }                                                                                           \
    catch (const c10::TypeError &e) {                                                           \
        return lp::error(LP_STATUS_BAD_ARG, __func__, "%s", lp::torch_message(e).c_str());      \
    }                                                                                           \
    catch (const c10::Error &e) {                                                               \
        return lp::error(LP_STATUS_TORCH, __func__, "%s", lp::torch_message(e).c_str());        \
    }                                                                                           \
    catch (const std::bad_alloc &) {                                                            \
        return lp::error(LP_STATUS_OOM, __func__, "out of memory");                             \
    }                                                                                           \
    catch (const std::exception &e) {                                                           \
        return lp::error(LP_STATUS_INTERNAL, __func__, "%s", e.what());                         \
    }                                                                                           \
    catch (...) {                                                                               \
        return lp::error(LP_STATUS_INTERNAL, __func__, "unknown C++ exception");                \
    }                                                                                           \
    return LP_STATUS_OK;

// For nothrow accessors: swallow anything and return `fallback`.
#define LP_NOTHROW(fallback, ...)                                                         \
    try {                                                                                 \
        __VA_ARGS__                                                                       \
    } catch (...) {                                                                             \
    }                                                                                           \
    return fallback;
