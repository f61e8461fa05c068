/* error.h: the C core's one error path (internal). Every message reads
 * "function: message" (docs/design/errors.md); the text lives in the shim's
 * thread-local buffer, set through lp_set_error. */
#ifndef LP_ERROR_H
#define LP_ERROR_H

#include "lpose.h"

/* Set "fn: message" (printf-style) as the thread's error; returns status. */
lp_status lp_errorf(lp_status status, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* On failure, make sure the thread's message names `fn`: a callee's message
 * gets "fn: " in front, unless it already starts with fn. Returns status
 * (LP_STATUS_OK passes through untouched). */
lp_status lp_error_prefix(lp_status status, const char *fn);

#endif
