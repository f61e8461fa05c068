// optim.cpp: torch.optim.Adam and torch.optim.SGD (PyTorch 1.13's
// single-tensor code paths, op for op, so results match to rounding), with
// parameter groups and state export as an lp_tensor_list for checkpoints.
#include "shim.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

using lp::fail;
using lp::ref;

namespace {

struct ParamState {
    double step = 0;       // Adam: number of updates done (torch keeps it as a tensor)
    at::Tensor exp_avg;    // Adam
    at::Tensor exp_avg_sq; // Adam
    at::Tensor max_exp_avg_sq; // Adam, amsgrad
    at::Tensor momentum_buffer; // SGD, momentum != 0
};

struct Group {
    double lr;
    std::vector<at::Tensor> params;
    std::vector<ParamState> state;
};

} // namespace

struct lp_optim {
    lp_optim_params p;
    std::vector<Group> groups;
};

static lp_optim *opt_ref(lp_optim *o) {
    if (!o) fail(LP_STATUS_BAD_ARG, "argument 'opt' is NULL (freed optimizer?)");
    return o;
}

static Group &group_ref(lp_optim *o, int32_t g) {
    if (g < 0 || g >= (int32_t)o->groups.size())
        fail(LP_STATUS_BAD_ARG, "group %d out of range (optimizer has %d groups)", (int)g, (int)o->groups.size());
    return o->groups[g];
}

LP_EXPORT lp_optim_params lp_optim_default_params(lp_optim_kind kind) {
    lp_optim_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.lr = 1e-3; // Adam's default; torch.optim.SGD has none (1e-3 is torch >= 2.2's)
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    return p;
}

static void check_params(const lp_optim_params &p) {
    if (p.kind != LP_OPTIM_ADAM && p.kind != LP_OPTIM_SGD)
        fail(LP_STATUS_BAD_ARG, "kind %d is not an lp_optim_kind (0..1)", (int)p.kind);
    if (!(p.lr >= 0)) fail(LP_STATUS_BAD_ARG, "invalid learning rate %g", p.lr);
    if (!(p.weight_decay >= 0)) fail(LP_STATUS_BAD_ARG, "invalid weight_decay %g", p.weight_decay);
    if (p.kind == LP_OPTIM_ADAM) {
        if (!(p.eps >= 0)) fail(LP_STATUS_BAD_ARG, "invalid eps %g", p.eps);
        if (!(p.beta1 >= 0 && p.beta1 < 1)) fail(LP_STATUS_BAD_ARG, "invalid beta1 %g (need 0 <= beta1 < 1)", p.beta1);
        if (!(p.beta2 >= 0 && p.beta2 < 1)) fail(LP_STATUS_BAD_ARG, "invalid beta2 %g (need 0 <= beta2 < 1)", p.beta2);
    } else {
        if (!(p.momentum >= 0)) fail(LP_STATUS_BAD_ARG, "invalid momentum %g", p.momentum);
        if (p.nesterov && (p.momentum <= 0 || p.dampening != 0))
            fail(LP_STATUS_BAD_ARG, "nesterov momentum requires a momentum and zero dampening");
    }
}

LP_EXPORT lp_status lp_optim_init(const lp_optim_params *params, lp_optim **out) {
    LP_TRY
    lp::check_out(out);
    if (!params) fail(LP_STATUS_BAD_ARG, "argument 'params' is NULL");
    check_params(*params);
    lp_optim *o = new lp_optim;
    o->p = *params;
    *out = o;
    LP_CATCH
}

LP_EXPORT void lp_optim_free(lp_optim *opt) {
    try {
        delete opt;
    } catch (...) {
    }
}

