// quant.cpp: int8 tensors and convolutions for the backbone's int8 inference
// (engine/src/model/model_int8.c): per-tensor quint8 activations, per-channel
// symmetric qint8 weights prepacked once by libtorch's quantized engine.
// Debian's libtorch has the oneDNN engine (no fbgemm); PyTorch's own builds
// have x86/fbgemm too. CPU only.
#include "shim.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>

#include <cstdlib>
#include <cstring>

struct lp_qconv {
    c10::intrusive_ptr<ConvPackedParamsBase<2>> packed;
};

namespace {

// The quantized engine to use: the first of these this libtorch has.
void select_engine() {
    static const at::QEngine preferred[] = {at::kONEDNN, at::kX86, at::kFBGEMM};
    const auto &have = at::globalContext().supportedQEngines();
    for (at::QEngine e : preferred)
        for (at::QEngine h : have)
            if (h == e) {
                if (at::globalContext().qEngine() != e) at::globalContext().setQEngine(e);
                return;
            }
    lp::fail(LP_STATUS_UNSUPPORTED, "this libtorch has no x86 quantized engine (onednn, x86 or fbgemm)");
}

// Without VNNI, x86 int8 kernels add pairs of u8 x s8 products in int16
// (vpmaddubsw), which saturates once both pair members are large: 255 x 127 x 2
// > 32767. Weights limited to [-63, 63] cannot saturate (255 x 63 x 2 < 32767),
// at the cost of one bit; CPUs with VNNI accumulate in int32 and keep all 8.
// LPOSE_INT8_WEIGHT_BITS=7 forces the narrow range (tests run both).
int weight_max() {
    const char *env = std::getenv("LPOSE_INT8_WEIGHT_BITS");
    if (env && std::strcmp(env, "7") == 0) return 63;
    __builtin_cpu_init();
    const bool vnni = __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
    return vnni ? 127 : 63;
}

void require_cpu(const at::Tensor &t, const char *arg) {
    if (!t.device().is_cpu()) lp::fail(LP_STATUS_UNSUPPORTED, "int8 runs on the CPU only ('%s' is not)", arg);
}

void require_quint8(const at::Tensor &t, const char *arg) {
    if (t.scalar_type() != at::kQUInt8) lp::fail(LP_STATUS_BAD_ARG, "'%s' must be a quint8 tensor", arg);
}

} // namespace

LP_EXPORT lp_status lp_qconv_new(const lp_tensor *weight, const lp_tensor *bias, int64_t stride, int64_t pad,
                                 lp_qconv **out) {
    LP_TRY
    lp::check_out(out);
    *out = nullptr;
    const at::Tensor &w = lp::ref(weight, "weight");
    require_cpu(w, "weight");
    if (w.dim() != 4 || w.scalar_type() != at::kFloat)
        lp::fail(LP_STATUS_BAD_ARG, "weight must be float32 (out, in, k, k), got %s", lp::shape_str(w.sizes()).c_str());
    if (stride < 1 || pad < 0) lp::fail(LP_STATUS_BAD_ARG, "stride %lld, pad %lld", (long long)stride, (long long)pad);
    select_engine();
    // per output channel: scale = max |w| / 127 (63 without VNNI), zero point 0
    at::Tensor w64 = w.to(at::kDouble).contiguous();
    at::Tensor scales = std::get<0>(w64.abs().flatten(1).max(1)).div((double)weight_max()).clamp_min(1e-12);
    at::Tensor zeros = at::zeros({w.size(0)}, at::TensorOptions().dtype(at::kLong));
    at::Tensor qw = at::quantize_per_channel(w.contiguous(), scales, zeros, 0, at::kQInt8);
    c10::optional<at::Tensor> b = lp::opt(bias);
    if (b) b = b->to(at::kFloat).contiguous();
    static const c10::OperatorHandle prepack =
        c10::Dispatcher::singleton().findSchemaOrThrow("quantized::conv2d_prepack", "");
    std::vector<c10::IValue> stack{qw, b, c10::List<int64_t>({stride, stride}), c10::List<int64_t>({pad, pad}),
                                   c10::List<int64_t>({1, 1}), int64_t(1)};
    prepack.callBoxed(&stack);
    auto conv = std::make_unique<lp_qconv>();
    conv->packed = stack.at(0).toCustomClass<ConvPackedParamsBase<2>>();
    *out = conv.release();
    LP_CATCH
}

LP_EXPORT void lp_qconv_free(lp_qconv *conv) { delete conv; }

LP_EXPORT lp_status lp_qconv_forward(const lp_qconv *conv, const lp_tensor *x, double out_scale,
                                     int64_t out_zero_point, int32_t relu, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    if (!conv) lp::fail(LP_STATUS_BAD_ARG, "NULL conv");
    const at::Tensor &xx = lp::ref(x, "x");
    require_quint8(xx, "x"); // the packed weights carry their engine: none to select here
    *out = lp::new_handle(relu ? conv->packed->apply_relu(xx, out_scale, out_zero_point)
                               : conv->packed->apply(xx, out_scale, out_zero_point));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_quantize(const lp_tensor *x, double scale, int64_t zero_point, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = lp::ref(x, "x");
    require_cpu(xx, "x");
    if (!(scale > 0) || zero_point < 0 || zero_point > 255)
        lp::fail(LP_STATUS_BAD_ARG, "scale %g must be > 0 and zero_point %lld in 0..255", scale, (long long)zero_point);
    *out = lp::new_handle(at::quantize_per_tensor(xx.to(at::kFloat), scale, zero_point, at::kQUInt8));
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_dequantize(const lp_tensor *x, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = lp::ref(x, "x");
    require_quint8(xx, "x");
    *out = lp::new_handle(xx.dequantize().contiguous());
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_qadd_relu(const lp_tensor *a, const lp_tensor *b, double scale, int64_t zero_point,
                                        lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = lp::ref(a, "a");
    const at::Tensor &y = lp::ref(b, "b");
    require_quint8(x, "a");
    require_quint8(y, "b");
    static const c10::OperatorHandle add_relu =
        c10::Dispatcher::singleton().findSchemaOrThrow("quantized::add_relu", "");
    std::vector<c10::IValue> stack{x, y, scale, zero_point};
    add_relu.callBoxed(&stack);
    *out = lp::new_handle(stack.at(0).toTensor());
    LP_CATCH
}
