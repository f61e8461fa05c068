/* test_video.c: video reader and writer (engine/src/video/video_reader.c,
 * video_writer.c). Test videos are made at run time with the ffmpeg CLI in a
 * temporary directory; the mirror-mouse video is used when present. */
#include <sys/stat.h>
#include <unistd.h>

#include "lp_test.h"
#include "video/video_internal.h"

#define MOUSE_VID "../shared/data/mirror-mouse-example/videos/test_vid.mp4"

static char tmp[256];

static int run(const char *cmd) {
    char full[2048];
    snprintf(full, sizeof full, "( %s ) >/dev/null 2>&1", cmd);
    return system(full);
}

/* Make tmp/name from testsrc2 64x48@25, 30 frames, with the given codec options. */
static int gen(const char *name, const char *opts) {
    char cmd[768];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 30 %s '%s/%s'",
             opts, tmp, name);
    return run(cmd);
}

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmp, name); }

static const struct {
    const char *name, *opts;
} cases[] = {
    {"h264_420.mp4", "-c:v libx264 -pix_fmt yuv420p -g 8 -bf 2"},
    {"h264_444.mkv", "-c:v libx264 -pix_fmt yuv444p"},
    {"h264_gray.mov", "-c:v libx264 -pix_fmt gray"},
    {"hevc_420.mkv", "-c:v libx265 -pix_fmt yuv420p -x265-params log-level=none"},
    {"hevc_444.mp4", "-c:v libx265 -pix_fmt yuv444p -x265-params log-level=none"},
    {"hevc_gray.mkv", "-c:v libx265 -pix_fmt gray -x265-params log-level=none"},
    {"mpeg4_420.avi", "-c:v mpeg4 -pix_fmt yuv420p -q:v 3"},
    {"mpeg4_420.mkv", "-c:v mpeg4 -pix_fmt yuv420p -g 6 -bf 1"},
    {"mjpeg_420.avi", "-c:v mjpeg -pix_fmt yuvj420p"},
    {"mjpeg_444.mov", "-c:v mjpeg -pix_fmt yuvj444p"},
};

static void test_formats(void) {
    char path[512];
    static float frames[30 * 3 * 32 * 32];
    static uint8_t rgb[48 * 64 * 3], ref[48 * 64 * 3];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        if (gen(cases[c].name, cases[c].opts) != 0) {
            char why[128];
            snprintf(why, sizeof why, "ffmpeg cannot make %s", cases[c].name);
            LP_SKIP(why);
            continue;
        }
        path_of(path, sizeof path, cases[c].name);
        printf("# %s\n", cases[c].name);
        lp_video *v = NULL;
        LP_CHECK_OK(lp_video_open(path, 0, &v));
        if (!v) continue;
        LP_CHECK(lp_video_n_frames(v) == 30);
        LP_CHECK(lp_video_width(v) == 64 && lp_video_height(v) == 48);
        LP_CHECK_CLOSE(lp_video_fps(v), 25.0, 1e-9);
        LP_CHECK_OK(lp_video_read_batch_into(v, 0, 30, 32, 32, frames));
        LP_CHECK(lp_video_read_batch_into(v, 30, 1, 32, 32, frames) == LP_STATUS_EOF);
        /* the channels-last read (the prediction prefetcher's): the same floats, bit for bit */
        static float hwc[30 * 32 * 32 * 3];
        LP_CHECK_OK(lpv_read_batch_hwc_into(v, 0, 30, 32, 32, hwc));
        int same = 1;
        for (int i = 0; i < 30 && same; ++i)
            for (int c = 0; c < 3; ++c)
                for (int yx = 0; yx < 32 * 32; ++yx)
                    same &= memcmp(&frames[(i * 3 + c) * 32 * 32 + yx], &hwc[(i * 32 * 32 + yx) * 3 + c],
                                   sizeof(float)) == 0;
        LP_CHECK(same);
        LP_CHECK_OK(lp_video_read_frame_rgb_into(v, 29, rgb));
        /* frame 29 against the ffmpeg CLI's own decode (conversion may differ slightly) */
        char cmd[768];
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -v error -i '%s' -vf 'select=eq(n\\,29)' -frames:v 1 -f rawvideo"
                 " -pix_fmt rgb24 -", path);
        FILE *p = popen(cmd, "r");
        size_t got = p ? fread(ref, 1, sizeof ref, p) : 0;
        if (p) pclose(p);
        double mad = 0;
        for (size_t i = 0; i < sizeof ref; ++i) mad += abs((int)rgb[i] - (int)ref[i]);
        mad /= sizeof ref;
        LP_CHECK(got == sizeof ref && mad < 3.0);
        printf("#   frame 29 vs ffmpeg CLI: mean abs diff %.3f\n", mad);
        /* random access equals sequential decode, bit for bit */
        static uint8_t seq[30][48 * 64 * 3];
        int ok = 1;
        for (int i = 0; i < 30 && ok; ++i) ok = lp_video_read_frame_rgb_into(v, i, seq[i]) == 0;
        static const int order[] = {17, 3, 29, 0, 11, 12, 5, 28, 1, 20};
        for (int i = 0; i < 10 && ok; ++i) {
            ok = lp_video_read_frame_rgb_into(v, order[i], rgb) == 0 &&
                 memcmp(rgb, seq[order[i]], sizeof rgb) == 0;
            if (!ok) printf("#   frame %d differs or fails: %s\n", order[i], lp_last_error());
        }
        LP_CHECK(ok);
        lp_video_free(v);
    }
}

