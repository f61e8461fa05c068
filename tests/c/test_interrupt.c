/* test_interrupt.c: the engine-wide interrupt flag (video prediction, decoding
 * and labeled videos stop with LP_STATUS_INTERRUPTED and leave no file) and
 * the temporary files of atomic writes (stale ones of dead processes are
 * removed by the next write of the same output, live ones are kept). */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lp_test.h"

static char g_dir[] = "/tmp/lp_test_interrupt_XXXXXX";

static lp_model *make_model(void) {
    lp_model *m = lp_test_model(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 3, 64, 64, 7);
    if (m) lp_model_set_training(m, 0);
    return m;
}

static int make_video(const char *path, int n) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x64:rate=25 -frames:v %d "
             "-pix_fmt yuv420p '%s'",
             n, path);
    return system(cmd) == 0;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Number of entries of g_dir whose name contains `part`. */
static int count_names(const char *part) {
    DIR *d = opendir(g_dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

static int n_threads(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

/* A pid that surely belongs to no process: a child that has exited and been reaped. */
static long dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) return -1;
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("partial", f);
        fclose(f);
    }
}

static void test_flag(void) {
    lp_interrupt_clear();
    LP_CHECK(lp_interrupt_pending() == 0);
    lp_interrupt_request();
    lp_interrupt_request();
    LP_CHECK(lp_interrupt_pending() == 2);
    lp_interrupt_clear();
    LP_CHECK(lp_interrupt_pending() == 0);
    LP_CHECK(strcmp(lp_status_name(LP_STATUS_INTERRUPTED), "LP_STATUS_INTERRUPTED") == 0);
}

/* Requests an interrupt once a temporary file shows up in g_dir (the
 * prediction has started writing), or after 60 s. */
static void *interrupt_when_writing(void *arg) {
    (void)arg;
    for (int i = 0; i < 6000 && count_names(".tmp-") == 0; ++i) usleep(10000);
    usleep(100000);
    lp_interrupt_request();
    return NULL;
}

