// error.cpp: the thread's error message and the one "fn: message" formatter
// of the shim (error.hpp), the status names and the version. No libtorch
// header: every layer above reads errors through these.
#include <cstdarg>
#include <cstdio>

#include "error.hpp"

#ifndef LPOSE_VERSION
#define LPOSE_VERSION "0.1.0"
#endif

static thread_local char g_error[1024];

namespace lp {

void fail(lp_status status, const char *fmt, ...) {
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw Error(status, buf);
}

lp_status error(lp_status status, const char *fn, const char *fmt, ...) {
    // Formatted aside first: an argument may be lp_last_error() itself.
    char msg[sizeof g_error];
    int k = snprintf(msg, sizeof msg, "%s: ", fn);
    if (k < 0) k = 0;
    if ((size_t)k < sizeof msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    snprintf(g_error, sizeof g_error, "%s", msg);
    return status;
}

} // namespace lp

LP_EXPORT const char *lp_last_error(void) { return g_error; }

LP_EXPORT const char *lp_status_name(lp_status status) {
    static const char *names[] = {"LP_STATUS_OK",          "LP_STATUS_BAD_ARG", "LP_STATUS_OOM",
                                  "LP_STATUS_IO",          "LP_STATUS_EOF",     "LP_STATUS_UNSUPPORTED",
                                  "LP_STATUS_TORCH",       "LP_STATUS_INTERNAL", "LP_STATUS_INTERRUPTED"};
    int s = (int)status;
    return (s >= 0 && s < (int)(sizeof names / sizeof names[0])) ? names[s] : "LP_STATUS_?";
}

LP_EXPORT lp_status lp_set_error(lp_status status, const char *message) {
    snprintf(g_error, sizeof g_error, "%s", message ? message : "");
    return status;
}

LP_EXPORT const char *lp_version(void) { return LPOSE_VERSION; }
