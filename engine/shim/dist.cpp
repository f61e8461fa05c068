// dist.cpp: process groups over libtorch's c10d (lpose/dist.h). We add no
// communication code of our own: Gloo (CPU) or NCCL (CUDA) does the
// collectives, a TCPStore or FileStore the rendezvous. What we add is
// bucketing (many small gradients -> few large collectives) and errors that
// say a peer failed instead of a Gloo socket message.
#include "shim.hpp"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <csignal>
#include <cstring>
#include <map>

struct lp_dist {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> pg;
    int32_t rank = 0, world_size = 1;
    std::chrono::milliseconds timeout{0};
};

namespace {

constexpr int64_t kDefaultTimeoutMs = 30 * 60 * 1000;
constexpr int64_t kDefaultBucketBytes = 25 << 20; // DDP's default bucket size

bool is_loopback(const std::string &addr) {
    return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const lp_dist_params &p,
                                                       const std::string &master) {
    if (p.gloo_interface && *p.gloo_interface)
        return c10d::ProcessGroupGloo::createDeviceForInterface(p.gloo_interface);
    if (is_loopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10d::ReduceOp to_reduce_op(int32_t op) {
    switch (op) {
    case LP_DIST_SUM:
    case LP_DIST_AVG: return c10d::ReduceOp::SUM; // AVG: divided after the sum
    case LP_DIST_MAX: return c10d::ReduceOp::MAX;
    case LP_DIST_MIN: return c10d::ReduceOp::MIN;
    }
    lp::fail(LP_STATUS_BAD_ARG, "op must be LP_DIST_SUM, _AVG, _MAX or _MIN, got %d", (int)op);
}

lp_dist *check_group(lp_dist *g) {
    if (!g || !g->pg) lp::fail(LP_STATUS_BAD_ARG, "group is NULL or was freed");
    return g;
}

// The first line of an exception's message (Gloo's and c10d's carry more).
std::string first_line(const std::exception &e) {
    std::string what = e.what();
    size_t nl = what.find('\n');
    if (nl != std::string::npos) what.resize(nl);
    return what;
}

// A collective failed: a peer died, timed out or the network broke. Gloo
// reports this as a socket error; say what it means for the user.
[[noreturn]] void peer_failure(const lp_dist *g, const std::exception &e) {
    lp::fail(LP_STATUS_IO,
             "rank %d of %d: communication with the other ranks failed (another process exited, "
             "crashed or is stuck for longer than the %lld s timeout): %s",
             (int)g->rank, (int)g->world_size, (long long)(g->timeout.count() / 1000), first_line(e).c_str());
}

// Tensors grouped into flat buckets: same dtype and device, at most
// bucket_bytes each (a tensor larger than that gets a bucket of its own).
struct Bucket {
    std::vector<at::Tensor> members;
    at::Tensor flat;
};

std::vector<Bucket> make_buckets(lp_tensor *const *tensors, int32_t n, int64_t bucket_bytes) {
    if (n < 0 || (n > 0 && !tensors)) lp::fail(LP_STATUS_BAD_ARG, "tensors is NULL or n < 0");
    if (bucket_bytes <= 0) bucket_bytes = kDefaultBucketBytes;
    std::vector<Bucket> buckets;
    std::map<std::pair<int, std::string>, size_t> open; // (dtype, device) -> bucket index
    std::vector<int64_t> bytes;
    at::Device device = at::kCPU;
    for (int32_t i = 0; i < n; ++i) {
        const at::Tensor &t = lp::ref(tensors[i], "tensors[i]");
        if (i == 0) device = t.device();
        if (t.device() != device)
            lp::fail(LP_STATUS_BAD_ARG, "tensors[%d] is on %s, tensors[0] on %s", (int)i,
                     t.device().str().c_str(), device.str().c_str());
        auto key = std::make_pair((int)t.scalar_type(), t.device().str());
        int64_t nb = t.numel() * (int64_t)t.element_size();
        auto it = open.find(key);
        if (it == open.end() || bytes[it->second] + nb > bucket_bytes) {
            buckets.emplace_back();
            bytes.push_back(0);
            open[key] = buckets.size() - 1;
            it = open.find(key);
        }
        buckets[it->second].members.push_back(t);
        bytes[it->second] += nb;
    }
    for (auto &b : buckets) {
        std::vector<at::Tensor> flat;
        for (const auto &t : b.members) flat.push_back(t.detach().reshape({-1}));
        b.flat = at::cat(flat);
    }
    return buckets;
}

void unpack(Bucket &b) {
    int64_t off = 0;
    for (auto &t : b.members) {
        int64_t k = t.numel();
        t.detach().copy_(b.flat.narrow(0, off, k).view(t.sizes()));
        off += k;
    }
}

// One collective per bucket, all in flight before the first wait.
template <class Issue>
void run_buckets(lp_dist *g, std::vector<Bucket> &buckets, Issue issue) {
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    try {
        for (auto &b : buckets) {
            std::vector<at::Tensor> one{b.flat};
            work.push_back(issue(one));
        }
        for (auto &w : work) w->wait(g->timeout);
    } catch (const std::exception &e) {
        peer_failure(g, e);
    }
}

} // namespace

LP_EXPORT lp_dist_params lp_dist_default_params(void) {
    lp_dist_params p;
    std::memset(&p, 0, sizeof p);
    p.backend = LP_DIST_GLOO;
    p.world_size = 1;
    p.master_port = c10d::TCPStoreOptions::kDefaultPort;
    p.timeout_ms = kDefaultTimeoutMs;
    return p;
}

LP_EXPORT int32_t lp_dist_backend_available(int32_t backend) {
    if (backend == LP_DIST_GLOO) return 1;
#ifdef USE_C10D_NCCL
    if (backend == LP_DIST_NCCL) return 1;
#endif
    return 0;
}

LP_EXPORT lp_status lp_dist_init(const lp_dist_params *params, lp_dist **out) {
    LP_TRY
    lp::check_out(out);
    *out = nullptr;
    lp_dist_params p = params ? *params : lp_dist_default_params();
    if (p.world_size < 1) lp::fail(LP_STATUS_BAD_ARG, "world_size must be >= 1, got %d", (int)p.world_size);
    if (p.rank < 0 || p.rank >= p.world_size)
        lp::fail(LP_STATUS_BAD_ARG, "rank must be in 0..%d, got %d", (int)p.world_size - 1, (int)p.rank);
    if (!lp_dist_backend_available(p.backend))
        lp::fail(LP_STATUS_UNSUPPORTED, p.backend == LP_DIST_NCCL
                     ? "NCCL is not available in this build (build with a CUDA libtorch and NCCL=1)"
                     : "unknown backend %d", (int)p.backend);
    if (p.master_port <= 0) p.master_port = c10d::TCPStoreOptions::kDefaultPort;
    if (p.master_port > 65535) lp::fail(LP_STATUS_BAD_ARG, "master_port %d is not a TCP port", (int)p.master_port);
    // A peer that dies closes its sockets; Gloo's next write would raise
    // SIGPIPE and kill this process before it could report the failure.
    // Ignore it (as Python does) unless the program installed a handler.
    struct sigaction old_action;
    if (sigaction(SIGPIPE, nullptr, &old_action) == 0 && old_action.sa_handler == SIG_DFL)
        std::signal(SIGPIPE, SIG_IGN);
    auto g = std::make_unique<lp_dist>();
    g->rank = p.rank;
    g->world_size = p.world_size;
    g->timeout = std::chrono::milliseconds(p.timeout_ms > 0 ? p.timeout_ms : kDefaultTimeoutMs);
    std::string master = p.master_addr && *p.master_addr ? p.master_addr : "127.0.0.1";
    const bool file_store = p.store_path && *p.store_path;
    try {
        if (file_store) {
            g->store = c10::make_intrusive<c10d::FileStore>(p.store_path, p.world_size);
        } else {
            c10d::TCPStoreOptions o;
            o.port = (std::uint16_t)p.master_port;
            o.isServer = p.rank == 0 && !p.store_served;
            o.numWorkers = (size_t)p.world_size;
            o.waitWorkers = true;
            o.timeout = g->timeout;
            g->store = c10::make_intrusive<c10d::TCPStore>(master, o);
        }
        g->store->setTimeout(g->timeout);
        // our keys under "lpose/", clear of a launcher's own keys in a shared store
        g->store = c10::make_intrusive<c10d::PrefixStore>("lpose", g->store);
        if (p.backend == LP_DIST_GLOO) {
            auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
            opts->devices.push_back(gloo_device(p, master));
            g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, p.rank, p.world_size, opts);
        }
#ifdef USE_C10D_NCCL
        else {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = g->timeout;
            g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, p.rank, p.world_size, opts);
        }
#endif
    } catch (const std::exception &e) {
        std::string where = file_store ? p.store_path : master + ":" + std::to_string(p.master_port);
        lp::fail(LP_STATUS_IO, "rank %d of %d could not join the group (store %s, timeout %lld s): %s",
                 (int)p.rank, (int)p.world_size, where.c_str(),
                 (long long)(g->timeout.count() / 1000), first_line(e).c_str());
    }
    *out = g.release();
    LP_CATCH
}

