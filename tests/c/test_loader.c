/* test_loader.c: labeled dataset + threaded loader (docs/spec/lp-data-train.md §1.3-1.7)
 * on a generated BMP fixture and on ../shared/data/mirror-mouse-example. */
#include <sys/stat.h>
#include <unistd.h>

#include "lp_test.h"

enum { FH = 40, FW = 48, NROWS = 6 };

/* 24-bit BMP of a constant grey value. */
static int write_bmp(const char *path, int h, int w, int value) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int row = (w * 3 + 3) & ~3, size = 54 + row * h;
    uint8_t hd[54] = {'B', 'M'};
    memcpy(hd + 2, &size, 4);
    hd[10] = 54, hd[14] = 40;
    memcpy(hd + 18, &w, 4);
    memcpy(hd + 22, &h, 4);
    hd[26] = 1, hd[28] = 24;
    fwrite(hd, 1, 54, f);
    uint8_t *r = calloc(1, row);
    memset(r, value, w * 3);
    for (int y = 0; y < h; ++y) fwrite(r, 1, row, f);
    free(r);
    fclose(f);
    return 1;
}

static char dir[256];

static void make_fixture(void) {
    snprintf(dir, sizeof dir, "/tmp/lpose_test_loader_%d", (int)getpid());
    char p[512];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/labeled-data", dir);
    mkdir(p, 0755);
    for (int i = 0; i <= NROWS + 3; ++i) {
        snprintf(p, sizeof p, "%s/labeled-data/img%02d.bmp", dir, i);
        write_bmp(p, FH, FW, 20 * i);
    }
    snprintf(p, sizeof p, "%s/CollectedData.csv", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "scorer,me,me,me,me\nbodyparts,a,a,b,b\ncoords,x,y,x,y\n");
    for (int i = 2; i < 2 + NROWS; ++i) fprintf(f, "labeled-data/img%02d.bmp,%d.5,%d,,\n", i, 4 * i, 3 * i);
    fclose(f);
    snprintf(p, sizeof p, "%s/lr.csv", dir);
    f = fopen(p, "w");
    fprintf(f, "scorer,me,me,me,me\nbodyparts,paw_right,paw_right,paw_left,paw_left\ncoords,x,y,x,y\n"
               "labeled-data/img02.bmp,10,20,30,5\n");
    fclose(f);
    snprintf(p, sizeof p, "%s/bad_lr.csv", dir);
    f = fopen(p, "w");
    fprintf(f, "scorer,me,me,me,me\nbodyparts,paw_left,paw_left,b,b\ncoords,x,y,x,y\nlabeled-data/img02.bmp,10,20,30,5\n");
    fclose(f);
}

