/* test_prefetch.c: the prediction prefetcher's windows (engine/src/predict/
 * predict_prefetch.c): views of its own buffers, in channels-last layout,
 * holding the reader's frames bit for bit, on a decoding thread and without
 * one; and a window kept past the next call keeps its frames while the
 * prefetcher writes its buffers again. The clip is made with the ffmpeg CLI. */
#include <unistd.h>

#include "lp_test.h"
#include "predict/predict_internal.h"

enum { N = 30, H = 32, W = 32, FIRST = 4, STEP = 8, PER = 3 * H * W };

static char tmp[256];

static int run(const char *cmd) {
    char full[2048];
    snprintf(full, sizeof full, "( %s ) >/dev/null 2>&1", cmd);
    return system(full);
}

/* Floats of a window as contiguous (n, 3, H, W). */
static int window_floats(const lp_tensor *t, float *out) {
    return lp_tensor_to_buffer(t, out, (int64_t)sizeof(float) * lp_tensor_numel(t)) == LP_STATUS_OK;
}

static void test_windows(const char *path, const float *ref, int threaded) {
    static float got[N * PER], kept_ref[STEP * PER];
    printf("# %s\n", threaded ? "decoding thread" : "caller's thread");
    lp_video *v = NULL;
    LP_CHECK_OK(lp_video_open(path, 1, &v));
    if (!v) return;
    lp_prefetch *pf = NULL;
    LP_CHECK_OK(lp_prefetch_start(v, FIRST, STEP, H, W, threaded, &pf));
    if (!pf) return;
    lp_tensor *kept = NULL; /* the second window, held to the end */
    int64_t kept_start = -1, expect = 0, n_windows = 0;
    int layout_ok = 1, frames_ok = 1, order_ok = 1;
    for (;;) {
        int64_t start = -1, n = 0;
        const lp_tensor *w = NULL;
        lp_status st = lp_prefetch_next(pf, &start, &n, &w);
        if (st == LP_STATUS_EOF) break;
        LP_CHECK_OK(st);
        if (st) break;
        order_ok &= start == expect && n == (start == 0 ? FIRST : (N - start < STEP ? N - start : STEP));
        expect = start + n;
        ++n_windows;
        /* channels-last: (n, 3, H, W) whose channel is the fastest dimension */
        int64_t shape[LP_MAX_DIMS];
        layout_ok &= lp_tensor_shape(w, shape) == 4 && shape[0] == n && shape[1] == 3 && shape[2] == H &&
                     shape[3] == W && !lp_tensor_is_contiguous(w);
        frames_ok &= window_floats(w, got) && memcmp(got, ref + start * PER, sizeof(float) * (size_t)(n * PER)) == 0;
        if (n_windows == 2) {
            LP_CHECK_OK(lp_tensor_ref(w, &kept));
            kept_start = start;
            memcpy(kept_ref, got, sizeof(float) * (size_t)(n * PER));
        }
    }
    LP_CHECK(order_ok && expect == N);
    LP_CHECK(n_windows == 1 + (N - FIRST + STEP - 1) / STEP);
    LP_CHECK(layout_ok);
    LP_CHECK(frames_ok);
    /* three windows later, whose frames went to its buffer's slot again (3 slots; 1
     * without a thread): its frames are intact */
    LP_CHECK(kept && kept_start == FIRST && window_floats(kept, got) &&
             memcmp(got, kept_ref, sizeof(float) * STEP * PER) == 0);
    lp_prefetch_free(pf);
    lp_tensor_free(kept);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/lpose_test_prefetch_XXXXXX");
    if (!mkdtemp(tmp)) LP_SKIP_ALL("cannot make a temporary directory");
    char path[512], cmd[1024];
    snprintf(path, sizeof path, "%s/clip.mp4", tmp);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v %d"
             " -c:v libx264 -pix_fmt yuv420p '%s'", N, path);
    if (run(cmd) != 0) {
        LP_SKIP("ffmpeg CLI cannot make an h264 clip: prefetcher tests skipped");
    } else {
        static float ref[N * PER];
        lp_video *v = NULL;
        LP_CHECK_OK(lp_video_open(path, 1, &v));
        if (v) LP_CHECK_OK(lp_video_read_batch_into(v, 0, N, H, W, ref));
        lp_video_free(v);
        test_windows(path, ref, 1);
        test_windows(path, ref, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (!getenv("LPOSE_KEEP_TMP")) run(cmd);
    LP_DONE();
}
