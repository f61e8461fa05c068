/* fuzz_video.c: the video open path (engine/src/video/video_reader.c): container
 * probing, the frame count, and the first and last frames. FFmpeg itself is
 * not instrumented; our code around it is. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init_runtime();
    const char *path = fuzz_temp_file(data, size, ".mp4");
    lp_video *v = NULL;
    if (path && lp_video_open(path, 1, &v) == LP_STATUS_OK) {
        int64_t n = lp_video_n_frames(v);
        (void)lp_video_fps(v);
        (void)strlen(lp_video_codec_name(v));
        lp_tensor *t = NULL;
        if (n > 0 && lp_video_read_frame_rgb(v, 0, &t) == LP_STATUS_OK) lp_tensor_free(t);
        t = NULL;
        if (n > 1 && lp_video_read_batch(v, n - 1, 1, 8, 8, &t) == LP_STATUS_OK) lp_tensor_free(t);
    }
    lp_video_free(v);
    return 0;
}
