// randperm.cpp: torch.randperm with a seeded CPU generator (LP's data split,
// docs/spec/lp-data-train.md §1.6): libtorch's own Fisher-Yates over mt19937, so the
// same seed gives the same permutation as Python torch.
#include "shim.hpp"

LP_EXPORT lp_status lp_tensor_randperm(int64_t n, int64_t seed, lp_tensor **out) {
    LP_TRY
    lp::check_out(out);
    if (n < 0) lp::fail(LP_STATUS_BAD_ARG, "n must be >= 0, got %lld", (long long)n);
    auto gen = at::make_generator<at::CPUGeneratorImpl>((uint64_t)seed);
    *out = lp::new_handle(at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)));
    LP_CATCH
}
