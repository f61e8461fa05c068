/* test_predict.c: streaming video prediction, LP CSVs, labeled videos. */
#include <stdint.h>
#include <unistd.h>

#include "lp_test.h"

static char g_dir[] = "/tmp/lp_test_predict_XXXXXX";

static lp_model *make_model(int32_t type, int32_t k) {
    lp_model *m = lp_test_model(type, LP_BACKBONE_RESNET18, k, 64, 64, 7);
    if (m) lp_model_set_training(m, 0);
    return m;
}

static int make_video(const char *path, int n, int w, int h) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -f lavfi -i testsrc2=size=%dx%d:rate=25 -frames:v %d "
             "-pix_fmt yuv420p '%s'",
             w, h, n, path);
    return system(cmd) == 0;
}

static float *to_floats(const lp_tensor *t) {
    int64_t n = lp_tensor_numel(t);
    float *b = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (lp_tensor_to_buffer(t, b, (int64_t)sizeof(float) * n) != LP_STATUS_OK) {
        free(b);
        return NULL;
    }
    return b;
}

/* Stream all of `images`; fills kp (N*K*2), conf (N*K); returns 1 when every
 * frame index came exactly once and in order. */
static int stream_all(lp_model *m, const lp_tensor *images, const lp_predict_params *pp,
                      float *kp, float *conf, int64_t *n_backbone, int32_t k) {
    lp_predict_stream *s = NULL;
    if (lp_predict_stream_open_frames(m, images, 0, 0, pp, &s) != LP_STATUS_OK) {
        printf("# open: %s\n", lp_last_error());
        return 0;
    }
    int64_t n = lp_predict_stream_n_frames(s), next = 0;
    int ok = 1;
    for (;;) {
        int64_t start;
        lp_tensor *a = NULL, *b = NULL;
        lp_status st = lp_predict_stream_next(s, &start, &a, &b);
        if (st == LP_STATUS_EOF) break;
        if (st) {
            printf("# next: %s\n", lp_last_error());
            ok = 0;
            break;
        }
        int64_t r = lp_tensor_size(a, 0);
        if (start != next || next + r > n) {
            ok = 0;
        } else if (r > 0) {
            lp_tensor_to_buffer(a, kp + next * k * 2, (int64_t)sizeof(float) * r * k * 2);
            lp_tensor_to_buffer(b, conf + next * k, (int64_t)sizeof(float) * r * k);
        }
        next += r;
        lp_tensor_free(a);
        lp_tensor_free(b);
    }
    if (next != n) ok = 0;
    *n_backbone = lp_predict_stream_n_backbone_frames(s);
    lp_predict_stream_free(s);
    return ok;
}

static double max_abs_diff(const float *a, const float *b, int64_t n) {
    double d = 0;
    for (int64_t i = 0; i < n; ++i) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? 1e30 : e;
    }
    return d;
}

