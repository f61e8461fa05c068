/* fuzz_pickle.c: torch.save files (zip container + pickle VM,
 * engine/shim/torch_zip.cpp and pickle.cpp; docs/spec/checkpoint-files.md). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".pt");
    lp_tensor_list *list = NULL;
    if (path && lp_pickle_load(path, &list) == LP_STATUS_OK) {
        /* touch every tensor: views must lie inside their storages */
        for (int32_t i = 0; i < lp_tensor_list_size(list); ++i) {
            lp_tensor *t = NULL, *s = NULL;
            if (lp_tensor_list_get(list, i, &t) == LP_STATUS_OK &&
                lp_tensor_reduce(LP_REDUCE_SUM, t, NULL, 0, 0, &s) == LP_STATUS_OK) {
                double v = 0;
                lp_tensor_item(s, &v);
            }
            lp_tensor_free(s);
            lp_tensor_free(t);
        }
        (void)strlen(lp_tensor_list_meta(list));
    }
    lp_tensor_list_free(list);
    return 0;
}
