/* test_synth.c: the synthetic project generator and the PNG writer. */
#include <stdint.h>
#include <unistd.h>

#include "lp_test.h"

static char *slurp(const char *path, long *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)*n + 1);
    if (buf && fread(buf, 1, (size_t)*n, fp) != (size_t)*n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[*n] = '\0';
    fclose(fp);
    return buf;
}

/* 1 if dir_a/rel and dir_b/rel exist and are byte-identical. */
static int same_file_q(const char *a, const char *b, const char *rel, int quiet) {
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/%s", a, rel);
    snprintf(pb, sizeof pb, "%s/%s", b, rel);
    long na = 0, nb = 0;
    char *fa = slurp(pa, &na), *fb = slurp(pb, &nb);
    int same = fa && fb && na == nb && memcmp(fa, fb, (size_t)na) == 0;
    if (!same && !quiet) printf("#   differs: %s\n", rel);
    free(fa);
    free(fb);
    return same;
}

static int same_file(const char *a, const char *b, const char *rel) { return same_file_q(a, b, rel, 0); }

static lp_synth_params small_params(void) {
    lp_synth_params p = lp_synth_default_params();
    p.n_videos = 2;
    p.n_frames = 40;
    p.width = 64;
    p.height = 64;
    p.n_labeled_per_video = 8;
    p.occluder_rate = 8;
    p.seed = 7;
    return p;
}

static void test_params(void) {
    lp_synth_params p = lp_synth_default_params();
    LP_CHECK(p.n_videos == 4 && p.n_frames == 300 && p.n_keypoints == 6);
    LP_CHECK(p.width == 128 && p.height == 128 && p.n_labeled_per_video == 20);
    LP_CHECK_OK(lp_synth_check_params(&p));
    p.width = 65;
    LP_CHECK_FAILS(lp_synth_check_params(&p), LP_STATUS_BAD_ARG, "size");
    p = lp_synth_default_params();
    p.n_labeled_per_video = 297;
    LP_CHECK_FAILS(lp_synth_check_params(&p), LP_STATUS_BAD_ARG, "n_labeled_per_video");
    p = lp_synth_default_params();
    p.index_width = 2;
    LP_CHECK_FAILS(lp_synth_generate(&p, "/tmp/never"), LP_STATUS_BAD_ARG, "index_width");
    char name[32];
    LP_CHECK_OK(lp_synth_keypoint_name(6, 4, sizeof name, name));
    LP_CHECK(strcmp(name, "tail_base") == 0);
    LP_CHECK_OK(lp_synth_keypoint_name(4, 1, sizeof name, name));
    LP_CHECK(strcmp(name, "kp01") == 0);
    LP_CHECK_FAILS(lp_synth_keypoint_name(6, 6, sizeof name, name), LP_STATUS_BAD_ARG,
                   "lp_synth_keypoint_name");
    p = lp_synth_default_params();
    int64_t idx[32], n = 0;
    LP_CHECK_OK(lp_synth_labeled_frames(&p, 0, 32, idx, &n));
    int ok = n == 20 && idx[0] >= 2 && idx[n - 1] <= 297;
    for (int i = 1; i < n; i++) ok &= idx[i] > idx[i - 1];
    LP_CHECK(ok);
    LP_CHECK_OK(lp_synth_labeled_frames(&p, 3, 32, idx, &n));
    LP_CHECK(n == 0); /* the held-out video */
}

