/* error.c: see error.h. Formats into a buffer of its own first, so an
 * argument may be lp_last_error() itself. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lp_status lp_errorf(lp_status status, const char *fn, const char *fmt, ...) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s: ", fn);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return lp_set_error(status, msg);
}

lp_status lp_error_prefix(lp_status status, const char *fn) {
    if (status == LP_STATUS_OK) return status;
    const char *msg = lp_last_error();
    if (strncmp(msg, fn, strlen(fn)) == 0) return status; /* already names fn */
    return lp_errorf(status, fn, "%s", msg);
}