static void remove_fixture(void) {
    char p[512];
    for (int i = 0; i <= NROWS + 3; ++i) {
        snprintf(p, sizeof p, "%s/labeled-data/img%02d.bmp", dir, i);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/CollectedData.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lr.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/bad_lr.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/labeled-data", dir);
    rmdir(p);
    rmdir(dir);
}

static void fixture_tests(void) {
    make_fixture();
    lp_dataset_params dp = lp_dataset_default_params();
    dp.height = 32, dp.width = 64, dp.context = 1;
    lp_dataset *ds = NULL;
    LP_CHECK_OK(lp_dataset_open("CollectedData.csv", dir, &dp, &ds)); /* relative to data_dir */
    LP_CHECK(lp_dataset_n_frames(ds) == NROWS && lp_dataset_n_keypoints(ds) == 2);
    /* row 1 = img03: context img01..img05, each a constant grey 20*i */
    lp_tensor *im = NULL, *kp = NULL, *hm = NULL;
    LP_CHECK_OK(lp_dataset_get(ds, 1, 0, 0, &im, &kp, &hm));
    LP_CHECK(lp_tensor_dim(im) == 4 && lp_tensor_size(im, 0) == 5 && lp_tensor_size(im, 1) == 3 &&
             lp_tensor_size(im, 2) == 32 && lp_tensor_size(im, 3) == 64);
    LP_CHECK(lp_tensor_size(hm, 0) == 2 && lp_tensor_size(hm, 1) == 8 && lp_tensor_size(hm, 2) == 16);
    static float buf[5 * 3 * 32 * 64];
    float k[4];
    LP_CHECK_OK(lp_tensor_to_buffer(im, buf, sizeof buf));
    LP_CHECK_OK(lp_tensor_to_buffer(kp, k, sizeof k));
    int order_ok = 1;
    for (int f = 0; f < 5; ++f) {
        double want = (20.0 * (1 + f) / 255.0 - 0.485) / 0.229;
        order_ok &= fabs(buf[f * 3 * 32 * 64 + 100] - want) < 1e-4;
    }
    LP_CHECK(order_ok);
    LP_CHECK_CLOSE(k[0], 12.5 * 64 / 48.0, 1e-4);
    LP_CHECK_CLOSE(k[1], 9.0 * 32 / 40.0, 1e-4);
    LP_CHECK(isnan(k[2]) && isnan(k[3]));
    lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm);
    LP_CHECK_FAILS(lp_dataset_get(ds, NROWS, 0, 0, &im, &kp, &hm), LP_STATUS_BAD_ARG, "lp_dataset_get");

    /* loader: every index once per epoch, EOF, a new order next epoch, shapes */
    int64_t idx[NROWS] = {0, 1, 2, 3, 4, 5};
    lp_loader_params lpp = lp_loader_default_params();
    lpp.batch_size = 4, lpp.seed = 3;
    lp_loader *L = NULL;
    LP_CHECK_OK(lp_loader_open(ds, idx, NROWS, &lpp, &L));
    LP_CHECK(lp_loader_n_batches(L) == 2);
    lp_tensor *ix = NULL, *bb = NULL;
    int64_t order[2][NROWS];
    int shapes_ok = 1;
    for (int e = 0; e < 2; ++e) {
        int seen[NROWS] = {0}, n = 0;
        lp_status st;
        while ((st = lp_loader_next(L, &im, &kp, &hm, &ix, &bb)) == LP_STATUS_OK) {
            int64_t B = lp_tensor_size(ix, 0), rows[4];
            shapes_ok &= lp_tensor_dim(im) == 5 && lp_tensor_size(im, 0) == B && lp_tensor_size(im, 1) == 5 &&
                         lp_tensor_size(kp, 0) == B && lp_tensor_size(hm, 0) == B && lp_tensor_size(hm, 3) == 16;
            lp_tensor_to_buffer(ix, rows, B * 8);
            float box[16]; /* LP's default bbox: 0, 0, original height, original width */
            shapes_ok &= lp_tensor_dim(bb) == 2 && lp_tensor_size(bb, 0) == B && lp_tensor_size(bb, 1) == 4 &&
                         lp_tensor_to_buffer(bb, box, B * 16) == LP_STATUS_OK && box[0] == 0 && box[1] == 0 &&
                         box[4 * (B - 1) + 2] == FH && box[4 * (B - 1) + 3] == FW;
            for (int i = 0; i < B; ++i) seen[rows[i]]++, order[e][n++] = rows[i];
            lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
        }
        LP_CHECK(st == LP_STATUS_EOF && n == NROWS);
        int once = 1;
        for (int i = 0; i < NROWS; ++i) once &= seen[i] == 1;
        LP_CHECK(once);
    }
    LP_CHECK(shapes_ok);
    LP_CHECK(memcmp(order[0], order[1], sizeof order[0]) != 0);
    LP_CHECK(lp_loader_epoch(L) == 2);
    lp_loader_free(L);

    /* no shuffle, drop_last, 1 worker: rows in order */
    lpp.shuffle = 0, lpp.drop_last = 1, lpp.n_workers = 1;
    LP_CHECK_OK(lp_loader_open(ds, idx + 1, 5, &lpp, &L));
    LP_CHECK(lp_loader_n_batches(L) == 1);
    LP_CHECK_OK(lp_loader_next(L, &im, &kp, &hm, &ix, &bb));
    int64_t rows[4];
    lp_tensor_to_buffer(ix, rows, sizeof rows);
    LP_CHECK(rows[0] == 1 && rows[3] == 4);
    lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
    LP_CHECK(lp_loader_next(L, &im, &kp, &hm, &ix, &bb) == LP_STATUS_EOF && im == NULL);
    lp_loader_free(L);
    LP_CHECK_FAILS(lp_loader_open(ds, (int64_t[]){7}, 1, &lpp, &L), LP_STATUS_BAD_ARG, "lp_loader_open");

    /* single-frame model: (3,H,W) examples, (B,3,H,W) batches */
    {
        lp_dataset_params sp = dp;
        sp.context = 0;
        lp_dataset *dss = NULL;
        LP_CHECK_OK(lp_dataset_open("CollectedData.csv", dir, &sp, &dss));
        LP_CHECK_OK(lp_dataset_get(dss, 0, 1, 5, &im, &kp, &hm));
        LP_CHECK(lp_tensor_dim(im) == 3 && lp_tensor_size(im, 0) == 3 && lp_tensor_size(im, 1) == 32);
        lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm);
        lp_loader *Ls = NULL;
        LP_CHECK_OK(lp_loader_open(dss, idx, NROWS, NULL, &Ls));
        LP_CHECK_OK(lp_loader_next(Ls, &im, &kp, &hm, &ix, &bb));
        LP_CHECK(lp_tensor_dim(im) == 4 && lp_tensor_size(im, 0) == NROWS && lp_tensor_size(im, 1) == 3);
        lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
        lp_loader_free(Ls);
        lp_dataset_free(dss);
    }

    /* hflip: _left/_right partners swap; a missing partner is an error */
    {
        lp_dataset_params hp = dp;
        hp.hflip = 1, hp.context = 0, hp.height = FH, hp.width = FW;
        lp_dataset *dsh = NULL;
        LP_CHECK_FAILS(lp_dataset_open("bad_lr.csv", dir, &hp, &dsh), LP_STATUS_BAD_ARG, "paw_right");
        LP_CHECK_OK(lp_dataset_open("lr.csv", dir, &hp, &dsh));
        int flips = 0, ok = 1;
        for (uint64_t seed = 0; seed < 16; ++seed) {
            LP_CHECK_OK(lp_dataset_get(dsh, 0, 1, seed, &im, &kp, &hm));
            float kk[4];
            lp_tensor_to_buffer(kp, kk, sizeof kk);
            if (kk[0] != 10) { /* flipped: right <- flipped left, left <- flipped right */
                ++flips;
                ok &= kk[0] == FW - 30 && kk[1] == 5 && kk[2] == FW - 10 && kk[3] == 20;
            } else {
                ok &= kk[1] == 20 && kk[2] == 30;
            }
            lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm);
        }
        LP_CHECK(ok && flips > 2 && flips < 14);
        lp_dataset_free(dsh);
    }

    /* determinism: same seed -> same batches whatever the number of workers */
    {
        lp_dataset_params ap = dp;
        ap.imgaug = "dlc", ap.hflip = 0;
        lp_dataset *dsa = NULL;
        LP_CHECK_OK(lp_dataset_open("CollectedData.csv", dir, &ap, &dsa));
        static float run[2][NROWS * 5 * 3 * 32 * 64];
        int64_t rows_run[2][NROWS];
        for (int r = 0; r < 2; ++r) {
            lp_loader_params q = lp_loader_default_params();
            q.batch_size = 2, q.seed = 11, q.n_workers = r ? 3 : 1, q.prefetch = r ? 2 : 1;
            lp_loader *La = NULL;
            LP_CHECK_OK(lp_loader_open(dsa, idx, NROWS, &q, &La));
            int at = 0;
            while (lp_loader_next(La, &im, &kp, &hm, &ix, &bb) == LP_STATUS_OK) {
                lp_tensor_to_buffer(im, run[r] + at * 5 * 3 * 32 * 64, 2 * 5 * 3 * 32 * 64 * 4);
                lp_tensor_to_buffer(ix, rows_run[r] + at, 2 * 8);
                at += 2;
                lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
            }
            lp_loader_free(La);
        }
        LP_CHECK(!memcmp(rows_run[0], rows_run[1], sizeof rows_run[0]));
        LP_CHECK(!memcmp(run[0], run[1], sizeof run[0]));
        lp_dataset_free(dsa);
    }

    /* a worker error (image deleted after open) surfaces with the file name */
    char p[512];
    snprintf(p, sizeof p, "%s/labeled-data/img05.bmp", dir);
    unlink(p);
    lp_dataset_free(ds); /* a fresh dataset: the old one has every frame in its cache */
    ds = NULL;
    write_bmp(p, FH, FW, 100);
    LP_CHECK_OK(lp_dataset_open("CollectedData.csv", dir, &dp, &ds));
    unlink(p);
    lpp = lp_loader_default_params();
    lpp.batch_size = 1, lpp.shuffle = 0;
    LP_CHECK_OK(lp_loader_open(ds, idx, NROWS, &lpp, &L));
    int n_ok = 0, n_err = 0, named = 1;
    lp_status st;
    while ((st = lp_loader_next(L, &im, &kp, &hm, &ix, &bb)) != LP_STATUS_EOF) {
        if (st == LP_STATUS_OK) {
            ++n_ok;
            lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
        } else {
            ++n_err;
            named &= strstr(lp_last_error(), "img05.bmp") != NULL && im == NULL;
            if (n_err == 1) printf("# worker error: %s: %s\n", lp_status_name(st), lp_last_error());
        }
        if (n_ok + n_err > 10) break;
    }
    /* rows 1..5 (img03..img07) have img05 in their context; row 3 is img05 itself */
    LP_CHECK(n_err == 5 && n_ok == 1 && named);
    lp_loader_free(L);
    lp_dataset_free(ds);

    /* open errors */
    LP_CHECK_FAILS(lp_dataset_open("CollectedData.csv", dir, &dp, &ds), LP_STATUS_IO, "img05");
    snprintf(p, sizeof p, "%s/labeled-data/img05.bmp", dir);
    write_bmp(p, FH, FW, 100);
    dp.imgaug = "dlcx";
    LP_CHECK_FAILS(lp_dataset_open("CollectedData.csv", dir, &dp, &ds), LP_STATUS_BAD_ARG, "dlcx");
    remove_fixture();
}