/* Motion over many seeds with the default size: in frame, smooth, occluded now and then. */
static void test_motion(void) {
    lp_synth_params p = lp_synth_default_params();
    int K = p.n_keypoints, F = p.n_frames;
    float *xy = malloc(sizeof(float) * (size_t)F * K * 2);
    uint8_t *occ = malloc((size_t)F * K);
    double min_x = 1e9, max_x = -1e9, min_y = 1e9, max_y = -1e9, max_step = 0, max_acc = 0;
    double max_seg_change = 0, seg0[16];
    long n_occ_frames = 0, n_frames = 0, n_fail = 0;
    for (int seed = 0; seed < 10; seed++) {
        p.seed = (uint64_t)seed;
        for (int v = 0; v < p.n_videos; v++) {
            if (lp_synth_keypoints(&p, v, xy, occ) != LP_STATUS_OK) {
                n_fail++;
                continue;
            }
            for (int f = 0; f < F; f++) {
                int any = 0;
                for (int k = 0; k < K; k++) {
                    const float *q = xy + ((size_t)f * K + k) * 2;
                    if (q[0] < min_x) min_x = q[0];
                    if (q[0] > max_x) max_x = q[0];
                    if (q[1] < min_y) min_y = q[1];
                    if (q[1] > max_y) max_y = q[1];
                    if (f >= 1) {
                        double dx = q[0] - q[-2 * K], dy = q[1] - q[1 - 2 * K];
                        double s = sqrt(dx * dx + dy * dy);
                        if (s > max_step) max_step = s;
                    }
                    if (f >= 2) {
                        double ax = q[0] - 2 * q[-2 * K] + q[-4 * K];
                        double ay = q[1] - 2 * q[1 - 2 * K] + q[1 - 4 * K];
                        double a = sqrt(ax * ax + ay * ay);
                        if (a > max_acc) max_acc = a;
                    }
                    if (k + 1 < K) {
                        double dx = q[2] - q[0], dy = q[3] - q[1], l = sqrt(dx * dx + dy * dy);
                        if (f == 0) seg0[k] = l;
                        else if (fabs(l - seg0[k]) > max_seg_change) max_seg_change = fabs(l - seg0[k]);
                    }
                    any |= occ[(size_t)f * K + k];
                }
                n_occ_frames += any;
                n_frames++;
            }
        }
    }
    printf("# keypoints x %.1f..%.1f y %.1f..%.1f, max step %.2f px, max accel %.2f px, "
           "occluded frames %ld/%ld\n",
           min_x, max_x, min_y, max_y, max_step, max_acc, n_occ_frames, n_frames);
    LP_CHECK(n_fail == 0);
    LP_CHECK(min_x >= 0 && max_x <= p.width - 1 && min_y >= 0 && max_y <= p.height - 1);
    LP_CHECK(max_x - min_x > 0.6 * p.width && max_y - min_y > 0.6 * p.height); /* they do move */
    LP_CHECK(max_step <= 0.08 * p.width);                                      /* smooth */
    LP_CHECK(max_acc <= 0.01 * p.width);
    LP_CHECK(max_seg_change < 1e-3 * p.width); /* fixed segment lengths */
    LP_CHECK(n_occ_frames > n_frames / 50 && n_occ_frames < n_frames / 3);
    free(xy);
    free(occ);
}

static void test_png(const char *dir) {
    uint8_t img[6 * 4 * 3], gray[6 * 4];
    for (int i = 0; i < 6 * 4 * 3; i++) img[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 6 * 4; i++) gray[i] = (uint8_t)(i * 11);
    char path[512];
    snprintf(path, sizeof path, "%s/rgb.png", dir);
    LP_CHECK_OK(lp_image_write_png(path, img, 6, 4, 3, 18));
    uint8_t back[6 * 4 * 3];
    int64_t size[2] = {0, 0};
    LP_CHECK_OK(lp_image_read_rgb_into(path, sizeof back, back, size));
    LP_CHECK(size[0] == 4 && size[1] == 6 && memcmp(back, img, sizeof img) == 0);
    snprintf(path, sizeof path, "%s/gray.png", dir);
    LP_CHECK_OK(lp_image_write_png(path, gray, 6, 4, 1, 6));
    LP_CHECK_OK(lp_image_read_rgb_into(path, sizeof back, back, size));
    int ok = 1;
    for (int i = 0; i < 24; i++) ok &= back[3 * i] == gray[i] && back[3 * i + 2] == gray[i];
    LP_CHECK(ok);
    LP_CHECK_FAILS(lp_image_write_png(path, gray, 6, 4, 2, 12), LP_STATUS_BAD_ARG, "lp_image_write_png");
    LP_CHECK_FAILS(lp_image_write_png("/nonexistent-dir/x.png", gray, 6, 4, 1, 6), LP_STATUS_IO,
                   "lp_image_write_png");
}