static void test_ranges(void) {
    char path[512];
    path_of(path, sizeof path, "h264_420.mp4");
    lp_video *v = NULL;
    if (lp_video_open(path, 2, &v) != LP_STATUS_OK) {
        LP_SKIP("no h264 test video");
        return;
    }
    lp_tensor *t = NULL;
    int64_t shape[LP_MAX_DIMS];
    LP_CHECK_OK(lp_video_read_batch(v, 5, 4, 0, 0, &t));
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 4 && shape[0] == 4 && shape[1] == 3 &&
                 shape[2] == 48 && shape[3] == 64);
        lp_tensor_free(t);
        t = NULL;
    }
    LP_CHECK_OK(lp_video_read_batch(v, 9, 6, 128, 96, &t));
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 4 && shape[0] == 6 && shape[2] == 128 && shape[3] == 96);
        lp_tensor_free(t);
        t = NULL;
    }
    LP_CHECK_OK(lp_video_read_frame_rgb(v, 3, &t));
    if (t) {
        LP_CHECK(lp_tensor_shape(t, shape) == 3 && shape[0] == 48 && shape[1] == 64 && shape[2] == 3);
        LP_CHECK(lp_tensor_dtype(t) == LP_DTYPE_U8);
        lp_tensor_free(t);
        t = NULL;
    }
    LP_CHECK_FAILS(lp_video_read_batch(v, 30, 2, 0, 0, &t), LP_STATUS_EOF, "end of stream");
    LP_CHECK_FAILS(lp_video_read_batch(v, 28, 3, 0, 0, &t), LP_STATUS_BAD_ARG, "frames 28..30");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_video_read_frame_rgb(v, -1, &t), LP_STATUS_BAD_ARG, "h264_420.mp4");
    LP_CHECK_FAILS(lp_video_read_frame_rgb(v, 31, &t), LP_STATUS_BAD_ARG, "out of range");
    LP_CHECK_FAILS(lp_video_read_batch(v, 0, 0, 0, 0, &t), LP_STATUS_BAD_ARG,
                   "lp_video_read_batch");
    LP_CHECK(t == NULL);
    /* still usable after errors */
    LP_CHECK_OK(lp_video_read_batch(v, 0, 1, 0, 0, &t));
    lp_tensor_free(t);
    lp_video_free(v);
    lp_video_free(NULL);
    LP_CHECK(lp_video_n_frames(NULL) == -1);
}

