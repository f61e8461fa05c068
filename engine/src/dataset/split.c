/* split.c: LP's seeded train/val/test split (docs/spec/lp-data-train.md §1.6). */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "lpose.h"

lp_status lp_split_sizes(int64_t n, double train_prob, double val_prob, int64_t sizes_out[3]) {
    const char *fn = "lp_split_sizes";
    if (!sizes_out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL sizes_out");
    if (n < 1) return lp_errorf(LP_STATUS_BAD_ARG, fn, "need at least 1 frame, got %lld", (long long)n);
    double test_prob = 1.0 - train_prob - val_prob;
    if (!(train_prob >= 0 && val_prob >= 0 && test_prob >= -1e-12 && train_prob <= 1) ||
        fabs(test_prob + train_prob + val_prob - 1.0) > 1e-12)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "train_prob %g and val_prob %g must be >= 0 with sum <= 1",
                         train_prob, val_prob);
    int64_t n_train = (int64_t)floor(train_prob * (double)n);
    int64_t n_val = (int64_t)floor(val_prob * (double)n);
    int64_t left = n - n_train - n_val, n_test = 0;
    if (left < 5) n_train += left; /* a small leftover goes to train, no test set */
    else n_test = left;
    if (n_val == 0) {
        n_train -= 1;
        n_val = 1;
        if (n_train < 1)
            return lp_errorf(LP_STATUS_BAD_ARG, fn, "%lld frames are too few for a train and a val set",
                             (long long)n);
    }
    sizes_out[0] = n_train;
    sizes_out[1] = n_val;
    sizes_out[2] = n_test;
    return LP_STATUS_OK;
}

lp_status lp_split_indices(int64_t n, double train_prob, double val_prob, int64_t seed, double train_frames,
                           int64_t *perm_out, int64_t sizes_out[3]) {
    const char *fn = "lp_split_indices";
    if (!perm_out || !sizes_out) return lp_errorf(LP_STATUS_BAD_ARG, fn, "NULL perm_out or sizes_out");
    if (!(train_frames > 0))
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "train_frames must be > 0 (1 keeps all), got %g", train_frames);
    int64_t sizes[3];
    lp_status st = lp_split_sizes(n, train_prob, val_prob, sizes);
    if (st) return st;
    lp_tensor *perm = NULL;
    if ((st = lp_tensor_randperm(n, seed, &perm))) return st;
    st = lp_tensor_to_buffer(perm, perm_out, n * (int64_t)sizeof(int64_t));
    lp_tensor_free(perm);
    if (st) return st;
    /* training.train_frames (lp/data/utils.py:104-139): keep the first ones */
    int64_t n_train = sizes[0];
    if (train_frames != 1.0 && train_frames < (double)n_train) {
        if (train_frames > 1) n_train = (int64_t)train_frames;
        else n_train = (int64_t)(train_frames * (double)sizes[0]);
    }
    sizes_out[0] = n_train;
    sizes_out[1] = sizes[1];
    sizes_out[2] = sizes[2];
    return LP_STATUS_OK;
}
