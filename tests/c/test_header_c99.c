/* lpose.h must compile as strict C99 (make test builds this file with
 * -std=c99 -pedantic -Werror); nothing here runs. */
#include "lpose.h"

int lp_header_c99_probe(void);
int lp_header_c99_probe(void) { return (int)sizeof(lp_mem_stats) + (int)LP_STATUS_OK; }
