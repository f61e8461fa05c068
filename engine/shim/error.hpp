// error.hpp: the shim's error path, without libtorch headers (so a shim file
// that needs no tensors, like tensor_list.cpp, compiles in a second). Never
// included by C code.
#pragma once

#include <exception>
#include <string>

#include "lpose.h"

// The shim is built with -fvisibility=hidden: only lp_* entry points are exported.
#define LP_EXPORT extern "C" __attribute__((visibility("default")))

namespace lp {

// Our own exception for argument checks: unlike c10::Error it captures no
// backtrace, so a rejected call costs microseconds, not ~5 ms.
struct Error : std::exception {
    lp_status status;
    std::string msg;
    Error(lp_status s, std::string m) : status(s), msg(std::move(m)) {}
    const char *what() const noexcept override { return msg.c_str(); }
};

// Throw lp::Error with a printf-style message (LP_CATCH adds "fn: ").
[[noreturn]] void fail(lp_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Store "fn: message" (printf-style) as the thread's error; returns status.
// The one formatter of the shim: LP_CATCH and the exception-free entry
// points (tensor_list.cpp) both write their messages through it.
lp_status error(lp_status status, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

} // namespace lp
