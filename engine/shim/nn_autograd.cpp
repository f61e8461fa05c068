// nn_autograd.cpp: neural-network functional ops (NCHW), autograd and grad
// mode. Shape checks that users commonly get wrong (channel counts, ranks)
// happen here in C++ before libtorch, because a c10::Error costs ~5 ms.
#include "shim.hpp"

using lp::fail;
using lp::ref;

static const int64_t k_one[2] = {1, 1};
static const int64_t k_zero[2] = {0, 0};

static at::IntArrayRef pair(const int64_t *p, const int64_t *dflt, const char *arg, bool positive) {
    const int64_t *v = lp::pair_or(p, dflt);
    for (int i = 0; i < 2; i++)
        if (positive ? v[i] < 1 : v[i] < 0)
            fail(LP_STATUS_BAD_ARG, "%s[%d] = %lld must be %s", arg, i, (long long)v[i], positive ? ">= 1" : ">= 0");
    return at::IntArrayRef(v, 2);
}

static void require_rank(const at::Tensor &x, const char *arg, int64_t lo, int64_t hi) {
    if (x.dim() < lo || x.dim() > hi) {
        if (lo == hi)
            fail(LP_STATUS_BAD_ARG, "'%s' must have %lld dims, got shape %s", arg, (long long)lo,
                 lp::shape_str(x.sizes()).c_str());
        fail(LP_STATUS_BAD_ARG, "'%s' must have %lld to %lld dims, got shape %s", arg, (long long)lo, (long long)hi,
             lp::shape_str(x.sizes()).c_str());
    }
}

static void check_bias(const lp_tensor *bias, int64_t n) {
    if (!bias) return;
    const at::Tensor &b = bias->t;
    if (b.dim() != 1 || b.size(0) != n)
        fail(LP_STATUS_BAD_ARG, "bias must have shape [%lld], got %s", (long long)n, lp::shape_str(b.sizes()).c_str());
}

// ==========================================================================
// Convolutions
// ==========================================================================

