/* test_model.c: ResNet backbones and LP's heads: parameter names and counts
 * (docs/spec/lp-model.md §8), output shapes for both model types, BN train/eval,
 * gradients to every parameter, window forward, device moves, save/load. */
#include <string.h>
#include <unistd.h>

#include "lp_test.h"

static lp_model *make(int32_t type, int32_t backbone, int32_t k, int64_t h, int64_t w) {
    return lp_test_model(type, backbone, k, h, w, 0);
}

static lp_tensor *randn(const int64_t *shape, int32_t nd, int64_t seed) {
    lp_tensor *t = NULL;
    if (lp_tensor_randn(shape, nd, LP_DTYPE_F32, LP_DEVICE_CPU, seed, &t)) return NULL;
    return t;
}

static double scalar(lp_reduce_op op, const lp_tensor *t) { return lp_test_reduce(op, t); }

static double max_abs_diff(const lp_tensor *a, const lp_tensor *b) {
    lp_tensor *d = NULL, *ad = NULL;
    double v = 1e30;
    if (a && b && lp_tensor_binary(LP_BINARY_SUB, a, b, &d) == LP_STATUS_OK &&
        lp_tensor_unary(LP_UNARY_ABS, d, &ad) == LP_STATUS_OK)
        v = scalar(LP_REDUCE_AMAX, ad);
    lp_tensor_free(d);
    lp_tensor_free(ad);
    return v;
}

static int has_shape(const lp_tensor *t, int64_t a, int64_t b, int64_t c, int64_t d) {
    return t && lp_tensor_dim(t) == 4 && lp_tensor_size(t, 0) == a && lp_tensor_size(t, 1) == b &&
           lp_tensor_size(t, 2) == c && lp_tensor_size(t, 3) == d;
}

static void test_counts(void) {
    static const struct {
        int32_t backbone;
        int64_t total, heads, sf;
    } want[] = {
        {LP_BACKBONE_RESNET18, 11228498, 51986, 22219},
        {LP_BACKBONE_RESNET34, 21336658, 51986, 22219},
        {LP_BACKBONE_RESNET50, 23677522, 169490, 80971},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; ++i) {
        lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, want[i].backbone, 17, 128, 128);
        int64_t total = -1, sf = -1, mf = -1;
        LP_CHECK(m != NULL);
        if (!m) continue;
        LP_CHECK_OK(lp_model_count_parameters(m, NULL, &total));
        LP_CHECK_OK(lp_model_count_parameters(m, "head_sf.", &sf));
        LP_CHECK_OK(lp_model_count_parameters(m, "head_mf.", &mf));
        printf("# %s TCN K=17: total %lld, heads %lld (sf %lld + mf %lld)\n",
               lp_backbone_name(want[i].backbone), (long long)total, (long long)(sf + mf),
               (long long)sf, (long long)mf);
        LP_CHECK(total == want[i].total);
        LP_CHECK(sf + mf == want[i].heads);
        LP_CHECK(sf == want[i].sf);
        lp_model_free(m);
    }
    /* resnet101's truncated backbone; baseline model has no MF head */
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP, LP_BACKBONE_RESNET101, 17, 128, 128);
    int64_t bb = -1, mf = -1;
    LP_CHECK_OK(lp_model_count_parameters(m, "backbone.", &bb));
    LP_CHECK_OK(lp_model_count_parameters(m, "head_mf.", &mf));
    LP_CHECK(bb == 42500160 && mf == 0);
    lp_model_free(m);
}