LP_EXPORT lp_status lp_optim_add_group(lp_optim *opt, const lp_tensor *const *params, int32_t n, double lr,
                                       int32_t *out) {
    LP_TRY
    lp_optim *o = opt_ref(opt);
    if (n < 1) fail(LP_STATUS_BAD_ARG, "a group needs at least one parameter, got n = %d", (int)n);
    if (!params) fail(LP_STATUS_BAD_ARG, "argument 'params' is NULL");
    Group g;
    g.lr = lr < 0 ? o->p.lr : lr;
    for (int32_t i = 0; i < n; i++) {
        if (!params[i]) fail(LP_STATUS_BAD_ARG, "params[%d] is NULL (freed tensor?)", (int)i);
        const at::Tensor &t = params[i]->t;
        if (!t.is_leaf()) fail(LP_STATUS_BAD_ARG, "params[%d] is not a leaf tensor (can't optimize it)", (int)i);
        if (!t.requires_grad()) fail(LP_STATUS_BAD_ARG, "params[%d] does not require grad", (int)i);
        auto *impl = t.unsafeGetTensorImpl();
        for (const Group &og : o->groups)
            for (const at::Tensor &q : og.params)
                if (q.unsafeGetTensorImpl() == impl)
                    fail(LP_STATUS_BAD_ARG, "params[%d] is already in another group", (int)i);
        for (const at::Tensor &q : g.params)
            if (q.unsafeGetTensorImpl() == impl) fail(LP_STATUS_BAD_ARG, "params[%d] appears twice", (int)i);
        g.params.push_back(t);
    }
    g.state.resize(g.params.size());
    o->groups.push_back(std::move(g));
    if (out) *out = (int32_t)o->groups.size() - 1;
    LP_CATCH
}

LP_EXPORT int32_t lp_optim_n_groups(const lp_optim *opt) { return opt ? (int32_t)opt->groups.size() : 0; }

LP_EXPORT lp_status lp_optim_set_lr(lp_optim *opt, int32_t group, double lr) {
    LP_TRY
    lp_optim *o = opt_ref(opt);
    if (!(lr >= 0)) fail(LP_STATUS_BAD_ARG, "invalid learning rate %g", lr);
    group_ref(o, group).lr = lr;
    LP_CATCH
}

LP_EXPORT lp_status lp_optim_get_lr(const lp_optim *opt, int32_t group, double *out) {
    LP_TRY
    lp::check_out(out);
    lp_optim *o = opt_ref(const_cast<lp_optim *>(opt));
    *out = group_ref(o, group).lr;
    LP_CATCH
}