LP_EXPORT lp_status lp_nn_conv2d(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                                 const int64_t stride[2], const int64_t padding[2], const int64_t dilation[2],
                                 int64_t groups, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    const at::Tensor &w = ref(weight, "weight");
    require_rank(xx, "x", 3, 4);
    require_rank(w, "weight", 4, 4);
    if (groups < 1) fail(LP_STATUS_BAD_ARG, "groups must be >= 1, got %lld", (long long)groups);
    int64_t c_in = xx.size(xx.dim() - 3);
    if (c_in != w.size(1) * groups)
        fail(LP_STATUS_BAD_ARG, "groups=%lld, weight of shape %s expects %lld input channels, but x of shape %s has %lld",
             (long long)groups, lp::shape_str(w.sizes()).c_str(), (long long)(w.size(1) * groups),
             lp::shape_str(xx.sizes()).c_str(), (long long)c_in);
    if (w.size(0) % groups != 0)
        fail(LP_STATUS_BAD_ARG, "out channels %lld not divisible by groups %lld", (long long)w.size(0), (long long)groups);
    check_bias(bias, w.size(0));
    auto s = pair(stride, k_one, "stride", true);
    auto p = pair(padding, k_zero, "padding", false);
    auto d = pair(dilation, k_one, "dilation", true);
    *out = lp::new_handle(at::conv2d(xx, w, lp::opt(bias), s, p, d, groups));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_conv_transpose2d(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                                           const int64_t stride[2], const int64_t padding[2],
                                           const int64_t output_padding[2], int64_t groups, const int64_t dilation[2],
                                           lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    const at::Tensor &w = ref(weight, "weight");
    require_rank(xx, "x", 3, 4);
    require_rank(w, "weight", 4, 4);
    if (groups < 1) fail(LP_STATUS_BAD_ARG, "groups must be >= 1, got %lld", (long long)groups);
    int64_t c_in = xx.size(xx.dim() - 3);
    // weight: [in, out/groups, kh, kw]
    if (c_in != w.size(0) || w.size(0) % groups != 0)
        fail(LP_STATUS_BAD_ARG, "groups=%lld, weight of shape %s expects %lld input channels, but x of shape %s has %lld",
             (long long)groups, lp::shape_str(w.sizes()).c_str(), (long long)w.size(0),
             lp::shape_str(xx.sizes()).c_str(), (long long)c_in);
    check_bias(bias, w.size(1) * groups);
    auto s = pair(stride, k_one, "stride", true);
    auto p = pair(padding, k_zero, "padding", false);
    auto op = pair(output_padding, k_zero, "output_padding", false);
    auto d = pair(dilation, k_one, "dilation", true);
    *out = lp::new_handle(at::conv_transpose2d(xx, w, lp::opt(bias), s, p, op, groups, d));
    LP_CATCH
}

// ==========================================================================
// Normalisation, pooling, resampling
// ==========================================================================

LP_EXPORT lp_status lp_nn_batch_norm(const lp_tensor *x, const lp_tensor *weight, const lp_tensor *bias,
                                     lp_tensor *running_mean, lp_tensor *running_var, int32_t training,
                                     double momentum, double eps, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 2, 5);
    int64_t c = xx.size(1);
    const lp_tensor *opts[4] = {weight, bias, running_mean, running_var};
    const char *names[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        if (opts[i] && (opts[i]->t.dim() != 1 || opts[i]->t.size(0) != c))
            fail(LP_STATUS_BAD_ARG, "%s must have shape [%lld] for x of shape %s, got %s", names[i], (long long)c,
                 lp::shape_str(xx.sizes()).c_str(), lp::shape_str(opts[i]->t.sizes()).c_str());
    if (!training && (!running_mean || !running_var))
        fail(LP_STATUS_BAD_ARG, "evaluation mode needs running_mean and running_var");
    if (training && c > 0 && xx.numel() / c <= 1)
        fail(LP_STATUS_BAD_ARG, "expected more than 1 value per channel when training, got x of shape %s",
             lp::shape_str(xx.sizes()).c_str());
    if (!(eps >= 0)) fail(LP_STATUS_BAD_ARG, "eps must be >= 0, got %g", eps);
    *out = lp::new_handle(at::batch_norm(xx, lp::opt(weight), lp::opt(bias), lp::opt(running_mean),
                                         lp::opt(running_var), training != 0, momentum, eps, true));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_max_pool2d(const lp_tensor *x, const int64_t kernel[2], const int64_t stride[2],
                                     const int64_t padding[2], const int64_t dilation[2], int32_t ceil_mode,
                                     lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 3, 4);
    if (!kernel) fail(LP_STATUS_BAD_ARG, "argument 'kernel' is NULL");
    auto k = pair(kernel, nullptr, "kernel", true);
    auto s = pair(stride, kernel, "stride", true); // PyTorch: stride defaults to the kernel
    auto p = pair(padding, k_zero, "padding", false);
    auto d = pair(dilation, k_one, "dilation", true);
    for (int i = 0; i < 2; i++)
        if (p[i] * 2 > k[i]) fail(LP_STATUS_BAD_ARG, "padding %lld should be at most half of kernel %lld", (long long)p[i], (long long)k[i]);
    *out = lp::new_handle(at::max_pool2d(xx, k, s, p, d, ceil_mode != 0));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_avg_pool2d(const lp_tensor *x, const int64_t kernel[2], const int64_t stride[2],
                                     const int64_t padding[2], int32_t ceil_mode, int32_t count_include_pad,
                                     lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 3, 4);
    if (!kernel) fail(LP_STATUS_BAD_ARG, "argument 'kernel' is NULL");
    auto k = pair(kernel, nullptr, "kernel", true);
    auto s = pair(stride, kernel, "stride", true);
    auto p = pair(padding, k_zero, "padding", false);
    for (int i = 0; i < 2; i++)
        if (p[i] * 2 > k[i]) fail(LP_STATUS_BAD_ARG, "padding %lld should be at most half of kernel %lld", (long long)p[i], (long long)k[i]);
    *out = lp::new_handle(at::avg_pool2d(xx, k, s, p, ceil_mode != 0, count_include_pad != 0, c10::nullopt));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_adaptive_avg_pool2d(const lp_tensor *x, const int64_t output_size[2], lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 3, 4);
    if (!output_size) fail(LP_STATUS_BAD_ARG, "argument 'output_size' is NULL");
    auto o = pair(output_size, nullptr, "output_size", true);
    *out = lp::new_handle(at::adaptive_avg_pool2d(xx, o));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_pixel_shuffle(const lp_tensor *x, int64_t upscale_factor, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 3, LP_MAX_DIMS);
    if (upscale_factor < 1) fail(LP_STATUS_BAD_ARG, "upscale_factor must be >= 1, got %lld", (long long)upscale_factor);
    int64_t c = xx.size(-3), r2 = upscale_factor * upscale_factor;
    if (c % r2 != 0)
        fail(LP_STATUS_BAD_ARG, "channels %lld not divisible by upscale_factor^2 = %lld", (long long)c, (long long)r2);
    *out = lp::new_handle(at::pixel_shuffle(xx, upscale_factor));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_interpolate(const lp_tensor *x, const int64_t size[2], lp_interp_mode mode,
                                      int32_t align_corners, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    require_rank(xx, "x", 2, LP_MAX_DIMS);
    if (!size) fail(LP_STATUS_BAD_ARG, "argument 'size' is NULL");
    auto sz = pair(size, nullptr, "size", true);
    if ((int)mode < LP_INTERP_NEAREST || (int)mode > LP_INTERP_BICUBIC)
        fail(LP_STATUS_BAD_ARG, "mode %d is not an lp_interp_mode (0..2)", (int)mode);
    // The kernels want NCHW; every plane is resized independently, so fold
    // any leading dims into N (C = 1) and unfold afterwards.
    at::Tensor in = xx;
    std::vector<int64_t> lead(xx.sizes().begin(), xx.sizes().end() - 2);
    if (xx.dim() != 4) in = xx.reshape({-1, 1, xx.size(-2), xx.size(-1)});
    at::Tensor r;
    bool ac = align_corners != 0;
    switch (mode) {
    case LP_INTERP_NEAREST: r = at::upsample_nearest2d(in, sz); break;
    case LP_INTERP_BILINEAR: r = at::upsample_bilinear2d(in, sz, ac); break;
    case LP_INTERP_BICUBIC: r = at::upsample_bicubic2d(in, sz, ac); break;
    }
    if (xx.dim() != 4) {
        lead.push_back(sz[0]);
        lead.push_back(sz[1]);
        r = r.reshape(lead);
    }
    *out = lp::new_handle(std::move(r));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_pad(const lp_tensor *x, const int64_t *pads, int32_t n_pads, lp_pad_mode mode, double value,
                              lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    if (n_pads < 0 || n_pads % 2 != 0 || n_pads / 2 > xx.dim())
        fail(LP_STATUS_BAD_ARG, "n_pads must be even and at most 2 * ndim = %lld, got %d", (long long)(2 * xx.dim()),
             (int)n_pads);
    if (n_pads > 0 && !pads) fail(LP_STATUS_BAD_ARG, "argument 'pads' is NULL");
    std::vector<int64_t> p(pads, pads + n_pads);
    const char *m = nullptr;
    switch (mode) {
    case LP_PAD_CONSTANT: m = "constant"; break;
    case LP_PAD_REFLECT: m = "reflect"; break;
    case LP_PAD_REPLICATE: m = "replicate"; break;
    default: fail(LP_STATUS_BAD_ARG, "mode %d is not an lp_pad_mode (0..2)", (int)mode);
    }
    if (mode == LP_PAD_REFLECT)
        for (int32_t i = 0; i < n_pads; i++) {
            int64_t n = xx.size(xx.dim() - 1 - i / 2);
            if (p[i] >= n)
                fail(LP_STATUS_BAD_ARG, "reflect padding %lld must be < the size %lld of its dim", (long long)p[i], (long long)n);
        }
    c10::optional<double> v;
    if (mode == LP_PAD_CONSTANT) v = value;
    *out = lp::new_handle(at::pad(xx, p, m, v));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    lp::require_float(xx, "x");
    *out = lp::new_handle(at::softmax(xx, lp::wrap_dim(dim, xx.dim())));
    LP_CATCH
}

LP_EXPORT lp_status lp_nn_log_softmax(const lp_tensor *x, int32_t dim, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &xx = ref(x, "x");
    lp::require_float(xx, "x");
    *out = lp::new_handle(at::log_softmax(xx, lp::wrap_dim(dim, xx.dim())));
    LP_CATCH
}

// ==========================================================================
// Autograd
// ==========================================================================

LP_EXPORT lp_status lp_tensor_set_requires_grad(lp_tensor *t, int32_t requires_grad) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    if (requires_grad) {
        if (!at::isFloatingType(x.scalar_type()))
            fail(LP_STATUS_BAD_ARG, "only floating-point tensors can require gradients, got %s",
                 c10::toString(x.scalar_type()));
    } else if (!x.is_leaf()) {
        fail(LP_STATUS_BAD_ARG, "cannot turn off requires_grad of a non-leaf tensor (use lp_tensor_detach)");
    }
    x.set_requires_grad(requires_grad != 0);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_backward(const lp_tensor *t, const lp_tensor *grad, int32_t retain_graph) {
    LP_TRY
    const at::Tensor &x = ref(t, "t");
    if (!x.requires_grad())
        fail(LP_STATUS_BAD_ARG, "tensor does not require grad and has no grad_fn (was grad mode off?)");
    at::Tensor g;
    if (grad) {
        g = grad->t;
        if (!g.sizes().equals(x.sizes()))
            fail(LP_STATUS_BAD_ARG, "grad has shape %s, tensor has %s", lp::shape_str(g.sizes()).c_str(),
                 lp::shape_str(x.sizes()).c_str());
    } else if (x.numel() != 1) {
        fail(LP_STATUS_BAD_ARG, "grad can be omitted only for one-element tensors, got shape %s",
             lp::shape_str(x.sizes()).c_str());
    }
    x.backward(g, retain_graph != 0, false);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_grad(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    const at::Tensor &x = ref(t, "t");
    *out = nullptr;
    // A non-leaf has no .grad (and asking makes libtorch print a warning).
    if (!x.is_leaf() && !x.retains_grad()) return LP_STATUS_OK;
    const at::Tensor &g = x.grad();
    if (g.defined()) *out = lp::new_handle(g);
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_zero_grad(lp_tensor *t) {
    LP_TRY
    at::Tensor &x = lp::mut(t, "t");
    if (x.is_leaf() || x.retains_grad()) x.mutable_grad().reset();
    LP_CATCH
}

LP_EXPORT lp_status lp_tensor_detach(const lp_tensor *t, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    *out = lp::new_handle(ref(t, "t").detach());
    LP_CATCH
}

LP_EXPORT void lp_grad_set_enabled(int32_t enabled) {
    try {
        c10::GradMode::set_enabled(enabled != 0);
    } catch (...) {
    }
}

LP_EXPORT int32_t lp_grad_is_enabled(void) { LP_NOTHROW(1, return c10::GradMode::is_enabled() ? 1 : 0;) }