static void test_names(void) {
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 17, 64, 64);
    if (!m) return;
    int32_t nb = 0;
    for (int32_t i = 0; i < lp_model_n_tensors(m); ++i)
        nb += strncmp(lp_model_tensor_name(m, i), "backbone.", 9) == 0;
    LP_CHECK(nb == 120); /* torchvision resnet18 state_dict (122) minus fc.weight, fc.bias */
    LP_CHECK(strcmp(lp_model_tensor_name(m, 0), "backbone.conv1.weight") == 0);
    int32_t i_rm = lp_model_find_tensor(m, "backbone.bn1.running_mean");
    LP_CHECK(i_rm >= 0 && !lp_model_tensor_is_param(m, i_rm));
    LP_CHECK(lp_model_find_tensor(m, "backbone.layer2.0.downsample.0.weight") >= 0);
    LP_CHECK(lp_model_find_tensor(m, "backbone.layer1.0.downsample.0.weight") < 0);
    LP_CHECK(lp_model_find_tensor(m, "backbone.layer4.1.bn2.num_batches_tracked") >= 0);
    LP_CHECK(lp_model_find_tensor(m, "head_sf.upsampling_layers.2.bias") >= 0);
    LP_CHECK(lp_model_find_tensor(m, "head_mf.H_b.1.weight") >= 0);
    /* init: BN weight 1, SF head tiny (gain 0.01), MF head gain 1 */
    lp_tensor *t = NULL;
    LP_CHECK_OK(lp_model_tensor(m, lp_model_find_tensor(m, "backbone.bn1.weight"), &t));
    LP_CHECK(scalar(LP_REDUCE_AMIN, t) == 1.0 && scalar(LP_REDUCE_AMAX, t) == 1.0);
    lp_tensor_free(t);
    LP_CHECK_OK(lp_model_tensor(m, lp_model_find_tensor(m, "head_sf.upsampling_layers.1.weight"), &t));
    LP_CHECK(scalar(LP_REDUCE_AMAX, t) <= 0.01 * sqrt(6.0 / (9.0 * (128 + 17))) + 1e-9);
    LP_CHECK(lp_tensor_requires_grad(t) && lp_tensor_is_leaf(t));
    lp_tensor_free(t);
    LP_CHECK_OK(lp_model_tensor(m, lp_model_find_tensor(m, "head_mf.H_f.0.weight"), &t));
    double bound = sqrt(6.0 / (4.0 + 64.0 * 17));
    LP_CHECK(scalar(LP_REDUCE_AMAX, t) <= bound && scalar(LP_REDUCE_AMAX, t) > 0.5 * bound);
    lp_tensor_free(t);
    lp_model_free(m);
}

static void check_shapes(int32_t type, int64_t h, int64_t w) {
    lp_model *m = make(type, LP_BACKBONE_RESNET18, 5, h, w);
    if (!m) return;
    int mh = type == LP_MODEL_TYPE_HEATMAP_MHCRNN;
    const int64_t s5[5] = {1, 5, 3, h, w}, s4[4] = {2, 3, h, w};
    lp_tensor *x = mh ? randn(s5, 5, 1) : randn(s4, 4, 1), *sf = NULL, *mf = NULL;
    lp_model_set_training(m, 0);
    lp_grad_set_enabled(0);
    LP_CHECK_OK(lp_model_forward(m, x, &sf, &mf));
    lp_grad_set_enabled(1);
    int64_t b = mh ? 1 : 2;
    printf("# %s %lldx%lld\n", lp_model_type_name(type), (long long)h, (long long)w);
    LP_CHECK(has_shape(sf, b, 5, h / 4, w / 4));
    LP_CHECK(mh ? has_shape(mf, b, 5, h / 4, w / 4) : mf == NULL);
    LP_CHECK_CLOSE(scalar(LP_REDUCE_SUM, sf), (double)(b * 5), 1e-3);
    lp_tensor_free(x);
    lp_tensor_free(sf);
    lp_tensor_free(mf);
    lp_model_free(m);
}

/* the baseline allows downsample_factor 1 and 3 (1 and 3 ConvTranspose layers) */
static void test_downsample_factors(void) {
    for (int32_t ds = 1; ds <= 3; ds += 2) {
        lp_model_params p = lp_model_default_params();
        p.model_type = LP_MODEL_TYPE_HEATMAP;
        p.backbone = LP_BACKBONE_RESNET18;
        p.num_keypoints = 2;
        p.downsample_factor = ds;
        p.image_height = p.image_width = 64;
        lp_model *m = NULL;
        LP_CHECK_OK(lp_model_init(&p, &m));
        if (!m) continue;
        const int64_t s4[4] = {1, 3, 64, 64};
        lp_tensor *x = randn(s4, 4, 9), *sf = NULL, *kp = NULL, *conf = NULL;
        lp_model_set_training(m, 0);
        LP_CHECK_OK(lp_model_forward(m, x, &sf, NULL));
        LP_CHECK(has_shape(sf, 1, 2, 64 >> ds, 64 >> ds));
        LP_CHECK_OK(lp_model_predict(m, x, 0, 0, 0, &kp, &conf));
        LP_CHECK(kp && scalar(LP_REDUCE_AMAX, kp) < 64 && scalar(LP_REDUCE_AMIN, kp) > -4);
        lp_tensor_free(x);
        lp_tensor_free(sf);
        lp_tensor_free(kp);
        lp_tensor_free(conf);
        lp_model_free(m);
    }
}