static void test_format(void) {
    char b[64];
    struct {
        double v;
        const char *s;
    } cases[] = {
        {(double)0.9f, "0.8999999761581421"},
        {1.0, "1.0"},
        {3.0, "3.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {0.0, "0.0"},
        {123.456, "123.456"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {1.5e-7, "1.5e-07"},
        {(double)3.4028234663852886e38f, "3.4028234663852886e+38"},
        {(double)1.1754943508222875e-38f, "1.1754943508222875e-38"},
        {(double)12.345f, "12.345000267028809"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        LP_CHECK_OK(lp_format_double(cases[i].v, sizeof b, b));
        if (!LP_CHECK(strcmp(b, cases[i].s) == 0)) printf("#   got '%s', want '%s'\n", b, cases[i].s);
    }
    /* round trip of many float32 values */
    int bad = 0;
    for (int i = 0; i < 20000; ++i) {
        union {
            uint32_t u;
            float f;
        } x;
        x.u = (uint32_t)i * 2654435761u;
        if (isnan(x.f) || isinf(x.f)) continue;
        lp_format_double((double)x.f, sizeof b, b);
        if (strtod(b, NULL) != (double)x.f) ++bad;
    }
    LP_CHECK(bad == 0);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t r = fread(s, 1, (size_t)n, f);
    s[r] = '\0';
    fclose(f);
    return s;
}

static void test_csv(void) {
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/p.csv", g_dir);
    const char *names[2] = {"nose", "paw_left"};
    lp_csv_writer *w = NULL;
    LP_CHECK_OK(lp_csv_writer_open(path, LP_CSV_PREDICTIONS, "heatmap_mhcrnn_tracker", 2, names, 0, &w));
    float r0[6] = {1.5f, 7.125f, 0.9f, NAN, NAN, 0.5f};
    float r1[6] = {3.0f, 1e-05f, 1.0f, 12.0f, 0.25f, 0.0f};
    LP_CHECK_OK(lp_csv_writer_write_row(w, NULL, r0, NULL));
    LP_CHECK(access(path, F_OK) != 0); /* not there before close */
    LP_CHECK_OK(lp_csv_writer_write_row(w, NULL, r1, NULL));
    LP_CHECK_OK(lp_csv_writer_close(w));
    lp_csv_writer_free(w);
    const char *expected =
        "scorer,heatmap_mhcrnn_tracker,heatmap_mhcrnn_tracker,heatmap_mhcrnn_tracker,"
        "heatmap_mhcrnn_tracker,heatmap_mhcrnn_tracker,heatmap_mhcrnn_tracker\n"
        "bodyparts,nose,nose,nose,paw_left,paw_left,paw_left\n"
        "coords,x,y,likelihood,x,y,likelihood\n"
        "0,1.5,7.125,0.8999999761581421,,,0.5\n"
        "1,3.0,9.999999747378752e-06,1.0,12.0,0.25,0.0\n";
    char *got = slurp(path);
    if (!LP_CHECK(got && strcmp(got, expected) == 0)) printf("# got:\n%s\n", got ? got : "(null)");
    free(got);

    lp_csv_table *t = NULL;
    LP_CHECK_OK(lp_csv_table_read(path, &t));
    LP_CHECK(lp_csv_table_kind(t) == LP_CSV_PREDICTIONS && lp_csv_table_n_rows(t) == 2 &&
             lp_csv_table_n_keypoints(t) == 2 && lp_csv_table_has_set(t) == 0);
    LP_CHECK(strcmp(lp_csv_table_scorer(t), "heatmap_mhcrnn_tracker") == 0 &&
             strcmp(lp_csv_table_keypoint_name(t, 1), "paw_left") == 0 &&
             strcmp(lp_csv_table_index(t, 1), "1") == 0);
    const double *v = lp_csv_table_values(t);
    int same = 1;
    for (int i = 0; i < 6; ++i) {
        if (isnan(r0[i]) ? !isnan(v[i]) : v[i] != (double)r0[i]) same = 0;
        if (v[6 + i] != (double)r1[i]) same = 0;
    }
    LP_CHECK(same);
    lp_csv_table_free(t);

    /* labeled: string index and the set column; metric CSV one-row header */
    snprintf(path2, sizeof path2, "%s/m.csv", g_dir);
    LP_CHECK_OK(lp_csv_writer_open(path2, LP_CSV_METRIC, NULL, 2, names, 1, &w));
    float m0[2] = {NAN, 2.0f};
    LP_CHECK_OK(lp_csv_writer_write_row(w, "labeled-data/a,b/img001.png", m0, "train"));
    LP_CHECK_OK(lp_csv_writer_close(w));
    lp_csv_writer_free(w);
    got = slurp(path2);
    LP_CHECK(got && strcmp(got, ",nose,paw_left,set\n\"labeled-data/a,b/img001.png\",,2.0,train\n") == 0);
    free(got);
    LP_CHECK_OK(lp_csv_table_read(path2, &t));
    LP_CHECK(lp_csv_table_kind(t) == LP_CSV_METRIC && lp_csv_table_has_set(t) == 1 &&
             strcmp(lp_csv_table_set(t, 0), "train") == 0 &&
             strcmp(lp_csv_table_index(t, 0), "labeled-data/a,b/img001.png") == 0 &&
             isnan(lp_csv_table_values(t)[0]));
    lp_csv_table_free(t);

    /* bad inputs */
    LP_CHECK_FAILS(lp_csv_table_read("/nonexistent/x.csv", &t), LP_STATUS_IO, "lp_csv_table_read");
    FILE *f = fopen(path2, "w");
    fputs("hello,world\n1,2\n", f);
    fclose(f);
    LP_CHECK_FAILS(lp_csv_table_read(path2, &t), LP_STATUS_IO, "lp_csv_table_read");
    LP_CHECK_FAILS(lp_csv_writer_open("/nonexistent/dir/p.csv", LP_CSV_PREDICTIONS, "s", 2, names, 0, &w),
                   LP_STATUS_IO, "lp_csv_writer_open");
}

/* Whole-sequence reference: one lp_model_predict over all frames. */
static int batch_reference(lp_model *m, const lp_tensor *images, int pad, int is_tcn, float **kp,
                           float **conf) {
    lp_tensor *in = NULL, *a = NULL, *b = NULL;
    int64_t n = lp_tensor_size(images, 0);
    if (pad && is_tcn) {
        lp_tensor *f0 = NULL, *f1 = NULL;
        lp_tensor_narrow(images, 0, 0, 1, &f0);
        lp_tensor_narrow(images, 0, n - 1, 1, &f1);
        const lp_tensor *parts[5] = {f0, f0, images, f1, f1};
        lp_tensor_cat(parts, 5, 0, &in);
        lp_tensor_free(f0);
        lp_tensor_free(f1);
    } else {
        lp_tensor_ref(images, &in);
    }
    lp_status st = lp_model_predict(m, in, is_tcn, 64, 64, &a, &b);
    lp_tensor_free(in);
    if (st) {
        printf("# predict: %s\n", lp_last_error());
        return 0;
    }
    *kp = to_floats(a);
    *conf = to_floats(b);
    lp_tensor_free(a);
    lp_tensor_free(b);
    return 1;
}

/* The window path equals LP's labeled path on 5-frame stacks, both with
 * the heads' fast paths (the fused recurrence over stacks end to end) and
 * with the libtorch reference (H as two grouped convolutions). */
static int stacks_match(lp_model *m, const lp_tensor *images, const float *win_k,
                        const float *win_c, int32_t k) {
    int all_ok = 1;
    for (int ref = 0; ref < 2; ++ref) {
        lp_tensor *stacks = NULL, *a = NULL, *b = NULL;
        if (ref) setenv("LPOSE_HEADS_REFERENCE", "1", 1);
        int ok = lp_model_context_stack(images, &stacks) == LP_STATUS_OK &&
                 lp_model_predict(m, stacks, 0, 64, 64, &a, &b) == LP_STATUS_OK;
        unsetenv("LPOSE_HEADS_REFERENCE");
        float *sk = ok ? to_floats(a) : NULL, *sc = ok ? to_floats(b) : NULL;
        const int64_t n = lp_tensor_size(images, 0) - 4;
        double d = sk && sc ? fmax(max_abs_diff(sk, win_k, n * k * 2), 100 * max_abs_diff(sc, win_c, n * k))
                            : INFINITY;
        printf("# window vs stacks (%s) difference %g\n", ref ? "reference" : "fast paths", d);
        all_ok &= d <= 1e-3;
        free(sk);
        free(sc);
        lp_tensor_free(stacks);
        lp_tensor_free(a);
        lp_tensor_free(b);
    }
    return all_ok;
}

static void test_stream_vs_batch(lp_model *tcn, lp_model *sf, const lp_tensor *all) {
    const int32_t k = 3;
    const int64_t n_all = lp_tensor_size(all, 0);
    int order_ok = 1, count_ok = 1, lp_ok = 1, pad_ok = 1, sf_ok = 1;
    double worst = 0;
    lp_predict_params pp = lp_predict_default_params();
    pp.sequence_length = 8;
    /* A centre's stack only holds its own frames, so one batch pass over all
     * frames is the reference for every N (LP edges and the single-frame
     * model); padded edges get a per-N reference for some N. */
    float *full_k = NULL, *full_c = NULL, *sf_k = NULL, *sf_c = NULL;
    if (!batch_reference(tcn, all, 0, 1, &full_k, &full_c) ||
        !batch_reference(sf, all, 0, 0, &sf_k, &sf_c)) {
        LP_CHECK(0);
        return;
    }
    LP_CHECK(stacks_match(tcn, all, full_k, full_c, k));
    for (int64_t n = 1; n <= n_all; ++n) {
        lp_tensor *images = NULL;
        lp_tensor_narrow(all, 0, 0, n, &images);
        float *kp = malloc(sizeof(float) * (size_t)(n * k * 2)), *conf = malloc(sizeof(float) * (size_t)(n * k));
        float *rk = NULL, *rc = NULL;
        int64_t nb = 0;
        for (int pad = 0; pad <= 1; ++pad) {
            pp.edge = pad ? LP_PREDICT_EDGE_PAD : LP_PREDICT_EDGE_LP;
            if (!stream_all(tcn, images, &pp, kp, conf, &nb, k)) {
                order_ok = 0;
                printf("#   order failed for N=%lld pad=%d\n", (long long)n, pad);
            }
            if (nb != n) count_ok = 0;
            int use_pad = pad || n < 5;
            int check_pad = n <= 6 || n == 13 || n == 22 || n == n_all;
            if (use_pad && !check_pad) continue;
            const float *ref_k = full_k, *ref_c = full_c;
            if (use_pad) {
                if (!batch_reference(tcn, images, 1, 1, &rk, &rc)) {
                    pad_ok = 0;
                    continue;
                }
                ref_k = rk;
                ref_c = rc;
            }
            for (int64_t i = 0; i < n; ++i) {
                int64_t row = i;
                if (!use_pad) row = (i < 2 ? 2 : (i > n - 3 ? n - 3 : i)) - 2;
                double d = fmax(max_abs_diff(kp + i * k * 2, ref_k + row * k * 2, k * 2),
                                100 * max_abs_diff(conf + i * k, ref_c + row * k, k));
                if (d > worst) worst = d;
                if (d > 1e-3) {
                    if (use_pad) pad_ok = 0; else lp_ok = 0;
                    printf("#   N=%lld pad=%d frame %lld differs by %g\n", (long long)n, pad, (long long)i, d);
                }
            }
            free(rk);
            free(rc);
            rk = rc = NULL;
        }
        /* single-frame model: the same streaming path, no context */
        pp.edge = LP_PREDICT_EDGE_LP;
        if (!stream_all(sf, images, &pp, kp, conf, &nb, k) || nb != n) sf_ok = 0;
        if (max_abs_diff(kp, sf_k, n * k * 2) > 1e-3 || max_abs_diff(conf, sf_c, n * k) > 1e-5) sf_ok = 0;
        free(kp);
        free(conf);
        lp_tensor_free(images);
    }
    free(full_k);
    free(full_c);
    free(sf_k);
    free(sf_c);
    printf("# worst stream/batch difference %g\n", worst);
    LP_CHECK(order_ok);  /* every frame once, in order, N = 1..24, T = 8 */
    LP_CHECK(count_ok);  /* backbone ran exactly N times */
    LP_CHECK(lp_ok);     /* frame i = prediction of clamp(i, 2, N-3) */
    LP_CHECK(pad_ok);    /* padded edges */
    LP_CHECK(sf_ok);     /* single-frame model */
}

/* The heads' inference fast paths (sub-pixel deconvolutions, fused
 * recurrence) against the libtorch reference (LPOSE_HEADS_REFERENCE=1) on
 * the same stream: the same float-rounding tolerance as stream vs batch. */
static void test_heads_reference(lp_model *tcn, lp_model *sf, const lp_tensor *all) {
    const int32_t k = 3;
    const int64_t n = lp_tensor_size(all, 0);
    lp_predict_params pp = lp_predict_default_params();
    pp.sequence_length = 8;
    lp_model *models[2] = {tcn, sf};
    for (int i = 0; i < 2; ++i) {
        float *kp[2], *conf[2];
        int64_t nb = 0;
        int ok = 1;
        for (int ref = 0; ref < 2; ++ref) {
            kp[ref] = malloc(sizeof(float) * (size_t)(n * k * 2));
            conf[ref] = malloc(sizeof(float) * (size_t)(n * k));
            if (ref) setenv("LPOSE_HEADS_REFERENCE", "1", 1);
            ok = ok && kp[ref] && conf[ref] && stream_all(models[i], all, &pp, kp[ref], conf[ref], &nb, k);
            unsetenv("LPOSE_HEADS_REFERENCE");
        }
        double dk = ok ? max_abs_diff(kp[0], kp[1], n * k * 2) : INFINITY;
        double dc = ok ? max_abs_diff(conf[0], conf[1], n * k) : INFINITY;
        printf("# %s heads fast vs reference: keypoints %g px, confidences %g\n", i ? "sf" : "tcn", dk, dc);
        LP_CHECK(dk <= 1e-3 && dc <= 1e-5);
        for (int ref = 0; ref < 2; ++ref) {
            free(kp[ref]);
            free(conf[ref]);
        }
    }
}

static void test_video(lp_model *tcn) {
    char video[512], csv[512], tn[512], labeled[512];
    snprintf(video, sizeof video, "%s/v23.mp4", g_dir);
    snprintf(csv, sizeof csv, "%s/v23.csv", g_dir);
    snprintf(tn, sizeof tn, "%s/v23_temporal_norm.csv", g_dir);
    snprintf(labeled, sizeof labeled, "%s/v23_labeled.mp4", g_dir);
    if (!make_video(video, 23, 80, 64)) {
        LP_SKIP("ffmpeg cannot make a test video");
        return;
    }
    const char *names[3] = {"a", "b", "c"};
    lp_predict_params pp = lp_predict_default_params();
    pp.sequence_length = 8;
    lp_predict_stats stats;
    memset(&stats, 0, sizeof stats);
    LP_CHECK_OK(lp_predict_video(tcn, video, &pp, names, NULL, csv, tn, &stats));
    LP_CHECK(stats.n_frames == 23 && stats.n_backbone_frames == 23 && stats.width == 80 &&
             stats.height == 64);
    lp_csv_table *t = NULL, *t2 = NULL;
    LP_CHECK_OK(lp_csv_table_read(csv, &t));
    LP_CHECK(lp_csv_table_n_rows(t) == 23 && strcmp(lp_csv_table_scorer(t), "heatmap_mhcrnn_tracker") == 0);
    int idx_ok = 1;
    for (int64_t i = 0; i < lp_csv_table_n_rows(t); ++i) {
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)i);
        if (strcmp(lp_csv_table_index(t, i), want) != 0) idx_ok = 0;
    }
    LP_CHECK(idx_ok);
    /* equals the frames path on the same decoded frames, with scaling to 80x64 */
    lp_video *v = NULL;
    lp_tensor *frames = NULL;
    LP_CHECK_OK(lp_video_open(video, 0, &v));
    LP_CHECK_OK(lp_video_read_batch(v, 0, 23, 64, 64, &frames));
    lp_video_free(v);
    lp_predict_stream *s = NULL;
    LP_CHECK_OK(lp_predict_stream_open_frames(tcn, frames, 64, 80, &pp, &s));
    const double *vals = lp_csv_table_values(t);
    double worst = 0;
    for (;;) {
        int64_t start;
        lp_tensor *a = NULL, *b = NULL;
        if (lp_predict_stream_next(s, &start, &a, &b) != LP_STATUS_OK) break;
        float *ka = to_floats(a), *cb = to_floats(b);
        for (int64_t r = 0; r < lp_tensor_size(a, 0); ++r)
            for (int kk = 0; kk < 3; ++kk) {
                const double *row = vals + (start + r) * 9 + kk * 3;
                worst = fmax(worst, fabs(row[0] - ka[(r * 3 + kk) * 2]));
                worst = fmax(worst, fabs(row[1] - ka[(r * 3 + kk) * 2 + 1]));
                worst = fmax(worst, fabs(row[2] - cb[r * 3 + kk]));
            }
        free(ka);
        free(cb);
        lp_tensor_free(a);
        lp_tensor_free(b);
    }
    lp_predict_stream_free(s);
    lp_tensor_free(frames);
    LP_CHECK(worst == 0.0); /* same frames, same windows: bit-identical */
    /* prefetch off gives the same CSV */
    char csv2[512];
    snprintf(csv2, sizeof csv2, "%s/v23_inline.csv", g_dir);
    pp.prefetch = 0;
    LP_CHECK_OK(lp_predict_video(tcn, video, &pp, names, NULL, csv2, NULL, NULL));
    char *c1 = slurp(csv), *c2 = slurp(csv2);
    LP_CHECK(c1 && c2 && strcmp(c1, c2) == 0);
    free(c1);
    free(c2);
    /* temporal norm: row 0 NaN, one-row header */
    LP_CHECK_OK(lp_csv_table_read(tn, &t2));
    LP_CHECK(lp_csv_table_kind(t2) == LP_CSV_METRIC && lp_csv_table_n_rows(t2) == 23);
    const double *tv = lp_csv_table_values(t2);
    double dx = vals[9 + 0] - vals[0], dy = vals[9 + 1] - vals[1];
    LP_CHECK(isnan(tv[0]) && isnan(tv[1]) && isnan(tv[2]));
    LP_CHECK_CLOSE(tv[3], sqrt(dx * dx + dy * dy), 1e-4);
    lp_csv_table_free(t2);
    lp_csv_table_free(t);

    /* labeled video: all frames, 80x64 is upsampled x2.5 -> 200x160, and the
     * legend panel at its right (tests/c/test_plot.c checks what is drawn) */
    LP_CHECK_OK(lp_predict_draw_video(video, csv, labeled, 0.0));
    lp_video *lv = NULL;
    LP_CHECK_OK(lp_video_open(labeled, 0, &lv));
    LP_CHECK(lp_video_n_frames(lv) == 23 && lp_video_width(lv) > 200 && lp_video_height(lv) == 160);
    lp_video_free(lv);

    /* bad inputs */
    lp_predict_stream *bad = NULL;
    LP_CHECK_FAILS(lp_predict_stream_open(tcn, "/nonexistent.mp4", &pp, &bad), LP_STATUS_IO, "lp_video_open");
    char junk[512];
    snprintf(junk, sizeof junk, "%s/junk.mp4", g_dir);
    FILE *f = fopen(junk, "wb");
    for (int i = 0; i < 4096; ++i) fputc((i * 7919) & 255, f);
    fclose(f);
    lp_status st = lp_predict_video(tcn, junk, &pp, names, NULL, csv2, NULL, NULL);
    LP_CHECK(st != LP_STATUS_OK && strstr(lp_last_error(), "lp_predict_video") != NULL);
    /* a cut file (index says 60 frames): the worker's decode error comes back
     * from a later next() call and no CSV is left behind */
    char cut[512], cmd[2400], cut_csv[512];
    snprintf(cut, sizeof cut, "%s/cut.mp4", g_dir);
    snprintf(cut_csv, sizeof cut_csv, "%s/cut.csv", g_dir);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -f lavfi -i testsrc2=size=64x64:rate=25 -frames:v 60 -g 5 "
             "-pix_fmt yuv420p -movflags +faststart '%s.full.mp4' && head -c 20000 '%s.full.mp4' > '%s'",
             cut, cut, cut);
    if (system(cmd) == 0) {
        LP_CHECK_OK(lp_predict_stream_open(tcn, cut, &pp, &bad));
        int64_t rows = 0, start = 0;
        lp_status last = LP_STATUS_OK;
        for (int i = 0; i < 100 && bad; ++i) {
            lp_tensor *a = NULL, *b = NULL;
            last = lp_predict_stream_next(bad, &start, &a, &b);
            if (last != LP_STATUS_OK) break;
            rows += lp_tensor_size(a, 0);
            lp_tensor_free(a);
            lp_tensor_free(b);
        }
        LP_CHECK(last != LP_STATUS_OK && last != LP_STATUS_EOF && rows > 0 && rows < 60 &&
                 strstr(lp_last_error(), "lp_predict_stream_next") != NULL);
        lp_tensor *a = NULL, *b = NULL;
        LP_CHECK(lp_predict_stream_next(bad, &start, &a, &b) == last); /* sticky */
        lp_predict_stream_free(bad);
        bad = NULL;
        LP_CHECK(lp_predict_video(tcn, cut, &pp, names, NULL, cut_csv, NULL, NULL) != LP_STATUS_OK);
        LP_CHECK(access(cut_csv, F_OK) != 0);
    } else {
        LP_SKIP("ffmpeg cannot make a cut video");
    }
    pp.sequence_length = 4;
    LP_CHECK_FAILS(lp_predict_stream_open(tcn, video, &pp, &bad), LP_STATUS_BAD_ARG, "sequence_length");
    LP_CHECK_FAILS(lp_predict_draw_video("/nonexistent.mp4", csv, labeled, 0.9), LP_STATUS_IO,
                   "lp_predict_draw_video");
}


