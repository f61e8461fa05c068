/* interrupt_internal.h: what engine code uses of interrupt.c (internal).
 *
 * Long C loops call lp_interrupt_check() once per unit of work (a window, a
 * frame) and return its status. Every writer that writes PATH through
 * PATH.tmp-<pid> gets that name from lp_tmp_begin() and gives it back with
 * lp_tmp_end() once the file is renamed into place or removed: the one place
 * where temporary names are made, stale ones of dead processes are removed,
 * and live ones are registered for lp_tmp_remove_all(). */
#ifndef LP_INTERRUPT_INTERNAL_H
#define LP_INTERRUPT_INTERNAL_H

#include "lpose.h"

/* LP_STATUS_OK, or LP_STATUS_INTERRUPTED with "fn: interrupted!" as the
 * thread's message when lp_interrupt_request() was called since the last
 * lp_interrupt_clear(). */
lp_status lp_interrupt_check(const char *fn);

/* The temporary name for writing `path` ("path.tmp-<pid>" into *out; give it
 * back with lp_tmp_end or lp_tmp_discard, never free()), after removing
 * path.tmp-<pid> files of processes that are gone (remove_stale != 0: one
 * scan of the folder, so writers of thousands of files into one folder, the
 * PNG frames, pass 0). The name is registered so that lp_tmp_remove_all()
 * can unlink it. */
lp_status lp_tmp_begin(const char *path, int remove_stale, const char *fn, char **out);
/* Done with a name from lp_tmp_begin (the file was renamed or unlinked):
 * unregister and free it. NULL is ignored. */
void lp_tmp_end(char *tmp);
/* Unlink the file, then lp_tmp_end. NULL is ignored. */
void lp_tmp_discard(char *tmp);

#endif