static void test_window(void) {
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 4, 64, 64);
    if (!m) return;
    lp_model_set_training(m, 0);
    const int64_t sw[4] = {7, 3, 64, 64};
    lp_tensor *x = randn(sw, 4, 3), *sf = NULL, *mf = NULL, *feat = NULL, *stacks = NULL;
    lp_grad_set_enabled(0);
    LP_CHECK_OK(lp_model_forward_window(m, x, &sf, &mf));
    LP_CHECK(has_shape(sf, 3, 4, 16, 16) && has_shape(mf, 3, 4, 16, 16));
    LP_CHECK_OK(lp_model_forward_backbone(m, x, &feat));
    LP_CHECK(has_shape(feat, 7, 512, 2, 2));
    LP_CHECK_OK(lp_model_context_stack(feat, &stacks));
    LP_CHECK(stacks && lp_tensor_dim(stacks) == 5 && lp_tensor_size(stacks, 0) == 3);
    /* heads on stacks == heads on the window (per-frame terms shared) */
    lp_tensor *st_sf = NULL, *st_mf = NULL, *w_sf = NULL, *w_mf = NULL;
    LP_CHECK_OK(lp_model_forward_heads(m, stacks, &st_sf, &st_mf));
    LP_CHECK_OK(lp_model_forward_heads(m, feat, &w_sf, &w_mf));
    LP_CHECK(max_abs_diff(st_sf, w_sf) < 1e-6 && max_abs_diff(st_mf, w_mf) < 1e-6);
    LP_CHECK(max_abs_diff(sf, w_sf) == 0.0 && max_abs_diff(mf, w_mf) == 0.0);
    lp_tensor_free(st_sf);
    lp_tensor_free(st_mf);
    lp_tensor_free(w_sf);
    lp_tensor_free(w_mf);
    /* output row 1 = the labeled forward of frames 1..5 */
    lp_tensor *win = NULL, *lab = NULL, *lsf = NULL, *lmf = NULL, *r_sf = NULL, *r_mf = NULL;
    LP_CHECK_OK(lp_tensor_narrow(x, 0, 1, 5, &win));
    LP_CHECK_OK(lp_tensor_unsqueeze(win, 0, &lab));
    LP_CHECK_OK(lp_model_forward(m, lab, &lsf, &lmf));
    LP_CHECK_OK(lp_tensor_narrow(sf, 0, 1, 1, &r_sf));
    LP_CHECK_OK(lp_tensor_narrow(mf, 0, 1, 1, &r_mf));
    LP_CHECK(max_abs_diff(r_sf, lsf) < 1e-6 && max_abs_diff(r_mf, lmf) < 1e-6);
    lp_tensor *too_short = NULL, *a = NULL, *b = NULL;
    LP_CHECK_OK(lp_tensor_narrow(x, 0, 0, 4, &too_short));
    LP_CHECK_FAILS(lp_model_forward_window(m, too_short, &a, &b), LP_STATUS_BAD_ARG,
                   "lp_model_forward_window");
    /* predict: frames of 128 x 256 -> keypoints scaled back */
    lp_tensor *kp = NULL, *conf = NULL;
    LP_CHECK_OK(lp_model_predict(m, x, 1, 128, 256, &kp, &conf));
    LP_CHECK(kp && lp_tensor_dim(kp) == 3 && lp_tensor_size(kp, 0) == 3 && lp_tensor_size(kp, 2) == 2);
    LP_CHECK(conf && lp_tensor_size(conf, 1) == 4);
    LP_CHECK(scalar(LP_REDUCE_AMAX, kp) < 256 && scalar(LP_REDUCE_AMIN, kp) > -2);
    /* the TCN decodes both heads' maps in one call: bitwise two decodes + the choice */
    lp_tensor *pk = NULL, *pc = NULL, *k1 = NULL, *c1 = NULL, *k2 = NULL, *c2 = NULL, *ck = NULL, *cc = NULL;
    lp_tensor *dk = NULL, *dc = NULL;
    LP_CHECK_OK(lp_model_predict(m, x, 1, 0, 0, &pk, &pc));
    LP_CHECK_OK(lp_heatmaps_decode(sf, 2, &k1, &c1));
    LP_CHECK_OK(lp_heatmaps_decode(mf, 2, &k2, &c2));
    LP_CHECK_OK(lp_keypoints_choose(k1, c1, k2, c2, &ck, &cc));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, pk, ck, &dk));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_SUB, pc, cc, &dc));
    LP_CHECK(scalar(LP_REDUCE_AMAX, dk) == 0 && scalar(LP_REDUCE_AMIN, dk) == 0 && scalar(LP_REDUCE_AMAX, dc) == 0 &&
             scalar(LP_REDUCE_AMIN, dc) == 0);
    lp_tensor *dec[] = {pk, pc, k1, c1, k2, c2, ck, cc, dk, dc};
    for (size_t i = 0; i < sizeof dec / sizeof *dec; ++i) lp_tensor_free(dec[i]);
    lp_grad_set_enabled(1);
    lp_tensor *all[] = {x, sf, mf, feat, stacks, win, lab, lsf, lmf, r_sf, r_mf, too_short, kp, conf};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    lp_model_free(m);
}