/* An ensemble decodes each frame once and writes, for each member, the file
 * that member alone would have written (the same windows: byte-identical). */
static void test_ensemble(lp_model *tcn, lp_model *sf) {
    char video[512];
    snprintf(video, sizeof video, "%s/v23.mp4", g_dir);
    if (access(video, F_OK) != 0) {
        LP_SKIP("no test video for the ensemble");
        return;
    }
    lp_model *other = lp_test_model(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 3, 64, 64, 8);
    if (!LP_CHECK(other != NULL)) return;
    const char *names[3] = {"a", "b", "c"};
    lp_predict_params pp = lp_predict_default_params();
    pp.sequence_length = 8;
    char alone[2][512], member[3][512], norm[3][512];
    lp_model *models[3] = {tcn, other, tcn};
    for (int i = 0; i < 3; ++i) {
        snprintf(member[i], sizeof member[i], "%s/ens_%d.csv", g_dir, i);
        snprintf(norm[i], sizeof norm[i], "%s/ens_%d_tn.csv", g_dir, i);
    }
    for (int i = 0; i < 2; ++i) {
        snprintf(alone[i], sizeof alone[i], "%s/alone_%d.csv", g_dir, i);
        LP_CHECK_OK(lp_predict_video(models[i], video, &pp, names, NULL, alone[i], NULL, NULL));
    }
    const char *csvs[3] = {member[0], member[1], member[2]};
    const char *norms[3] = {norm[0], norm[1], norm[2]};
    lp_predict_stats stats[3];
    memset(stats, 0, sizeof stats);
    LP_CHECK_OK(lp_predict_video_ensemble(models, 3, video, &pp, names, NULL, csvs, norms, stats));
    for (int i = 0; i < 3; ++i) {
        char *a = slurp(alone[i == 1]), *b = slurp(member[i]);
        LP_CHECK(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
        LP_CHECK(stats[i].n_frames == 23 && stats[i].n_backbone_frames == 23);
        LP_CHECK(access(norm[i], F_OK) == 0);
    }
    /* a TCN and a single-frame model cut the same windows (T new frames
     * each): one ensemble, each member's file as it writes it alone */
    char mix[2][512], sf_alone[512];
    snprintf(sf_alone, sizeof sf_alone, "%s/alone_sf.csv", g_dir);
    LP_CHECK_OK(lp_predict_video(sf, video, &pp, names, NULL, sf_alone, NULL, NULL));
    for (int i = 0; i < 2; ++i) snprintf(mix[i], sizeof mix[i], "%s/mix_%d.csv", g_dir, i);
    lp_model *mixed[2] = {tcn, sf};
    const char *mixes[2] = {mix[0], mix[1]};
    LP_CHECK_OK(lp_predict_video_ensemble(mixed, 2, video, &pp, names, NULL, mixes, NULL, NULL));
    for (int i = 0; i < 2; ++i) {
        char *a = slurp(i ? sf_alone : alone[0]), *b = slurp(mix[i]);
        LP_CHECK(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
    /* members that cut different windows (another input size): refused,
     * no file left behind */
    char bad[2][512];
    for (int i = 0; i < 2; ++i) snprintf(bad[i], sizeof bad[i], "%s/bad_%d.csv", g_dir, i);
    lp_model *wide = lp_test_model(LP_MODEL_TYPE_HEATMAP, LP_BACKBONE_RESNET18, 3, 64, 128, 8);
    lp_model *unlike[2] = {tcn, wide};
    const char *bads[2] = {bad[0], bad[1]};
    if (LP_CHECK(wide != NULL))
        LP_CHECK_FAILS(lp_predict_video_ensemble(unlike, 2, video, &pp, names, NULL, bads, NULL, NULL),
                       LP_STATUS_BAD_ARG, "one by one");
    LP_CHECK(access(bad[0], F_OK) != 0 && access(bad[1], F_OK) != 0);
    lp_model_free(wide);
    lp_model_free(other);
}

int main(void) {
    lp_runtime_init(2);
    if (!mkdtemp(g_dir)) LP_SKIP_ALL("cannot create a temporary directory");
    test_format();
    test_csv();
    lp_model *tcn = make_model(LP_MODEL_TYPE_HEATMAP_MHCRNN, 3);
    lp_model *sf = make_model(LP_MODEL_TYPE_HEATMAP, 3);
    LP_CHECK(tcn != NULL && sf != NULL);
    if (tcn && sf) {
        lp_tensor *all = NULL;
        const int64_t shape[4] = {24, 3, 64, 64};
        LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 3, &all));
        test_stream_vs_batch(tcn, sf, all);
        test_heads_reference(tcn, sf, all);
        lp_tensor_free(all);
        test_video(tcn);
        test_ensemble(tcn, sf);
        LP_CHECK(lp_grad_is_enabled() == 1);
        LP_CHECK(lp_model_is_training(tcn) == 0);
        /* a stream puts a training model in eval mode and restores it */
        lp_tensor *few = NULL;
        const int64_t shape5[4] = {6, 3, 64, 64};
        LP_CHECK_OK(lp_tensor_zeros(shape5, 4, LP_DTYPE_F32, LP_DEVICE_CPU, &few));
        lp_model_set_training(tcn, 1);
        lp_predict_stream *s = NULL;
        LP_CHECK_OK(lp_predict_stream_open_frames(tcn, few, 0, 0, NULL, &s));
        LP_CHECK(lp_model_is_training(tcn) == 0);
        lp_predict_stream_free(s);
        LP_CHECK(lp_model_is_training(tcn) == 1);
        lp_tensor_free(few);
    }
    lp_model_free(tcn);
    lp_model_free(sf);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", g_dir);
    LP_DONE();
}