LP_EXPORT void lp_dist_free(lp_dist *group) {
    try {
        delete group;
    } catch (...) {
    }
}

LP_EXPORT int32_t lp_dist_rank(const lp_dist *group) { return group ? group->rank : -1; }
LP_EXPORT int32_t lp_dist_world_size(const lp_dist *group) { return group ? group->world_size : -1; }

LP_EXPORT lp_status lp_dist_all_reduce(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t op,
                                       int64_t bucket_bytes) {
    LP_TRY
    lp_dist *g = check_group(group);
    c10d::AllreduceOptions opts;
    opts.reduceOp = to_reduce_op(op);
    opts.timeout = g->timeout;
    at::NoGradGuard no_grad;
    auto buckets = make_buckets(tensors, n, bucket_bytes);
    if (op == LP_DIST_AVG)
        for (auto &b : buckets)
            if (!at::isFloatingType(b.flat.scalar_type()))
                lp::fail(LP_STATUS_BAD_ARG, "LP_DIST_AVG needs floating-point tensors, got %s",
                         c10::toString(b.flat.scalar_type()));
    run_buckets(g, buckets, [&](std::vector<at::Tensor> &one) { return g->pg->allreduce(one, opts); });
    for (auto &b : buckets) {
        if (op == LP_DIST_AVG) b.flat.div_(g->world_size);
        unpack(b);
    }
    LP_CATCH
}