/* Draw every head_mf parameter, biases included (init zeroes them), from
 * U(-0.5, 0.5) so the folded H's bias term is exercised. Grad must be off. */
static void randomize_mf_head(lp_model *m) {
    int32_t n = lp_model_n_tensors(m);
    for (int32_t i = 0; i < n; ++i) {
        if (strncmp(lp_model_tensor_name(m, i), "head_mf.", 8) != 0) continue;
        lp_tensor *t = NULL;
        LP_CHECK_OK(lp_model_tensor(m, i, &t));
        if (t) lp_tensor_uniform_(t, -0.5, 0.5, 100 + i);
        lp_tensor_free(t);
    }
}

/* The window path folds H = ConvT(Conv(s)) into a 4x4 map per 2x2 patch;
 * the stacks path runs the two grouped convolutions. Same heatmaps. */
static void test_folded_h(void) {
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 3, 64, 96);
    if (!m) return;
    lp_model_set_training(m, 0);
    lp_grad_set_enabled(0);
    randomize_mf_head(m);
    const int64_t sw[4] = {8, 3, 64, 96};
    lp_tensor *x = randn(sw, 4, 5), *feat = NULL, *stacks = NULL;
    lp_tensor *st_sf = NULL, *st_mf = NULL, *w_sf = NULL, *w_mf = NULL, *g_sf = NULL, *g_mf = NULL;
    LP_CHECK_OK(lp_model_forward_backbone(m, x, &feat));
    LP_CHECK_OK(lp_model_context_stack(feat, &stacks));
    LP_CHECK_OK(lp_model_forward_heads(m, stacks, &st_sf, &st_mf));
    LP_CHECK_OK(lp_model_forward_heads(m, feat, &w_sf, &w_mf));
    LP_CHECK(has_shape(w_mf, 4, 3, 16, 24) && has_shape(st_mf, 4, 3, 16, 24));
    double peak = scalar(LP_REDUCE_AMAX, st_mf), d = max_abs_diff(st_mf, w_mf);
    printf("# folded H: max |diff| %.3g, peak %.3g\n", d, peak);
    LP_CHECK(d <= 1e-5 * peak);
    /* with grad on, the folded matrices are built from the live parameters */
    lp_grad_set_enabled(1);
    LP_CHECK_OK(lp_model_forward_heads(m, feat, &g_sf, &g_mf));
    LP_CHECK(max_abs_diff(g_mf, st_mf) <= 1e-5 * peak);
    lp_tensor *all[] = {x, feat, stacks, st_sf, st_mf, w_sf, w_mf, g_sf, g_mf};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    lp_model_free(m);
}