static void test_bad_files(void) {
    char path[512], cmd[1200];
    lp_video *v = NULL;
    path_of(path, sizeof path, "missing.mp4");
    LP_CHECK_FAILS(lp_video_open(path, 0, &v), LP_STATUS_IO, "missing.mp4");
    printf("#   %s\n", lp_last_error());
    path_of(path, sizeof path, "random.mp4");
    snprintf(cmd, sizeof cmd, "head -c 20000 /dev/urandom > '%s'", path);
    run(cmd);
    lp_status st = lp_video_open(path, 0, &v);
    LP_CHECK(st != LP_STATUS_OK && v == NULL && strstr(lp_last_error(), "random.mp4"));
    printf("#   %s: %s\n", lp_status_name(st), lp_last_error());
    lp_video_free(v);
    v = NULL;
    /* audio only */
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -y -f lavfi -i sine=d=0.2 '%s/audio.wav'", tmp);
    if (run(cmd) == 0) {
        path_of(path, sizeof path, "audio.wav");
        LP_CHECK_FAILS(lp_video_open(path, 0, &v), LP_STATUS_UNSUPPORTED, "no video stream");
        printf("#   %s\n", lp_last_error());
    }
    /* an unknown codec: an H.264 mkv whose CodecID is renamed */
    if (gen("known.mkv", "-c:v libx264") == 0) {
        char src[512];
        path_of(src, sizeof src, "known.mkv");
        path_of(path, sizeof path, "unknown_codec.mkv");
        FILE *f = fopen(src, "rb");
        static char buf[1 << 20];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f) fclose(f);
        char *id = memmem(buf, n, "V_MPEG4/ISO/AVC", 15);
        if (id) memcpy(id, "V_QQQQQ/ISO/AVC", 15);
        f = fopen(path, "wb");
        if (f) { fwrite(buf, 1, n, f); fclose(f); }
        v = NULL;
        LP_CHECK_FAILS(lp_video_open(path, 0, &v), LP_STATUS_UNSUPPORTED, "unsupported codec");
        printf("#   %s\n", lp_last_error());
    }
    /* truncated copies (60 %) of bigger clips: mp4 (index at the end), mkv, avi */
    const char *trunc[] = {"big.mp4", "big_faststart.mp4", "big.mkv", "big.avi"};
    for (int i = 0; i < 4; ++i) {
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 30"
                 " -c:v mpeg4 -q:v 2 %s '%s/%s'", i == 1 ? "-movflags +faststart" : "", tmp,
                 trunc[i]);
        if (run(cmd) != 0) continue;
        char src[512];
        path_of(src, sizeof src, trunc[i]);
        struct stat sb;
        if (stat(src, &sb) != 0) continue;
        snprintf(path, sizeof path, "%s/cut_%s", tmp, trunc[i]);
        snprintf(cmd, sizeof cmd, "head -c %lld '%s' > '%s'", (long long)sb.st_size * 6 / 10, src, path);
        run(cmd);
        v = NULL;
        st = lp_video_open(path, 0, &v);
        if (st != LP_STATUS_OK) {
            LP_CHECK(v == NULL && strstr(lp_last_error(), "cut_"));
            printf("#   open %s: %s: %s\n", trunc[i], lp_status_name(st), lp_last_error());
            continue;
        }
        /* the demux pass only counts the packets that are there */
        int64_t n = lp_video_n_frames(v);
        static float buf[30 * 3 * 16 * 16];
        st = lp_video_read_batch_into(v, 0, n, 16, 16, buf);
        /* either the demux pass counted only the frames present (mkv: no count in
         * the header) or reading stops with a message naming the file (mp4: the
         * sample table lists all 30) */
        LP_CHECK((st == LP_STATUS_OK && n > 0 && n < 30) ||
                 (st != LP_STATUS_OK && strstr(lp_last_error(), "cut_")));
        printf("#   %s: opens with %lld of 30 frames; reading them: %s %s\n", trunc[i],
               (long long)n, lp_status_name(st), st ? lp_last_error() : "");
        lp_video_free(v);
    }
}

