/* test_int8.c: the int8 backbone (engine/src/model/model_int8.c) against
 * the f32 one on the same images, for resnet18 (basic blocks) and resnet50
 * (bottlenecks, downsample convolutions), and its life cycle: only in eval
 * mode with grad off, refused once the weights change, dropped on request.
 *
 * The tolerance: int8 rounds each activation to 1/255 of its calibrated
 * range (an error of RMS range / (255 sqrt 12), about 0.1 % of the range)
 * and each weight to 1/127 of its channel's largest; over the ~20 (resnet18)
 * to ~50 (resnet50) quantized layers these errors add up roughly in
 * quadrature, a few percent of the features' norm. 15 % leaves room for
 * the ranges being wider than the typical value (min-max calibration), while
 * a wrong scale, zero point, stride or block order gives errors of order 1. */
#include "lp_test.h"

/* ||a - b|| / ||b|| */
static double rel_error(const lp_tensor *a, const lp_tensor *b) {
    lp_tensor *d = NULL, *d2 = NULL, *b2 = NULL;
    double e = INFINITY;
    if (lp_tensor_binary(LP_BINARY_SUB, a, b, &d) == LP_STATUS_OK &&
        lp_tensor_binary(LP_BINARY_MUL, d, d, &d2) == LP_STATUS_OK &&
        lp_tensor_binary(LP_BINARY_MUL, b, b, &b2) == LP_STATUS_OK)
        e = sqrt(lp_test_reduce(LP_REDUCE_SUM, d2) / lp_test_reduce(LP_REDUCE_SUM, b2));
    lp_tensor_free(d);
    lp_tensor_free(d2);
    lp_tensor_free(b2);
    return e;
}

static void test_backbone(int32_t backbone, const char *name) {
    lp_model *m = lp_test_model(LP_MODEL_TYPE_HEATMAP, backbone, 3, 64, 64, 3);
    if (!m) {
        LP_CHECK(m != NULL);
        return;
    }
    const int64_t shape[4] = {8, 3, 64, 64};
    lp_tensor *calib = NULL, *other = NULL, *f32 = NULL, *f32_other = NULL, *q = NULL, *q_other = NULL;
    lp_tensor *again = NULL;
    LP_CHECK_OK(lp_model_set_training(m, 0));
    LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 1, &calib));
    LP_CHECK_OK(lp_tensor_randn(shape, 4, LP_DTYPE_F32, LP_DEVICE_CPU, 2, &other));
    const int32_t grad = lp_grad_is_enabled();
    lp_grad_set_enabled(0);
    LP_CHECK_OK(lp_model_forward_backbone(m, calib, &f32));
    LP_CHECK_OK(lp_model_forward_backbone(m, other, &f32_other));
    LP_CHECK(lp_model_is_int8(m) == 0);
    LP_CHECK_OK(lp_model_quantize_int8(m, calib));
    LP_CHECK(lp_model_is_int8(m) == 1);
    LP_CHECK_OK(lp_model_forward_backbone(m, calib, &q));
    LP_CHECK_OK(lp_model_forward_backbone(m, other, &q_other));
    const double e1 = q ? rel_error(q, f32) : INFINITY, e2 = q_other ? rel_error(q_other, f32_other) : INFINITY;
    printf("# %s int8 vs f32 features: relative error %.4f (calibration images), %.4f (other images)\n", name,
           e1, e2);
    LP_CHECK(q && lp_tensor_dim(q) == 4 && lp_tensor_size(q, 1) == lp_tensor_size(f32, 1) &&
             lp_tensor_size(q, 3) == lp_tensor_size(f32, 3) && lp_tensor_dtype(q) == LP_DTYPE_F32);
    LP_CHECK(e1 < 0.15 && e2 < 0.15);
    LP_CHECK(e1 > 0); /* it really ran in int8 */

    /* grad on: the f32 backbone (unfolded then: float rounding apart, far
     * below int8's error) */
    lp_grad_set_enabled(1);
    LP_CHECK_OK(lp_model_forward_backbone(m, calib, &again));
    LP_CHECK(again && rel_error(again, f32) < 1e-4);
    lp_tensor_free(again);
    again = NULL;
    lp_grad_set_enabled(0);

    /* dropped: f32 again */
    lp_model_drop_int8(m);
    LP_CHECK(lp_model_is_int8(m) == 0);
    LP_CHECK_OK(lp_model_forward_backbone(m, calib, &again));
    LP_CHECK(again && rel_error(again, f32) == 0);
    lp_tensor_free(again);
    again = NULL;

    /* weights changed after quantizing: refused, never stale */
    LP_CHECK_OK(lp_model_quantize_int8(m, calib));
    lp_tensor *w = NULL;
    LP_CHECK_OK(lp_model_tensor(m, 0, &w));
    LP_CHECK_OK(lp_tensor_binary_scalar_(LP_BINARY_MUL, w, 0.5));
    LP_CHECK_FAILS(lp_model_forward_backbone(m, calib, &again), LP_STATUS_BAD_ARG, "quantize again");
    lp_tensor_free(w);
    lp_tensor_free(again);
    lp_grad_set_enabled(grad);

    /* training mode: refused */
    LP_CHECK_OK(lp_model_set_training(m, 1));
    LP_CHECK_FAILS(lp_model_quantize_int8(m, calib), LP_STATUS_BAD_ARG, "training mode");
    lp_tensor_free(calib);
    lp_tensor_free(other);
    lp_tensor_free(f32);
    lp_tensor_free(f32_other);
    lp_tensor_free(q);
    lp_tensor_free(q_other);
    lp_model_free(m);
}

int main(void) {
    LP_CHECK_OK(lp_runtime_init(2));
    test_backbone(LP_BACKBONE_RESNET18, "resnet18");
    test_backbone(LP_BACKBONE_RESNET50, "resnet50");
    /* the 7-bit weights of CPUs without VNNI, whatever this CPU has */
    setenv("LPOSE_INT8_WEIGHT_BITS", "7", 1);
    test_backbone(LP_BACKBONE_RESNET18, "resnet18, 7-bit weights");
    unsetenv("LPOSE_INT8_WEIGHT_BITS");
    LP_DONE();
}