static void test_grad_and_bn(void) {
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 3, 64, 64);
    if (!m) return;
    const int64_t s5[5] = {2, 5, 3, 64, 64}, st[4] = {2, 3, 16, 16};
    lp_tensor *x = randn(s5, 5, 4), *targ = randn(st, 4, 5), *sf = NULL, *mf = NULL;
    lp_tensor *a = NULL, *b = NULL, *sum = NULL, *loss = NULL, *rm = NULL, *nbt = NULL;
    int32_t i_rm = lp_model_find_tensor(m, "backbone.layer3.0.bn1.running_mean");
    int32_t i_nbt = lp_model_find_tensor(m, "backbone.layer3.0.bn1.num_batches_tracked");
    LP_CHECK_OK(lp_model_tensor(m, i_rm, &rm));
    LP_CHECK_OK(lp_model_tensor(m, i_nbt, &nbt));
    LP_CHECK_OK(lp_model_forward(m, x, &sf, &mf));
    LP_CHECK(scalar(LP_REDUCE_AMAX, rm) > 0); /* running stats moved in train mode */
    LP_CHECK(scalar(LP_REDUCE_SUM, nbt) == 1.0);
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, sf, targ, &a));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_MUL, mf, targ, &b));
    LP_CHECK_OK(lp_tensor_binary(LP_BINARY_ADD, a, b, &sum));
    LP_CHECK_OK(lp_tensor_reduce(LP_REDUCE_SUM, sum, NULL, 0, 0, &loss));
    LP_CHECK_OK(lp_tensor_backward(loss, NULL, 0));
    int32_t n_params = 0, n_grad = 0;
    for (int32_t i = 0; i < lp_model_n_tensors(m); ++i) {
        if (!lp_model_tensor_is_param(m, i)) continue;
        lp_tensor *p = NULL, *g = NULL;
        n_params++;
        if (lp_model_tensor(m, i, &p) == LP_STATUS_OK && lp_tensor_grad(p, &g) == LP_STATUS_OK &&
            g && lp_tensor_numel(g) == lp_tensor_numel(p)) {
            lp_tensor *ag = NULL;
            lp_tensor_unary(LP_UNARY_ABS, g, &ag);
            if (scalar(LP_REDUCE_SUM, ag) > 0) n_grad++;
            else printf("# zero grad: %s\n", lp_model_tensor_name(m, i));
            lp_tensor_free(ag);
        } else {
            printf("# no grad: %s\n", lp_model_tensor_name(m, i));
        }
        lp_tensor_free(p);
        lp_tensor_free(g);
    }
    printf("# %d of %d parameters got a nonzero gradient\n", n_grad, n_params);
    LP_CHECK(n_params > 0 && n_grad == n_params);
    /* eval mode leaves running stats alone */
    lp_tensor *before = NULL, *sf2 = NULL, *mf2 = NULL;
    LP_CHECK_OK(lp_tensor_clone(rm, &before));
    LP_CHECK_OK(lp_model_set_training(m, 0));
    LP_CHECK_OK(lp_model_forward(m, x, &sf2, &mf2));
    LP_CHECK(max_abs_diff(before, rm) == 0.0 && scalar(LP_REDUCE_SUM, nbt) == 1.0);
    lp_tensor *all[] = {x, targ, sf, mf, a, b, sum, loss, rm, nbt, before, sf2, mf2};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    lp_model_free(m);
}

static void test_save_load(void) {
    lp_model *m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 3, 64, 64), *m2 = NULL;
    if (!m) return;
    char path[128];
    snprintf(path, sizeof path, "/tmp/lpose_test_model_%d.lpt", (int)getpid());
    const int64_t s5[5] = {1, 5, 3, 64, 64};
    lp_tensor *x = randn(s5, 5, 6), *sf = NULL, *mf = NULL, *sf2 = NULL, *mf2 = NULL, *warm = NULL;
    LP_CHECK_OK(lp_model_forward(m, x, &warm, NULL)); /* running stats != init */
    lp_model_set_training(m, 0);
    LP_CHECK_OK(lp_model_save(m, path));
    LP_CHECK_OK(lp_model_load(path, &m2));
    if (m2) {
        lp_model_params p;
        lp_model_get_params(m2, &p);
        LP_CHECK(p.model_type == LP_MODEL_TYPE_HEATMAP_MHCRNN && p.num_keypoints == 3 &&
                 p.backbone == LP_BACKBONE_RESNET18 && p.image_height == 64);
        lp_model_set_training(m2, 0);
        lp_grad_set_enabled(0);
        LP_CHECK_OK(lp_model_forward(m, x, &sf, &mf));
        LP_CHECK_OK(lp_model_forward(m2, x, &sf2, &mf2));
        lp_grad_set_enabled(1);
        LP_CHECK(max_abs_diff(sf, sf2) == 0.0 && max_abs_diff(mf, mf2) == 0.0);
    }
    char json[512];
    LP_CHECK_OK(lp_model_config_json(m, sizeof json, json));
    LP_CHECK(strstr(json, "\"model_type\":\"heatmap_mhcrnn\"") != NULL);
    LP_CHECK_FAILS(lp_model_load("/tmp/lpose_no_such_model.lpt", &m2), LP_STATUS_IO, "lp_model_load");
    unlink(path);
    lp_tensor *all[] = {x, sf, mf, sf2, mf2, warm};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    lp_model_free(m);
    lp_model_free(m2);
}

