/* fuzz_labels_csv.c: LP label CSVs (engine/src/data/labels_csv.c): 3 header
 * rows, then one row per labeled frame. */
#include <math.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".csv");
    lp_labels *labels = NULL;
    if (path && lp_labels_read(path, NULL, &labels) == LP_STATUS_OK) {
        int64_t n = lp_labels_n_frames(labels);
        int32_t k = lp_labels_n_keypoints(labels);
        const float *xy = lp_labels_keypoints_data(labels);
        double sum = 0;
        for (int64_t i = 0; i < n * k * 2; ++i) sum += isnan(xy[i]) ? 0 : xy[i];
        for (int32_t j = 0; j < k; ++j) (void)strlen(lp_labels_keypoint_name(labels, j));
        for (int64_t i = 0; i < n; ++i) (void)strlen(lp_labels_image_path(labels, i));
        (void)strlen(lp_labels_scorer(labels));
        lp_tensor *t = NULL, *vis = NULL;
        lp_labels_keypoints(labels, &t);
        if (lp_labels_has_visibility(labels)) lp_labels_visibility(labels, &vis);
        lp_tensor_free(t);
        lp_tensor_free(vis);
        (void)sum;
    }
    lp_labels_free(labels);
    return 0;
}