LP_EXPORT lp_status lp_dist_broadcast(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t root) {
    LP_TRY
    lp_dist *g = check_group(group);
    if (root < 0 || root >= g->world_size)
        lp::fail(LP_STATUS_BAD_ARG, "root must be in 0..%d, got %d", (int)g->world_size - 1, (int)root);
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = g->timeout;
    at::NoGradGuard no_grad;
    auto buckets = make_buckets(tensors, n, 0);
    run_buckets(g, buckets, [&](std::vector<at::Tensor> &one) { return g->pg->broadcast(one, opts); });
    if (g->rank != root)
        for (auto &b : buckets) unpack(b);
    LP_CATCH
}

LP_EXPORT lp_status lp_dist_barrier(lp_dist *group) {
    LP_TRY
    lp_dist *g = check_group(group);
    c10d::BarrierOptions opts;
    opts.timeout = g->timeout;
    try {
        g->pg->barrier(opts)->wait(g->timeout);
    } catch (const std::exception &e) {
        peer_failure(g, e);
    }
    LP_CATCH
}

// ==========================================================================
// Synchronised batch norm
// ==========================================================================

namespace {

// x's shape for broadcasting a (C,) per-channel vector: (1, C, 1, ...)
at::Tensor per_channel(const at::Tensor &v, const at::Tensor &x) {
    std::vector<int64_t> shape(x.dim(), 1);
    shape[1] = v.size(0);
    return v.view(shape);
}

void all_reduce_sum(lp_dist *g, at::Tensor &t) {
    std::vector<at::Tensor> one{t};
    c10d::AllreduceOptions opts;
    opts.timeout = g->timeout;
    try {
        g->pg->allreduce(one, opts)->wait(g->timeout);
    } catch (const std::exception &e) {
        peer_failure(g, e);
    }
}

// Sums over every dim but the channel dim 1, per channel.
at::Tensor channel_sum(const at::Tensor &t) {
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < t.dim(); ++d) dims.push_back(d);
    return t.sum(dims);
}

