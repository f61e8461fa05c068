/* fuzz_lpt.c: lpose's own tensor files (.lpt, engine/src/tensor_list.c). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".lpt");
    lp_tensor_list *list = NULL;
    if (path && lp_tensor_list_load(path, &list) == LP_STATUS_OK) {
        for (int32_t i = 0; i < lp_tensor_list_size(list); ++i) {
            lp_tensor *t = NULL, *s = NULL;
            (void)strlen(lp_tensor_list_name(list, i));
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