static void test_writer(void) {
    char path[512], tmpname[600];
    static uint8_t rgb[48 * 64 * 3], back[48 * 64 * 3];
    const char *names[] = {"written.mp4", "written.avi"};
    for (int n = 0; n < 2; ++n) {
        path_of(path, sizeof path, names[n]);
        lp_video_writer *w = NULL;
        LP_CHECK_OK(lp_video_writer_open(path, 64, 48, 30.0, &w));
        if (!w) return;
        for (int f = 0; f < 20; ++f) {
            for (int y = 0; y < 48; ++y)
                for (int x = 0; x < 64; ++x) {
                    uint8_t *p = rgb + (y * 64 + x) * 3;
                    p[0] = (uint8_t)(x * 4);
                    p[1] = (uint8_t)(y * 5);
                    p[2] = (uint8_t)(f * 12);
                }
            if (lp_video_writer_write_rgb(w, rgb, 64 * 3) != LP_STATUS_OK) break;
        }
        LP_CHECK(lp_video_writer_n_frames(w) == 20);
        snprintf(tmpname, sizeof tmpname, "%s.tmp-%ld", path, (long)getpid());
        LP_CHECK(access(tmpname, F_OK) == 0 && access(path, F_OK) != 0); /* not yet in place */
        LP_CHECK_OK(lp_video_writer_close(w));
        LP_CHECK(access(tmpname, F_OK) != 0 && access(path, F_OK) == 0);
        lp_video_writer_free(w);
        lp_video *v = NULL;
        LP_CHECK_OK(lp_video_open(path, 0, &v));
        if (!v) continue;
        LP_CHECK(lp_video_n_frames(v) == 20 && lp_video_width(v) == 64 && lp_video_height(v) == 48);
        LP_CHECK_CLOSE(lp_video_fps(v), 30.0, 1e-6);
        LP_CHECK_OK(lp_video_read_frame_rgb_into(v, 19, back));
        double mad = 0;
        for (size_t i = 0; i < sizeof rgb; ++i) mad += abs((int)rgb[i] - (int)back[i]);
        mad /= sizeof rgb;
        LP_CHECK(mad < 4.0);
        printf("#   %s (%s) round trip mean abs diff %.2f\n", names[n], lp_video_codec_name(v), mad);
        lp_video_free(v);
    }
    /* the same frames give the same bytes */
    {
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "cmp -s '%s/written.mp4' '%s/again.mp4'", tmp, tmp);
        path_of(path, sizeof path, "again.mp4");
        lp_video_writer *w2 = NULL;
        LP_CHECK_OK(lp_video_writer_open(path, 64, 48, 30.0, &w2));
        for (int f = 0; f < 20 && w2; ++f) {
            for (int y = 0; y < 48; ++y)
                for (int x = 0; x < 64; ++x) {
                    uint8_t *p = rgb + (y * 64 + x) * 3;
                    p[0] = (uint8_t)(x * 4);
                    p[1] = (uint8_t)(y * 5);
                    p[2] = (uint8_t)(f * 12);
                }
            lp_video_writer_write_rgb(w2, rgb, 64 * 3);
        }
        if (w2) LP_CHECK_OK(lp_video_writer_close(w2));
        lp_video_writer_free(w2);
        LP_CHECK(run(cmd) == 0);
    }
    /* an abandoned writer leaves nothing behind */
    path_of(path, sizeof path, "abandoned.mkv");
    lp_video_writer *w = NULL;
    LP_CHECK_OK(lp_video_writer_open(path, 64, 48, 25.0, &w));
    if (w) LP_CHECK_OK(lp_video_writer_write_rgb(w, rgb, 64 * 3));
    lp_video_writer_free(w);
    snprintf(tmpname, sizeof tmpname, "%s.tmp-%ld", path, (long)getpid());
    LP_CHECK(access(path, F_OK) != 0 && access(tmpname, F_OK) != 0);
    w = NULL;
    LP_CHECK_FAILS(lp_video_writer_open(path, 63, 48, 25.0, &w), LP_STATUS_BAD_ARG, "even");
    printf("#   %s\n", lp_last_error());
    path_of(path, sizeof path, "noext");
    LP_CHECK_FAILS(lp_video_writer_open(path, 64, 48, 25.0, &w), LP_STATUS_BAD_ARG, "container");
    printf("#   %s\n", lp_last_error());
    LP_CHECK_FAILS(lp_video_writer_open("/nonexistent-dir/x.mp4", 64, 48, 25.0, &w), LP_STATUS_IO,
                   "lp_video_writer_open");
    printf("#   %s\n", lp_last_error());
    LP_CHECK(w == NULL);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Mirror-mouse: 994 frames; ~10 random frames by seeking equal the
 * frames met by one sequential decode (bit-exact raw RGB). */