// y = (x - mean) * invstd * w + b with the global mean and invstd given
// (constants to autograd); backward all-reduces the two per-channel sums
// the input gradient needs, as torch.nn.SyncBatchNorm does. Weight and
// bias gradients stay local: data-parallel averaging sums them up.
// x - mean is formed explicitly, as libtorch's training-mode kernel does:
// folding the mean into a per-channel constant (x * a + c) cancels badly
// when |mean| >> std, and the rounding then grows over the training steps.
struct SyncBatchNormFn : public torch::autograd::Function<SyncBatchNormFn> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x,
                              const at::Tensor &w, const at::Tensor &b, const at::Tensor &mean,
                              const at::Tensor &invstd, int64_t group, double count) {
        at::Tensor xmu = x - per_channel(mean, x);
        ctx->save_for_backward({xmu, w, invstd});
        ctx->saved_data["group"] = group;
        ctx->saved_data["count"] = count;
        return at::addcmul(per_channel(b, x), xmu, per_channel(invstd * w, x));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const at::Tensor &xmu = saved[0], &w = saved[1], &invstd = saved[2];
        auto *g = reinterpret_cast<lp_dist *>(ctx->saved_data["group"].toInt());
        double count = ctx->saved_data["count"].toDouble();
        const at::Tensor &dy = grads[0];
        at::Tensor sum_dy = channel_sum(dy), sum_dy_xmu = channel_sum(dy * xmu);
        at::Tensor grad_w = sum_dy_xmu * invstd, grad_b = sum_dy;
        int64_t c = sum_dy.size(0);
        at::Tensor both = at::cat({sum_dy, sum_dy_xmu});
        all_reduce_sum(g, both);
        at::Tensor mean_dy = both.narrow(0, 0, c) / count, mean_dy_xmu = both.narrow(0, c, c) / count;
        // dx = w invstd (dy - mean_dy - (x - mean) invstd^2 mean_dy_xmu)
        at::Tensor k1 = w * invstd, k2 = -k1 * invstd * invstd * mean_dy_xmu;
        at::Tensor dx = (dy - per_channel(mean_dy, xmu)).mul_(per_channel(k1, xmu));
        dx.addcmul_(xmu, per_channel(k2, xmu));
        return {dx, grad_w, grad_b, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

} // namespace

LP_EXPORT lp_status lp_nn_sync_batch_norm(lp_dist *group, const lp_tensor *x, const lp_tensor *weight,
                                          const lp_tensor *bias, lp_tensor *running_mean,
                                          lp_tensor *running_var, double momentum, double eps,
                                          lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    lp_dist *g = check_group(group);
    const at::Tensor &xx = lp::ref(x, "x");
    if (xx.dim() < 2) lp::fail(LP_STATUS_BAD_ARG, "x must have a channel dim 1, got shape %s",
                               lp::shape_str(xx.sizes()).c_str());
    const int64_t c = xx.size(1);
    const at::Tensor &w = lp::ref(weight, "weight"), &b = lp::ref(bias, "bias");
    at::Tensor &rm = lp::mut(running_mean, "running_mean"), &rv = lp::mut(running_var, "running_var");
    for (const at::Tensor *t : {&w, &b, &static_cast<const at::Tensor &>(rm), &static_cast<const at::Tensor &>(rv)})
        if (t->dim() != 1 || t->size(0) != c)
            lp::fail(LP_STATUS_BAD_ARG, "weight, bias and running stats must have shape [%lld] for x of shape %s",
                     (long long)c, lp::shape_str(xx.sizes()).c_str());
    at::Tensor mean, invstd;
    double count = 0;
    {
        // global statistics: per-rank count, sum and sum of squares, in f64
        // (each rank's own are accurate; only the combination is new)
        at::NoGradGuard no_grad;
        at::Tensor xd = xx.detach();
        double n_local = (double)(xd.numel() / std::max<int64_t>(c, 1));
        std::vector<int64_t> dims{0};
        for (int64_t d = 2; d < xd.dim(); ++d) dims.push_back(d);
        auto vm = at::var_mean(xd, dims, /*unbiased=*/false);
        at::Tensor var_l = std::get<0>(vm).to(at::kDouble), mean_l = std::get<1>(vm).to(at::kDouble);
        at::Tensor stats = at::cat({mean_l * n_local, (var_l + mean_l * mean_l) * n_local,
                                    at::full({1}, n_local, mean_l.options())});
        all_reduce_sum(g, stats);
        count = stats[2 * c].item<double>();
        if (count <= 1) lp::fail(LP_STATUS_BAD_ARG, "expected more than 1 value per channel over all ranks");
        at::Tensor mean_d = stats.narrow(0, 0, c) / count;
        at::Tensor var_d = (stats.narrow(0, c, c) / count - mean_d * mean_d).clamp_min(0);
        mean = mean_d.to(xx.scalar_type());
        invstd = (var_d + eps).rsqrt().to(xx.scalar_type());
        rm.mul_(1 - momentum).add_(mean_d.to(rm.scalar_type()), momentum);
        rv.mul_(1 - momentum).add_((var_d * (count / (count - 1))).to(rv.scalar_type()), momentum);
    }
    *out = lp::new_handle(
        SyncBatchNormFn::apply(xx, w, b, mean, invstd, (int64_t) reinterpret_cast<intptr_t>(g), count));
    LP_CATCH
}
