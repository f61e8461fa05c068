/* data_util.h: small helpers shared by the data and video readers (internal). */
#ifndef LP_DATA_UTIL_H
#define LP_DATA_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lpose.h"

/* printf-style lp_set_error: the API takes plain text, so format here. */
static inline lp_status lp_errorf(lp_status status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lp_set_error(status, msg);
}

/* On failure, make sure the thread's message names `fn` (a callee's message
 * gets "fn: " in front, unless it already starts with it). Returns status. */
static inline lp_status lp_error_prefix(lp_status status, const char *fn) {
    if (status == LP_STATUS_OK) return status;
    const char *msg = lp_last_error();
    if (strncmp(msg, fn, strlen(fn)) == 0) return status;
    return lp_errorf(status, "%s: %s", fn, msg);
}

#endif
