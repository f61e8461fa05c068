/* fuzz_image.c: still images through FFmpeg (engine/src/data/image.c): the
 * native-size read and the resized, normalised load. FFmpeg itself is not
 * instrumented; our code around it is. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".png");
    if (!path) return 0;
    int64_t hw[2] = {0, 0};
    if (lp_image_read_rgb_into(path, 0, NULL, hw) != LP_STATUS_OK) return 0;
    lp_tensor *t = NULL;
    lp_image_read_rgb(path, &t);
    lp_tensor_free(t);
    t = NULL;
    lp_image_load(path, 16, 16, hw, &t);
    lp_tensor_free(t);
    return 0;
}