static void test_generate(const char *root) {
    lp_synth_params p = small_params();
    int K = p.n_keypoints, W = p.width, H = p.height;
    char a[512], b[512], c[512], path[1024], rel[256];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b/nested", root);
    snprintf(c, sizeof c, "%s/c", root);
    LP_CHECK_OK(lp_synth_generate(&p, a));
    LP_CHECK_OK(lp_synth_generate(&p, b));

    /* Same seed => same bytes. */
    LP_CHECK(same_file(a, b, "CollectedData.csv"));
    LP_CHECK(same_file(a, b, "metadata.json"));
    LP_CHECK(same_file(a, b, "videos_gt/synth_00.csv") && same_file(a, b, "videos_gt/synth_01.csv"));
    LP_CHECK(same_file(a, b, "videos_gt/synth_00_occluded.csv"));
    LP_CHECK(same_file(a, b, "videos/synth_00.mp4") && same_file(a, b, "videos_test/synth_01.mp4"));
    int64_t idx[16], n = 0;
    LP_CHECK_OK(lp_synth_labeled_frames(&p, 0, 16, idx, &n));
    int png_same = n == 8;
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = idx[i] - 2; f <= idx[i] + 2; f++) {
            snprintf(rel, sizeof rel, "labeled-data/synth_00/img%04lld.png", (long long)f);
            png_same &= same_file(a, b, rel);
        }
    LP_CHECK(png_same);
    snprintf(path, sizeof path, "%s/labeled-data/synth_01", a);
    LP_CHECK(access(path, F_OK) != 0); /* held-out video: no labeled frames */

    /* Another seed => other labels. */
    p.seed = 8;
    LP_CHECK_OK(lp_synth_generate(&p, c));
    LP_CHECK(!same_file_q(a, c, "CollectedData.csv", 1)); /* another seed, other labels */
    p.seed = 7;

    /* The CSV reads as LP labels. */
    lp_labels *labels = NULL;
    snprintf(path, sizeof path, "%s/CollectedData.csv", a);
    LP_CHECK_OK(lp_labels_read(path, a, &labels));
    if (labels) {
        LP_CHECK(lp_labels_n_frames(labels) == 8);
        LP_CHECK(lp_labels_n_keypoints(labels) == K);
        LP_CHECK(strcmp(lp_labels_keypoint_name(labels, 0), "nose") == 0);
        LP_CHECK(strcmp(lp_labels_keypoint_name(labels, 5), "tail_tip") == 0);
        LP_CHECK(strcmp(lp_labels_scorer(labels), "lpose_synth") == 0);
        LP_CHECK(strcmp(lp_labels_image_path(labels, 0), "labeled-data/synth_00/img0004.png") == 0);
        /* Labels equal the ground truth at those frames. */
        float *xy = malloc(sizeof(float) * (size_t)p.n_frames * K * 2);
        LP_CHECK_OK(lp_synth_keypoints(&p, 0, xy, NULL));
        const float *lab = lp_labels_keypoints_data(labels);
        double max_err = 0;
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < 2 * K; k++) {
                double e = fabs(lab[i * 2 * K + k] - xy[idx[i] * 2 * K + k]);
                if (e > max_err) max_err = e;
            }
        LP_CHECK(max_err < 1e-3);
        free(xy);
        lp_labels_free(labels);
    }

    /* Labeled PNGs are the decoded video frames, and close to the rendering. */
    lp_video *video = NULL;
    snprintf(path, sizeof path, "%s/videos/synth_00.mp4", a);
    LP_CHECK_OK(lp_video_open(path, 1, &video));
    if (video) {
        LP_CHECK(lp_video_n_frames(video) == p.n_frames && lp_video_width(video) == W);
        uint8_t *frame = malloc((size_t)W * H * 3), *png = malloc((size_t)W * H * 3),
                *rend = malloc((size_t)W * H * 3);
        int exact = 1, sized = 1;
        double worst_mean = 0;
        for (int64_t i = 0; i < n; i++) {
            for (int64_t f = idx[i] - 2; f <= idx[i] + 2; f++) {
                snprintf(path, sizeof path, "%s/labeled-data/synth_00/img%04lld.png", a, (long long)f);
                int64_t size[2] = {0, 0};
                if (lp_image_read_rgb_into(path, (int64_t)W * H * 3, png, size) != LP_STATUS_OK ||
                    size[0] != H || size[1] != W) {
                    sized = 0;
                    continue;
                }
                if (lp_video_read_frame_rgb_into(video, f, frame) != LP_STATUS_OK) {
                    exact = 0;
                    continue;
                }
                exact &= memcmp(frame, png, (size_t)W * H * 3) == 0;
                if (f != idx[i]) continue;
                lp_synth_render_frame(&p, 0, f, rend);
                double sum = 0;
                for (int j = 0; j < W * H * 3; j++) sum += abs((int)rend[j] - (int)frame[j]);
                if (sum / (W * H * 3) > worst_mean) worst_mean = sum / (W * H * 3);
            }
        }
        printf("# worst mean |render - decoded video| on labeled frames: %.2f grey levels\n", worst_mean);
        LP_CHECK(sized);
        LP_CHECK(exact);
        LP_CHECK(worst_mean < 3.0);
        LP_CHECK(lp_video_n_seeks(video) <= 2 * n + 2);
        free(frame);
        free(png);
        free(rend);
        lp_video_free(video);
    }

    /* The ground-truth CSV holds every frame in LP's prediction layout. */
    long len = 0;
    snprintf(path, sizeof path, "%s/videos_gt/synth_01.csv", a);
    char *gt = slurp(path, &len);
    int lines = 0;
    for (long i = 0; gt && i < len; i++) lines += gt[i] == '\n';
    LP_CHECK(gt && lines == 3 + p.n_frames);
    LP_CHECK(gt && strncmp(gt, "scorer,lpose_synth", 18) == 0 && strstr(gt, "\ncoords,x,y,likelihood,x"));
    free(gt);
    snprintf(path, sizeof path, "%s/videos_gt/synth_00_occluded.csv", a);
    gt = slurp(path, &len);
    LP_CHECK(gt && strncmp(gt, ",nose,head,neck,back,tail_base,tail_tip\n0,", 42) == 0);
    free(gt);
}

int main(void) {
    char root[] = "/tmp/lp_test_synth_XXXXXX";
    if (!mkdtemp(root)) LP_SKIP_ALL("cannot create a temporary directory");
    test_params();
    test_motion();
    test_png(root);
    test_generate(root);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("# could not remove %s\n", root);
    LP_DONE();
}