static void test_mirror_mouse(void) {
    if (access(MOUSE_VID, R_OK) != 0) {
        LP_SKIP("mirror-mouse-example video not found at " MOUSE_VID);
        return;
    }
    lp_video *seq = NULL, *rnd = NULL;
    LP_CHECK_OK(lp_video_open(MOUSE_VID, 0, &seq));
    LP_CHECK_OK(lp_video_open(MOUSE_VID, 0, &rnd));
    if (!seq || !rnd) goto done;
    LP_CHECK(lp_video_n_frames(seq) == 994);
    LP_CHECK(lp_video_width(seq) == 396 && lp_video_height(seq) == 406);
    LP_CHECK_CLOSE(lp_video_fps(seq), 250.0, 1e-9);
    /* streaming the whole video in batches never seeks */
    {
        static float batch[50 * 3 * 64 * 64];
        int ok = 1;
        for (int64_t s = 0; s < 994 && ok; s += 50)
            ok = lp_video_read_batch_into(rnd, s, s + 50 <= 994 ? 50 : 994 - s, 64, 64, batch) == 0;
        LP_CHECK(ok);
        LP_CHECK(lp_video_n_seeks(rnd) == 0);
        LP_CHECK(lp_video_read_batch_into(rnd, 994, 1, 64, 64, batch) == LP_STATUS_EOF);
    }
    enum { N = 16 };
    /* keyframes 193/433 and their neighbours, the ends, and 6 seeded random frames */
    int64_t idx[N] = {0, 192, 193, 194, 432, 433, 611, 800, 950, 993};
    srand(12345);
    for (int i = 10; i < N; ++i) idx[i] = rand() % 994;
    qsort(idx, N, sizeof idx[0], cmp_i64);
    size_t fs = 396 * 406 * 3;
    uint8_t *want = malloc(fs * N), *got = malloc(fs);
    int ok = 1, k = 0;
    for (int64_t i = 0; i < 994 && ok; ++i) { /* one plain sequential decode */
        ok = lp_video_read_frame_rgb_into(seq, i, got) == 0;
        while (ok && k < N && idx[k] == i) memcpy(want + fs * (size_t)k++, got, fs);
    }
    LP_CHECK(ok && k == N);
    LP_CHECK(lp_video_n_seeks(seq) == 0);
    /* a shuffled order, with repeats and backward jumps */
    static const int order[] = {8, 2, 15, 0, 5, 3, 12, 9, 1, 6, 14, 4, 7, 11, 3, 3, 2, 13, 10};
    int exact = 0, total = 0;
    for (size_t o = 0; o < sizeof order / sizeof order[0]; ++o) {
        int i = order[o];
        ++total;
        if (lp_video_read_frame_rgb_into(rnd, idx[i], got) == 0 &&
            memcmp(got, want + fs * i, fs) == 0)
            ++exact;
        else
            printf("#   frame %lld differs: %s\n", (long long)idx[i], lp_last_error());
    }
    LP_CHECK(exact == total);
    LP_CHECK(lp_video_n_seeks(rnd) > 0 && lp_video_n_seeks(rnd) <= total);
    printf("#   %lld seeks for %d random reads\n", (long long)lp_video_n_seeks(rnd), total);
    printf("#   %d of %d random-access frames bit-exact\n", exact, total);
    /* a normalised batch across the 193 keyframe */
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_video_read_batch(rnd, 190, 8, 256, 256, &t));
    lp_tensor_free(t);
    free(want);
    free(got);
done:
    lp_video_free(seq);
    lp_video_free(rnd);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/lpose_test_video_XXXXXX");
    if (!mkdtemp(tmp)) LP_SKIP_ALL("cannot make a temporary directory");
    if (run("ffmpeg -version") != 0) {
        LP_SKIP("ffmpeg CLI not found: generated-video tests skipped");
    } else {
        test_formats();
        test_ranges();
        test_bad_files();
        test_writer();
    }
    test_mirror_mouse();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (!getenv("LPOSE_KEEP_TMP")) run(cmd); /* keep it to debug a failure */
    LP_DONE();
}