// torch/optim/adam.py _single_tensor_adam (1.13), non-capturable branch.
static void adam_update(const lp_optim_params &p, double lr, at::Tensor &param, at::Tensor grad, ParamState &s) {
    if (!s.exp_avg.defined()) {
        s.step = 0;
        s.exp_avg = at::zeros_like(param, at::MemoryFormat::Preserve);
        s.exp_avg_sq = at::zeros_like(param, at::MemoryFormat::Preserve);
        if (p.amsgrad) s.max_exp_avg_sq = at::zeros_like(param, at::MemoryFormat::Preserve);
    }
    s.step += 1;
    if (p.weight_decay != 0) grad = grad.add(param, p.weight_decay);
    s.exp_avg.mul_(p.beta1).add_(grad, 1 - p.beta1);
    s.exp_avg_sq.mul_(p.beta2).addcmul_(grad, grad, 1 - p.beta2);
    double bias_correction1 = 1 - std::pow(p.beta1, s.step);
    double bias_correction2 = 1 - std::pow(p.beta2, s.step);
    double step_size = lr / bias_correction1;
    double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor denom;
    if (p.amsgrad) {
        if (!s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = at::zeros_like(param, at::MemoryFormat::Preserve);
        at::maximum_out(s.max_exp_avg_sq, s.max_exp_avg_sq, s.exp_avg_sq);
        denom = (s.max_exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(p.eps);
    } else {
        denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(p.eps);
    }
    param.addcdiv_(s.exp_avg, denom, -step_size);
}

// torch/optim/sgd.py _single_tensor_sgd (1.13).
static void sgd_update(const lp_optim_params &p, double lr, at::Tensor &param, at::Tensor d_p, ParamState &s) {
    if (p.weight_decay != 0) d_p = d_p.add(param, p.weight_decay);
    if (p.momentum != 0) {
        if (!s.momentum_buffer.defined()) {
            s.momentum_buffer = d_p.clone().detach();
        } else {
            s.momentum_buffer.mul_(p.momentum).add_(d_p, 1 - p.dampening);
        }
        if (p.nesterov)
            d_p = d_p.add(s.momentum_buffer, p.momentum);
        else
            d_p = s.momentum_buffer;
    }
    param.add_(d_p, -lr);
}

LP_EXPORT lp_status lp_optim_step(lp_optim *opt) {
    LP_TRY
    lp_optim *o = opt_ref(opt);
    at::NoGradGuard no_grad; // torch.optim steps run under torch.no_grad()
    for (Group &g : o->groups) {
        for (size_t i = 0; i < g.params.size(); i++) {
            at::Tensor &param = g.params[i];
            const at::Tensor &grad = param.grad();
            if (!grad.defined()) continue;
            if (o->p.kind == LP_OPTIM_ADAM)
                adam_update(o->p, g.lr, param, grad, g.state[i]);
            else
                sgd_update(o->p, g.lr, param, grad, g.state[i]);
        }
    }
    LP_CATCH
}

LP_EXPORT lp_status lp_optim_zero_grad(lp_optim *opt) {
    LP_TRY
    lp_optim *o = opt_ref(opt);
    for (Group &g : o->groups)
        for (at::Tensor &p : g.params) p.mutable_grad().reset();
    LP_CATCH
}

// --------------------------------------------------------------------------
// State as named tensors: "<group>.<param>.<buffer>", a snapshot (cloned) so
// a checkpoint written later still holds the values of this moment.
// --------------------------------------------------------------------------

static const char *k_buffers[] = {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer"};
enum { N_BUFFERS = 5 };

static at::Tensor *buffer_of(ParamState &s, int b) {
    switch (b) {
    case 1: return &s.exp_avg;
    case 2: return &s.exp_avg_sq;
    case 3: return &s.max_exp_avg_sq;
    case 4: return &s.momentum_buffer;
    default: return nullptr;
    }
}

struct ListFree {
    void operator()(lp_tensor_list *l) const { lp_tensor_list_free(l); }
};

static void push(lp_tensor_list *list, const std::string &name, at::Tensor t) {
    lp::Handle h(lp::new_handle(std::move(t)));
    lp_status st = lp_tensor_list_push(list, name.c_str(), h.get());
    if (st != LP_STATUS_OK) fail(st, "%s", lp_last_error());
}

LP_EXPORT lp_status lp_optim_state(const lp_optim *opt, lp_tensor_list **out) {
    LP_TRY
    lp::check_out(out);
    lp_optim *o = opt_ref(const_cast<lp_optim *>(opt));
    lp_tensor_list *raw = nullptr;
    lp_status st = lp_tensor_list_init(&raw);
    if (st != LP_STATUS_OK) fail(st, "%s", lp_last_error());
    std::unique_ptr<lp_tensor_list, ListFree> list(raw);
    at::NoGradGuard no_grad;
    for (size_t gi = 0; gi < o->groups.size(); gi++) {
        Group &g = o->groups[gi];
        for (size_t pi = 0; pi < g.params.size(); pi++) {
            ParamState &s = g.state[pi];
            std::string prefix = std::to_string(gi) + "." + std::to_string(pi) + ".";
            if (s.exp_avg.defined())
                push(list.get(), prefix + "step", at::scalar_tensor(s.step, at::TensorOptions().dtype(at::kDouble)));
            for (int b = 1; b < N_BUFFERS; b++) {
                at::Tensor *t = buffer_of(s, b);
                if (t->defined()) push(list.get(), prefix + k_buffers[b], t->detach().clone());
            }
        }
    }
    *out = list.release();
    LP_CATCH
}

LP_EXPORT lp_status lp_optim_load_state(lp_optim *opt, const lp_tensor_list *state) {
    LP_TRY
    lp_optim *o = opt_ref(opt);
    if (!state) fail(LP_STATUS_BAD_ARG, "argument 'state' is NULL");
    // Build the new state aside and swap it in only when all of it is valid.
    std::vector<std::vector<ParamState>> ns(o->groups.size());
    for (size_t gi = 0; gi < o->groups.size(); gi++) ns[gi].resize(o->groups[gi].params.size());
    at::NoGradGuard no_grad;
    int32_t n = lp_tensor_list_size(state);
    for (int32_t i = 0; i < n; i++) {
        const char *name = lp_tensor_list_name(state, i);
        int gi = -1, pi = -1, used = 0;
        char buf[32] = {0};
        if (!name || sscanf(name, "%d.%d.%31s%n", &gi, &pi, buf, &used) != 3 || name[used] != '\0')
            fail(LP_STATUS_BAD_ARG, "state entry %d has a bad name '%s' (expected group.param.buffer)", (int)i,
                 name ? name : "(null)");
        if (gi < 0 || gi >= (int)o->groups.size() || pi < 0 || pi >= (int)o->groups[gi].params.size())
            fail(LP_STATUS_BAD_ARG, "state entry '%s' names a parameter this optimizer does not have", name);
        int b = -1;
        for (int k = 0; k < N_BUFFERS; k++)
            if (strcmp(buf, k_buffers[k]) == 0) b = k;
        bool adam = o->p.kind == LP_OPTIM_ADAM;
        if (b < 0 || (adam && b == 4) || (!adam && b != 4) || (adam && b == 3 && !o->p.amsgrad))
            fail(LP_STATUS_BAD_ARG, "state entry '%s' is not a buffer of this optimizer", name);
        lp_tensor *h = nullptr;
        lp_status st = lp_tensor_list_get(state, i, &h);
        if (st != LP_STATUS_OK) fail(st, "%s", lp_last_error());
        lp::Handle hold(h);
        const at::Tensor &param = o->groups[gi].params[pi];
        ParamState &s = ns[gi][pi];
        if (b == 0) {
            if (h->t.numel() != 1) fail(LP_STATUS_BAD_ARG, "state entry '%s' must have one element", name);
            s.step = h->t.item().toDouble();
        } else {
            if (!h->t.sizes().equals(param.sizes()))
                fail(LP_STATUS_BAD_ARG, "state entry '%s' has shape %s, the parameter has %s", name,
                     lp::shape_str(h->t.sizes()).c_str(), lp::shape_str(param.sizes()).c_str());
            *buffer_of(s, b) = h->t.detach().to(param.options(), false, true).contiguous();
        }
    }
    if (o->p.kind == LP_OPTIM_ADAM)
        for (size_t gi = 0; gi < ns.size(); gi++)
            for (size_t pi = 0; pi < ns[gi].size(); pi++) {
                ParamState &s = ns[gi][pi];
                bool any = s.exp_avg.defined() || s.exp_avg_sq.defined() || s.max_exp_avg_sq.defined() || s.step != 0;
                bool all = s.exp_avg.defined() && s.exp_avg_sq.defined() && (!o->p.amsgrad || s.max_exp_avg_sq.defined());
                if (any && !all)
                    fail(LP_STATUS_BAD_ARG, "state of parameter %zu.%zu is incomplete (need step, exp_avg, exp_avg_sq%s)", gi,
                         pi, o->p.amsgrad ? ", max_exp_avg_sq" : "");
            }
    for (size_t gi = 0; gi < ns.size(); gi++) o->groups[gi].state = std::move(ns[gi]);
    LP_CATCH
}
