/* fuzz_lpt.c: lpose's own tensor files (.lpt, engine/src/tensor/lpt.c). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".lpt");
    lp_tensor_list *list = NULL;
    if (path && lp_tensor_list_load(path, &list) == LP_STATUS_OK) {
        fuzz_touch_list(list); /* views must lie inside their storages */
    }
    lp_tensor_list_free(list);
    return 0;
}