static void test_errors_and_devices(void) {
    lp_model_params p = lp_model_default_params();
    lp_model *m = NULL;
    p.downsample_factor = 3;
    LP_CHECK_FAILS(lp_model_init(&p, &m), LP_STATUS_BAD_ARG, "lp_model_init");
    p = lp_model_default_params();
    p.image_height = 100;
    LP_CHECK_FAILS(lp_model_init(&p, &m), LP_STATUS_BAD_ARG, "lp_model_init");
    m = make(LP_MODEL_TYPE_HEATMAP_MHCRNN, LP_BACKBONE_RESNET18, 2, 64, 64);
    if (!m) return;
    const int64_t s4[4] = {2, 3, 64, 64};
    lp_tensor *x = randn(s4, 4, 7), *sf = NULL, *mf = NULL;
    LP_CHECK_FAILS(lp_model_forward(m, x, &sf, &mf), LP_STATUS_BAD_ARG, "lp_model_forward");
    LP_CHECK_FAILS(lp_model_forward_heads(m, x, &sf, &mf), LP_STATUS_BAD_ARG, "lp_model_forward_heads");
    /* no images: a clear error, not libtorch's convolution failing on an empty batch */
    const int64_t s_none[5] = {0, 5, 3, 64, 64}, s_no_ctx[5] = {2, 0, 3, 64, 64};
    lp_tensor *none = randn(s_none, 5, 9), *no_ctx = randn(s_no_ctx, 5, 9), *kp = NULL, *conf = NULL;
    LP_CHECK_FAILS(lp_model_forward(m, none, &sf, &mf), LP_STATUS_BAD_ARG, "no images");
    LP_CHECK_FAILS(lp_model_forward(m, no_ctx, &sf, &mf), LP_STATUS_BAD_ARG, "dimension 1 has size 0");
    LP_CHECK_FAILS(lp_model_predict(m, none, 0, 0, 0, &kp, &conf), LP_STATUS_BAD_ARG, "lp_model_predict");
    lp_tensor_free(none);
    lp_tensor_free(no_ctx);
    LP_CHECK_OK(lp_model_to(m, LP_DEVICE_CPU));
    LP_CHECK(lp_model_device(m) == LP_DEVICE_CPU);
    if (lp_cuda_device_count() > 0) {
        const int64_t s5[5] = {1, 5, 3, 64, 64};
        lp_tensor *x5 = randn(s5, 5, 8), *xg = NULL, *g_sf = NULL, *g_mf = NULL, *back = NULL;
        lp_model_set_training(m, 0);
        LP_CHECK_OK(lp_model_forward(m, x5, &sf, &mf));
        LP_CHECK_OK(lp_model_to(m, 0));
        LP_CHECK_OK(lp_tensor_to(x5, LP_DTYPE_F32, 0, &xg));
        LP_CHECK_OK(lp_model_forward(m, xg, &g_sf, &g_mf));
        LP_CHECK(g_mf && lp_tensor_device(g_mf) == 0);
        LP_CHECK_OK(lp_tensor_to(g_mf, LP_DTYPE_F32, LP_DEVICE_CPU, &back));
        LP_CHECK(max_abs_diff(back, mf) < 1e-4);
        LP_CHECK_FAILS(lp_model_forward(m, x5, &sf, &mf), LP_STATUS_BAD_ARG, "lp_model_forward");
        lp_tensor *all[] = {x5, xg, g_sf, g_mf, back, sf, mf};
        for (size_t i = 0; i < sizeof all / sizeof *all; ++i) lp_tensor_free(all[i]);
    } else {
        LP_SKIP("no CUDA device");
    }
    lp_tensor_free(x);
    lp_model_free(m);
}

int main(void) {
    lp_runtime_init(0);
    test_counts();
    test_names();
    check_shapes(LP_MODEL_TYPE_HEATMAP, 128, 128);
    check_shapes(LP_MODEL_TYPE_HEATMAP_MHCRNN, 128, 128);
    check_shapes(LP_MODEL_TYPE_HEATMAP, 256, 256);
    check_shapes(LP_MODEL_TYPE_HEATMAP_MHCRNN, 256, 256);
    check_shapes(LP_MODEL_TYPE_HEATMAP, 128, 256);
    check_shapes(LP_MODEL_TYPE_HEATMAP_MHCRNN, 128, 256);
    test_downsample_factors();
    test_window();
    test_folded_h();
    test_grad_and_bn();
    test_save_load();
    test_errors_and_devices();
    LP_DONE();
}
