/* test_weights.c: the torch.save reader (lp_pickle_load) and weight loading
 * (torchvision, MMPose, Lightning Pose layouts), plus numerical parity of a
 * resnet18 heatmap_mhcrnn forward and decode against PyTorch. The reference
 * files are generated at test time by tests/fixtures/gen_model_fixtures.py
 * with /usr/bin/python3 (skipped when torch is not importable); one tiny
 * committed file (tests/fixtures/models/) is always read. */
#include <stdlib.h>
#include <unistd.h>

#include "lp_test.h"

static char dir[256];

static const char *path_of(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static lp_tensor *get(const lp_tensor_list *l, const char *name) {
    lp_tensor *t = NULL;
    int32_t i = lp_tensor_list_find(l, name);
    if (i >= 0 && lp_tensor_list_get(l, i, &t) != LP_STATUS_OK) t = NULL;
    return t;
}

static double max_abs_diff(const lp_tensor *a, const lp_tensor *b) {
    lp_tensor *d = NULL, *ad = NULL, *m = NULL, *a32 = NULL, *b32 = NULL;
    double v = 1e30;
    if (!a || !b) return v;
    if (lp_tensor_to(a, LP_DTYPE_F64, LP_DEVICE_CPU, &a32) == LP_STATUS_OK &&
        lp_tensor_to(b, LP_DTYPE_F64, LP_DEVICE_CPU, &b32) == LP_STATUS_OK &&
        lp_tensor_binary(LP_BINARY_SUB, a32, b32, &d) == LP_STATUS_OK &&
        lp_tensor_unary(LP_UNARY_ABS, d, &ad) == LP_STATUS_OK &&
        lp_tensor_reduce(LP_REDUCE_AMAX, ad, NULL, 0, 0, &m) == LP_STATUS_OK)
        lp_tensor_item(m, &v);
    lp_tensor_free(d);
    lp_tensor_free(ad);
    lp_tensor_free(m);
    lp_tensor_free(a32);
    lp_tensor_free(b32);
    return v;
}

static double value_at(const lp_tensor *t, int64_t flat_index) {
    lp_tensor *f = NULL, *c = NULL, *s = NULL;
    double v = NAN;
    int64_t shape[1] = {-1};
    if (lp_tensor_to(t, LP_DTYPE_F64, LP_DEVICE_CPU, &c) == LP_STATUS_OK &&
        lp_tensor_reshape(c, shape, 1, &f) == LP_STATUS_OK &&
        lp_tensor_select(f, 0, flat_index, &s) == LP_STATUS_OK)
        lp_tensor_item(s, &v);
    lp_tensor_free(f);
    lp_tensor_free(c);
    lp_tensor_free(s);
    return v;
}

/* the committed 2 KB file: works without python */
static void test_committed(void) {
    lp_tensor_list *l = NULL;
    LP_CHECK_OK(lp_pickle_load("tests/fixtures/models/tiny_state_dict.pt", &l));
    if (!l) return;
    LP_CHECK(lp_tensor_list_size(l) == 5);
    LP_CHECK(strcmp(lp_tensor_list_name(l, 0), "conv.weight") == 0); /* OrderedDict order */
    lp_tensor *w = get(l, "conv.weight"), *b = get(l, "conv.bias"), *n = get(l, "bn.num_batches_tracked");
    lp_tensor *h = get(l, "half"), *t = get(l, "transposed");
    LP_CHECK(w && lp_tensor_size(w, 0) == 2 && lp_tensor_size(w, 1) == 3 && value_at(w, 5) == 5.0);
    LP_CHECK(b && value_at(b, 0) == -1.5 && value_at(b, 1) == 2.5);
    LP_CHECK(n && lp_tensor_dtype(n) == LP_DTYPE_I64 && lp_tensor_dim(n) == 0 && value_at(n, 0) == 7.0);
    LP_CHECK(h && lp_tensor_dtype(h) == LP_DTYPE_F16 && value_at(h, 3) == 3.0);
    /* (3, 2) transposed view: row-major 0 3 1 4 2 5 */
    LP_CHECK(t && lp_tensor_size(t, 0) == 3 && value_at(t, 1) == 3.0 && value_at(t, 2) == 1.0);
    lp_tensor *all[] = {w, b, n, h, t};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    lp_tensor_list_free(l);
}

static lp_model *r18(int32_t type, int32_t k);

/* strict loads (docs/spec/checkpoint-files.md §5), from the model's own state: no python */
static void test_strict(void) {
    lp_model *m = r18(LP_MODEL_TYPE_HEATMAP, 3);
    lp_tensor_list *all = NULL, *part = NULL;
    lp_load_report rep = {0, 0, 0, 0};
    if (!m) return;
    LP_CHECK_OK(lp_model_state(m, &all));
    LP_CHECK_OK(lp_tensor_list_init(&part));
    int32_t n = lp_tensor_list_size(all), kept = 0, needed = 0;
    for (int32_t i = 0; i < n; ++i) {
        const char *name = lp_tensor_list_name(all, i);
        int counter = strstr(name, "num_batches_tracked") != NULL;
        needed += !counter;
        /* drop the head and every BN counter; keep the backbone */
        if (strncmp(name, "backbone.", 9) != 0 || counter) continue;
        lp_tensor *t = NULL;
        LP_CHECK_OK(lp_tensor_list_get(all, i, &t));
        lp_tensor_list_push(part, name, t);
        lp_tensor_free(t);
        ++kept;
    }
    LP_CHECK_FAILS(lp_model_load_weights(m, part, LP_WEIGHTS_LPOSE, 1, &rep), LP_STATUS_BAD_ARG,
                   "tensors the model needs are not in the weights (first: head_sf.");
    char want[64];
    snprintf(want, sizeof want, "%d of the %d tensors", needed - kept, needed);
    LP_CHECK(strstr(lp_last_error(), want) != NULL);
    LP_CHECK(rep.n_loaded == 0); /* out untouched */
    LP_CHECK_OK(lp_model_load_weights(m, part, LP_WEIGHTS_LPOSE, 0, &rep));
    LP_CHECK(rep.n_loaded == kept && rep.n_missing == needed - kept && rep.n_unexpected == 0);
    /* a backbone file needs only the backbone, without its BN counters */
    lp_tensor_list *bb = NULL;
    LP_CHECK_OK(lp_tensor_list_init(&bb));
    for (int32_t i = 0; i < lp_tensor_list_size(part); ++i) {
        lp_tensor *t = NULL;
        LP_CHECK_OK(lp_tensor_list_get(part, i, &t));
        lp_tensor_list_push(bb, lp_tensor_list_name(part, i) + 9, t); /* torchvision names */
        lp_tensor_free(t);
    }
    LP_CHECK_OK(lp_tensor_list_set_meta(bb, "epoch\nfc.note"));
    LP_CHECK_OK(lp_model_load_weights(m, bb, LP_WEIGHTS_BACKBONE, 1, &rep));
    LP_CHECK(rep.n_loaded == kept && rep.n_missing == 0 && rep.n_skipped == 2);
    LP_CHECK(strcmp(lp_model_load_report_keys(m, 2), "epoch\nfc.note") == 0);
    lp_tensor_list_free(bb);
    lp_tensor_list_free(part);
    lp_tensor_list_free(all);
    lp_model_free(m);
}

static void test_misc(void) {
    lp_tensor_list *l = NULL;
    LP_CHECK_OK(lp_pickle_load(path_of("misc.pt"), &l));
    if (!l) return;
    lp_tensor *h = get(l, "half"), *i32 = get(l, "int"), *i64 = get(l, "long"), *tr = get(l, "transposed");
    lp_tensor *view = get(l, "view"), *scalar = get(l, "scalar"), *nested = get(l, "nested/list/0");
    lp_tensor *b = get(l, "bool");
    LP_CHECK(h && lp_tensor_dtype(h) == LP_DTYPE_F16 && value_at(h, 5) == 5.0);
    LP_CHECK(i32 && lp_tensor_dtype(i32) == LP_DTYPE_I32 && value_at(i32, 4) == 4.0);
    LP_CHECK(i64 && lp_tensor_dtype(i64) == LP_DTYPE_I64 && value_at(i64, 0) == 1099511627776.0 &&
             value_at(i64, 1) == -3.0);
    LP_CHECK(b && lp_tensor_dtype(b) == LP_DTYPE_BOOL);
    /* transposed (4, 3): row-major values 0 4 8 1 5 9 ... */
    LP_CHECK(tr && lp_tensor_size(tr, 0) == 4 && value_at(tr, 1) == 4.0 && value_at(tr, 3) == 1.0);
    LP_CHECK(view && lp_tensor_numel(view) == 4 && value_at(view, 0) == 5.0);
    LP_CHECK(scalar && lp_tensor_dim(scalar) == 0 && value_at(scalar, 0) == 7.5);
    LP_CHECK(nested && lp_tensor_numel(nested) == 2);
    LP_CHECK(lp_tensor_list_find(l, "np") < 0 && strstr(lp_tensor_list_meta(l), "np") != NULL);
    LP_CHECK(lp_tensor_list_find(l, "cycle/0") >= 0 && lp_tensor_list_find(l, "cycle/1/0") < 0);
    lp_tensor_free(h);
    lp_tensor_free(i32);
    lp_tensor_free(i64);
    lp_tensor_free(tr);
    lp_tensor_free(view);
    lp_tensor_free(scalar);
    lp_tensor_free(nested);
    lp_tensor_free(b);
    lp_tensor_list_free(l);
}

static void test_errors(void) {
    lp_tensor_list *l = NULL;
    LP_CHECK_FAILS(lp_pickle_load(path_of("legacy.pt"), &l), LP_STATUS_UNSUPPORTED, "lp_pickle_load");
    LP_CHECK_FAILS(lp_pickle_load(path_of("nope.pt"), &l), LP_STATUS_IO, "lp_pickle_load");
    LP_CHECK(l == NULL);
    FILE *f = fopen(path_of("corrupt.pt"), "wb");
    if (f) {
        fputs("PK\x03\x04 this is not really a zip archive", f);
        fclose(f);
    }
    lp_status st = lp_pickle_load(path_of("corrupt.pt"), &l);
    LP_CHECK(st != LP_STATUS_OK && strstr(lp_last_error(), "lp_pickle_load") != NULL && l == NULL);
    LP_CHECK_FAILS(lp_pickle_load(path_of("custom_object.pt"), &l), LP_STATUS_UNSUPPORTED,
                   "global '__main__.Opaque' is not allowed");
}

static lp_model *r18(int32_t type, int32_t k) { return lp_test_model(type, LP_BACKBONE_RESNET18, k, 64, 64, 0); }

static void test_backbone_formats(void) {
    lp_model *m = r18(LP_MODEL_TYPE_HEATMAP, 17);
    lp_load_report rep = {0, 0, 0, 0};
    if (!m) return;
    LP_CHECK_OK(lp_model_load_weights_file(m, path_of("r18_tv.pt"), LP_WEIGHTS_BACKBONE, 1, &rep));
    LP_CHECK(rep.n_loaded == 120 && rep.n_missing == 0 && rep.n_unexpected == 2);
    LP_CHECK(strstr(lp_model_load_report_keys(m, 1), "fc.weight") != NULL);

    lp_tensor_list *tv = NULL;
    LP_CHECK_OK(lp_pickle_load(path_of("r18_tv.pt"), &tv));
    lp_tensor *ref = get(tv, "layer3.1.bn2.running_var"), *mine = NULL;
    LP_CHECK_OK(lp_model_tensor(m, lp_model_find_tensor(m, "backbone.layer3.1.bn2.running_var"), &mine));
    LP_CHECK(max_abs_diff(ref, mine) == 0.0);
    lp_tensor_free(ref);
    lp_tensor_free(mine);
    lp_tensor_list_free(tv);

    LP_CHECK_OK(lp_model_load_weights_file(m, path_of("mmpose.pth"), LP_WEIGHTS_BACKBONE, 1, &rep));
    LP_CHECK(rep.n_loaded == 120 && rep.n_missing == 0 && rep.n_unexpected == 2);
    LP_CHECK(strstr(lp_model_load_report_keys(m, 1), "keypoint_head.final_layer.bias") != NULL);
    lp_model_free(m);
}

static void test_lightning(void) {
    lp_model *m = r18(LP_MODEL_TYPE_HEATMAP_MHCRNN, 3);
    lp_load_report rep = {0, 0, 0, 0};
    if (!m) return;
    int32_t n_tensors = lp_model_n_tensors(m);
    LP_CHECK_OK(lp_model_load_weights_file(m, path_of("lp.ckpt"), LP_WEIGHTS_LIGHTNING, 1, &rep));
    LP_CHECK(rep.n_loaded == n_tensors && rep.n_missing == 0 && rep.n_unexpected == 0);
    if (rep.n_missing || rep.n_unexpected)
        printf("# missing: %s\n# unexpected: %s\n", lp_model_load_report_keys(m, 0),
               lp_model_load_report_keys(m, 1));

    lp_tensor_list *ref = NULL;
    LP_CHECK_OK(lp_pickle_load(path_of("lp_ref.pt"), &ref));
    lp_tensor *x = get(ref, "input"), *feats = NULL, *sf = NULL, *mf = NULL, *flat = NULL;
    LP_CHECK_OK(lp_model_set_training(m, 0));
    const int64_t fs[4] = {10, 3, 64, 64};
    LP_CHECK_OK(lp_tensor_reshape(x, fs, 4, &flat));
    LP_CHECK_OK(lp_model_forward_backbone(m, flat, &feats));
    LP_CHECK_OK(lp_model_forward(m, x, &sf, &mf));
    lp_tensor *rf = get(ref, "features"), *rsf = get(ref, "sf"), *rmf = get(ref, "mf");
    double d_feat = max_abs_diff(feats, rf), d_sf = max_abs_diff(sf, rsf), d_mf = max_abs_diff(mf, rmf);
    printf("# parity eval: features %.3g, sf %.3g, mf %.3g (max abs)\n", d_feat, d_sf, d_mf);
    LP_CHECK(d_feat < 1e-4);
    LP_CHECK(d_sf < 1e-5);
    LP_CHECK(d_mf < 1e-5);

    /* decode parity against the spec's algorithm in torch */
    lp_tensor *kp = NULL, *conf = NULL, *rkp = get(ref, "kp_sf"), *rconf = get(ref, "conf_sf");
    LP_CHECK_OK(lp_heatmaps_decode(rsf, 2, &kp, &conf));
    double d_kp = max_abs_diff(kp, rkp), d_conf = max_abs_diff(conf, rconf);
    printf("# parity decode (sf): keypoints %.3g px, confidences %.3g\n", d_kp, d_conf);
    LP_CHECK(d_kp < 1e-3);
    LP_CHECK(d_conf < 1e-4);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    lp_tensor_free(rkp);
    lp_tensor_free(rconf);
    rkp = get(ref, "kp_mf");
    rconf = get(ref, "conf_mf");
    LP_CHECK_OK(lp_heatmaps_decode(rmf, 2, &kp, &conf));
    LP_CHECK(max_abs_diff(kp, rkp) < 1e-3);
    LP_CHECK(max_abs_diff(conf, rconf) < 1e-4);
    lp_tensor_free(kp);
    lp_tensor_free(conf);
    lp_tensor_free(rkp);
    lp_tensor_free(rconf);

    /* train mode: BN with batch statistics */
    lp_tensor *sft = NULL, *mft = NULL, *rsft = get(ref, "sf_train"), *rmft = get(ref, "mf_train");
    LP_CHECK_OK(lp_model_set_training(m, 1));
    lp_grad_set_enabled(0);
    LP_CHECK_OK(lp_model_forward(m, x, &sft, &mft));
    lp_grad_set_enabled(1);
    double d_sft = max_abs_diff(sft, rsft), d_mft = max_abs_diff(mft, rmft);
    printf("# parity train-mode BN: sf %.3g, mf %.3g\n", d_sft, d_mft);
    LP_CHECK(d_sft < 1e-5 && d_mft < 1e-5);

    lp_tensor *list[] = {x, feats, sf, mf, flat, rf, rsf, rmf, sft, mft, rsft, rmft};
    for (size_t i = 0; i < sizeof list / sizeof *list; ++i) lp_tensor_free(list[i]);
    lp_tensor_list_free(ref);

    /* the baseline layout: head.upsampling_layers.* -> head_sf.upsampling_layers.* */
    lp_model *base = r18(LP_MODEL_TYPE_HEATMAP, 3);
    if (base) {
        LP_CHECK_OK(lp_model_load_weights_file(base, path_of("lp_baseline.ckpt"), LP_WEIGHTS_LIGHTNING, 1, &rep));
        LP_CHECK(rep.n_loaded == lp_model_n_tensors(base) && rep.n_missing == 0 && rep.n_unexpected == 0);
        lp_tensor *a = NULL, *b = NULL;
        LP_CHECK_OK(lp_model_tensor(base, lp_model_find_tensor(base, "head_sf.upsampling_layers.2.weight"), &a));
        LP_CHECK_OK(lp_model_tensor(m, lp_model_find_tensor(m, "head_sf.upsampling_layers.2.weight"), &b));
        LP_CHECK(max_abs_diff(a, b) == 0.0);
        lp_tensor_free(a);
        lp_tensor_free(b);
        lp_model_free(base);
    }

    /* a K=4 checkpoint into a K=3 model: error naming the key, nothing written */
    LP_CHECK_FAILS(lp_model_load_weights_file(m, path_of("lp_k4.ckpt"), LP_WEIGHTS_LIGHTNING, 1, &rep),
                   LP_STATUS_BAD_ARG, "head.head_sf.upsampling_layers.1.weight");
    lp_model_free(m);
}

int main(void) {
    lp_runtime_init(0);
    test_committed();
    test_strict();
    if (system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") != 0) {
        LP_SKIP("/usr/bin/python3 has no torch/torchvision: generated files and parity skipped");
        LP_DONE();
    }
    snprintf(dir, sizeof dir, "/tmp/lpose_test_weights_XXXXXX");
    if (!mkdtemp(dir)) {
        LP_SKIP("cannot create a temp dir");
        LP_DONE();
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/fixtures/gen_model_fixtures.py %s", dir);
    int gen_ok = system(cmd) == 0;
    LP_CHECK(gen_ok);
    if (gen_ok) {
        test_misc();
        test_errors();
        test_backbone_formats();
        test_lightning();
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    LP_DONE();
}