static void mirror_mouse_tests(const char *root) {
    char csv[512];
    snprintf(csv, sizeof csv, "%s/CollectedData.csv", root);
    lp_dataset_params dp = lp_dataset_default_params();
    dp.height = 128, dp.width = 128, dp.imgaug = "dlc", dp.seed = 1;
    lp_dataset *ds = NULL;
    LP_CHECK_OK(lp_dataset_open(csv, root, &dp, &ds));
    if (!ds) return;
    LP_CHECK(lp_dataset_n_frames(ds) == 90 && lp_dataset_n_keypoints(ds) == 17);
    /* resize-only sample vs the labels and vs lp_context_load_stack (swscale bicubic) */
    lp_tensor *im = NULL, *kp = NULL, *hm = NULL, *ref = NULL;
    LP_CHECK_OK(lp_dataset_get(ds, 4, 0, 0, &im, &kp, &hm));
    float k[34];
    LP_CHECK_OK(lp_tensor_to_buffer(kp, k, sizeof k));
    const float *lab = lp_labels_keypoints_data(lp_dataset_labels(ds)) + 4 * 34;
    LP_CHECK_CLOSE(k[0], lab[0] * 128 / 396.0, 1e-3);
    LP_CHECK_CLOSE(k[1], lab[1] * 128 / 406.0, 1e-3);
    char img[512];
    snprintf(img, sizeof img, "%s/%s", root, lp_labels_image_path(lp_dataset_labels(ds), 4));
    LP_CHECK_OK(lp_context_load_stack(img, 128, 128, NULL, &ref));
    static float a[5 * 3 * 128 * 128], b[5 * 3 * 128 * 128];
    LP_CHECK_OK(lp_tensor_to_buffer(im, a, sizeof a));
    LP_CHECK_OK(lp_tensor_to_buffer(ref, b, sizeof b));
    double mad = 0;
    for (int i = 0; i < 5 * 3 * 128 * 128; ++i) mad += fabs(a[i] - b[i]);
    mad /= 5 * 3 * 128 * 128;
    printf("# mean |ours - lp_context_load_stack| = %.4f (normalised units)\n", mad);
    LP_CHECK(mad < 0.05);
    lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ref);

    /* the train split through a 2-worker loader with dlc augmentation */
    int64_t perm[90], sizes[3];
    LP_CHECK_OK(lp_split_indices(90, 0.8, 0.1, 42, 1, perm, sizes));
    lp_loader_params lpp = lp_loader_default_params();
    lpp.batch_size = 16, lpp.seed = 42;
    lp_loader *L = NULL;
    LP_CHECK_OK(lp_loader_open(ds, perm, sizes[0], &lpp, &L));
    int n = 0, nan_ok = 1, finite = 1;
    lp_tensor *ix = NULL, *bb = NULL;
    lp_status st;
    static float kb[16 * 34];
    while ((st = lp_loader_next(L, &im, &kp, &hm, &ix, &bb)) == LP_STATUS_OK) {
        int64_t B = lp_tensor_size(ix, 0);
        n += (int)B;
        lp_tensor_to_buffer(kp, kb, B * 34 * 4);
        for (int i = 0; i < B * 17; ++i)
            if (!isnan(kb[2 * i])) nan_ok &= kb[2 * i] >= 0 && kb[2 * i] < 128 && kb[2 * i + 1] >= 0 && kb[2 * i + 1] < 128;
        static float ib[16 * 5 * 3 * 128 * 128];
        lp_tensor_to_buffer(im, ib, B * 5 * 3 * 128 * 128 * 4);
        for (int64_t i = 0; i < B * 5 * 3 * 128 * 128; i += 7) finite &= isfinite(ib[i]);
        lp_tensor_free(im), lp_tensor_free(kp), lp_tensor_free(hm), lp_tensor_free(ix), lp_tensor_free(bb);
    }
    LP_CHECK(st == LP_STATUS_EOF && n == 72);
    LP_CHECK(nan_ok);
    LP_CHECK(finite);
    lp_loader_free(L);
    lp_dataset_free(ds);
}

int main(void) {
    fixture_tests();
    const char *root = "../shared/data/mirror-mouse-example";
    if (access(root, R_OK) == 0) mirror_mouse_tests(root);
    else LP_SKIP("../shared/data/mirror-mouse-example absent");
    LP_DONE();
}
