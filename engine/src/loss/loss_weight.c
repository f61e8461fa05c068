/* loss_weight.c: LP's loss weight from log_weight (docs/spec/lp-model.md §4.1) and
 * the AnnealWeight callback's schedule (§7.4), as pure functions. */
#include <math.h>

#include "lpose.h"

double lp_loss_weight_from_log(double log_weight) { return 1.0 / (2.0 * exp(log_weight)); }

double lp_loss_anneal_weight(int64_t epoch, double init_val, double increase_factor,
                             double final_val, int64_t freeze_until_epoch) {
    /* the callback leaves the value alone while epoch <= freeze (the test is <=) */
    if (epoch <= freeze_until_epoch) return init_val;
    double v = init_val + (double)(epoch - freeze_until_epoch) * increase_factor;
    return v < final_val ? v : final_val;
}