static void test_predict(lp_model *m) {
    char video[512], csv[512], tn[512], labeled[512];
    snprintf(video, sizeof video, "%s/clip.mp4", g_dir);
    snprintf(csv, sizeof csv, "%s/clip.csv", g_dir);
    snprintf(tn, sizeof tn, "%s/clip_temporal_norm.csv", g_dir);
    snprintf(labeled, sizeof labeled, "%s/clip_labeled.mp4", g_dir);
    if (!make_video(video, 400)) {
        LP_SKIP("ffmpeg cannot make a test video");
        return;
    }
    lp_predict_params pp = lp_predict_default_params();
    pp.sequence_length = 8;

    /* requested before: stops at the first window */
    lp_interrupt_request();
    LP_CHECK_FAILS(lp_predict_video(m, video, &pp, NULL, NULL, csv, tn, NULL), LP_STATUS_INTERRUPTED,
                   "interrupted!");
    LP_CHECK(!exists(csv) && !exists(tn) && count_names(".tmp-") == 0);
    /* the flag stays set until cleared: decoding stops too */
    lp_video *v = NULL;
    lp_tensor *frames = NULL;
    LP_CHECK_OK(lp_video_open(video, 0, &v));
    LP_CHECK_FAILS(lp_video_read_batch(v, 0, 8, 64, 64, &frames), LP_STATUS_INTERRUPTED,
                   "lp_video_read_batch: interrupted!");
    lp_interrupt_clear();
    LP_CHECK_OK(lp_video_read_batch(v, 0, 8, 64, 64, &frames));
    lp_tensor_free(frames);
    lp_video_free(v);

    /* a short prediction first, so that libtorch's threads exist before counting */
    char warm[512], warm_csv[512];
    snprintf(warm, sizeof warm, "%s/warm.mp4", g_dir);
    snprintf(warm_csv, sizeof warm_csv, "%s/warm.csv", g_dir);
    if (make_video(warm, 12)) LP_CHECK_OK(lp_predict_video(m, warm, &pp, NULL, NULL, warm_csv, NULL, NULL));
    int threads_before = n_threads();

    /* requested while predicting, with the decode thread and without it */
    for (int prefetch = 1; prefetch >= 0; --prefetch) {
        pp.prefetch = prefetch;
        pthread_t th;
        LP_CHECK(pthread_create(&th, NULL, interrupt_when_writing, NULL) == 0);
        lp_predict_stats stats;
        memset(&stats, 0, sizeof stats);
        lp_status st = lp_predict_video(m, video, &pp, NULL, NULL, csv, tn, &stats);
        pthread_join(th, NULL);
        LP_CHECK(st == LP_STATUS_INTERRUPTED && strstr(lp_last_error(), "lp_predict_video") != NULL &&
                 strstr(lp_last_error(), "interrupted!") != NULL);
        if (st != LP_STATUS_INTERRUPTED) printf("# prefetch %d: %s\n", prefetch, lp_last_error());
        LP_CHECK(!exists(csv) && !exists(tn));
        LP_CHECK(count_names(".tmp-") == 0);
        LP_CHECK(stats.n_frames == 0); /* the stats are written only on success */
        lp_interrupt_clear();
    }
    /* the decode thread was joined */
    int threads_after = n_threads();
    LP_CHECK(threads_before > 0 && threads_after <= threads_before);
    if (threads_after > threads_before) printf("# threads %d -> %d\n", threads_before, threads_after);

    /* the stream API reports it from next() and goes on once cleared, also
     * when the decode thread was stopped in the middle of a window (it
     * decodes that window again) */
    for (int prefetch = 1; prefetch >= 0; --prefetch) {
        pp.prefetch = prefetch;
        pp.sequence_length = 100;
        lp_predict_stream *s = NULL;
        lp_interrupt_request(); /* before open: the decode thread stops at its first frame */
        LP_CHECK_OK(lp_predict_stream_open(m, video, &pp, &s));
        usleep(100000);
        int64_t start = -1, next = 0;
        lp_tensor *kp = NULL, *conf = NULL;
        LP_CHECK_FAILS(lp_predict_stream_next(s, &start, &kp, &conf), LP_STATUS_INTERRUPTED,
                       "interrupted!");
        lp_interrupt_clear();
        int in_order = 1;
        for (int i = 0; i < 2; ++i) {
            LP_CHECK_OK(lp_predict_stream_next(s, &start, &kp, &conf));
            if (start != next || lp_tensor_size(kp, 0) <= 0) in_order = 0;
            next = start + lp_tensor_size(kp, 0);
            lp_tensor_free(kp);
            lp_tensor_free(conf);
        }
        LP_CHECK(in_order);
        lp_predict_stream_free(s);
    }
    pp.prefetch = 1;
    pp.sequence_length = 8;

    /* labeled video: stops per frame, no file under the final name */
    LP_CHECK_OK(lp_predict_video(m, video, &pp, NULL, NULL, csv, NULL, NULL));
    lp_interrupt_request();
    LP_CHECK_FAILS(lp_predict_draw_video(video, csv, labeled, 0.9), LP_STATUS_INTERRUPTED,
                   "lp_predict_draw_video");
    lp_interrupt_clear();
    LP_CHECK(!exists(labeled) && count_names(".tmp-") == 0);
    LP_CHECK(exists(csv)); /* a finished file is left alone */
}

static void test_stale(void) {
    char x[512], stale[600], live[600], odd1[600], odd2[600], other[600], lpt[512], lpt_stale[600];
    long dead = dead_pid();
    long alive = (long)getppid();
    LP_CHECK(dead > 0 && alive > 0);
    snprintf(x, sizeof x, "%s/x.csv", g_dir);
    snprintf(stale, sizeof stale, "%s.tmp-%ld", x, dead);
    snprintf(live, sizeof live, "%s.tmp-%ld", x, alive);
    snprintf(odd1, sizeof odd1, "%s.tmp-12ab", x);
    snprintf(odd2, sizeof odd2, "%s/xx.csv.tmp-%ld", g_dir, dead);
    snprintf(other, sizeof other, "%s/y.csv.tmp-%ld", g_dir, dead);
    touch(stale);
    touch(live);
    touch(odd1);
    touch(odd2);
    touch(other);

    /* writing x.csv removes the dead process's x.csv.tmp-PID, nothing else */
    const char *names[2] = {"a", "b"};
    lp_csv_writer *w = NULL;
    LP_CHECK_OK(lp_csv_writer_open(x, LP_CSV_METRIC, NULL, 2, names, 0, &w));
    LP_CHECK(!exists(stale));
    LP_CHECK(exists(live) && exists(odd1) && exists(odd2) && exists(other));
    const float row[2] = {1.0f, 2.0f};
    LP_CHECK_OK(lp_csv_writer_write_row(w, NULL, row, NULL));
    LP_CHECK_OK(lp_csv_writer_close(w));
    lp_csv_writer_free(w);
    LP_CHECK(exists(x));

    /* the same rule for .lpt files (checkpoints, model saves) */
    snprintf(lpt, sizeof lpt, "%s/last.lpt", g_dir);
    snprintf(lpt_stale, sizeof lpt_stale, "%s.tmp-%ld", lpt, dead);
    touch(lpt_stale);
    lp_tensor_list *list = NULL;
    lp_tensor *t = NULL;
    const int64_t shape[1] = {3};
    LP_CHECK_OK(lp_tensor_list_init(&list));
    LP_CHECK_OK(lp_tensor_zeros(shape, 1, LP_DTYPE_F32, LP_DEVICE_CPU, &t));
    LP_CHECK_OK(lp_tensor_list_push(list, "w", t));
    LP_CHECK_OK(lp_tensor_list_save(list, lpt));
    LP_CHECK(!exists(lpt_stale) && exists(lpt));
    lp_tensor_free(t);
    lp_tensor_list_free(list);

    /* and for videos */
    char mp4[512], mp4_stale[600];
    snprintf(mp4, sizeof mp4, "%s/out_labeled.mp4", g_dir);
    snprintf(mp4_stale, sizeof mp4_stale, "%s.tmp-%ld", mp4, dead);
    touch(mp4_stale);
    lp_video_writer *vw = NULL;
    LP_CHECK_OK(lp_video_writer_open(mp4, 16, 16, 25, &vw));
    LP_CHECK(!exists(mp4_stale));
    lp_video_writer_free(vw);
    LP_CHECK(!exists(mp4) && count_names("out_labeled.mp4") == 0);

    /* the helper itself */
    int32_t n = -1;
    LP_CHECK_OK(lp_tmp_remove_stale(other, &n));
    LP_CHECK(n == 0 && exists(other));
    char y[512];
    snprintf(y, sizeof y, "%s/y.csv", g_dir);
    LP_CHECK_OK(lp_tmp_remove_stale(y, &n));
    LP_CHECK(n == 1 && !exists(other));
    LP_CHECK_OK(lp_tmp_remove_stale("/nonexistent-dir/z.csv", &n));
    LP_CHECK(n == 0);
    LP_CHECK_FAILS(lp_tmp_remove_stale(NULL, &n), LP_STATUS_BAD_ARG, "lp_tmp_remove_stale");
    unlink(live);
    unlink(odd1);
    unlink(odd2);
}

static void test_remove_all(void) {
    char z[512], ztmp[600];
    snprintf(z, sizeof z, "%s/z.csv", g_dir);
    snprintf(ztmp, sizeof ztmp, "%s.tmp-%ld", z, (long)getpid());
    const char *names[1] = {"a"};
    /* slots are given back: many writers in a row stay registered */
    int all_ok = 1;
    for (int i = 0; i < 100; ++i) {
        lp_csv_writer *w = NULL;
        if (lp_csv_writer_open(z, LP_CSV_METRIC, NULL, 1, names, 0, &w) != LP_STATUS_OK) all_ok = 0;
        if (lp_csv_writer_close(w) != LP_STATUS_OK) all_ok = 0;
        lp_csv_writer_free(w);
    }
    LP_CHECK(all_ok && exists(z));
    unlink(z);
    /* what a signal handler does before it ends the process */
    lp_csv_writer *w = NULL;
    LP_CHECK_OK(lp_csv_writer_open(z, LP_CSV_METRIC, NULL, 1, names, 0, &w));
    LP_CHECK(exists(ztmp));
    lp_tmp_remove_all();
    LP_CHECK(!exists(ztmp) && !exists(z));
    LP_CHECK(lp_csv_writer_close(w) == LP_STATUS_IO && !exists(z));
    lp_csv_writer_free(w);
    LP_CHECK(count_names(".tmp-") == 0);
}

int main(void) {
    lp_runtime_init(2);
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    test_flag();
    test_stale();
    test_remove_all();
    lp_model *m = make_model();
    LP_CHECK(m != NULL);
    if (m) test_predict(m);
    lp_model_free(m);
    lp_interrupt_clear();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", g_dir);
    LP_DONE();
}
