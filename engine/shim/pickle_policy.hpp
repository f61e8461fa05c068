// pickle_policy.hpp: what the checkpoint reader (pickle.cpp) accepts, in one
// place: the globals it knows and the opcode names for its messages. The
// contract is written down in docs/spec/checkpoint-files.md; keep the two in
// step.
#pragma once

#include <cstdint>
#include <string>

namespace lp {

enum class PickleGlobal {
    REFUSED,          // anything not listed: the file is refused
    REBUILD_TENSOR,   // torch._utils._rebuild_tensor(_v2)
    REBUILD_PARAM,    // torch._utils._rebuild_parameter(_with_state), torch.nn.parameter.Parameter
    REBUILD_FROM_TYPE,// torch._tensor._rebuild_from_type_v2(func, type, args, state)
    STORAGE,          // torch.FloatStorage, ... (persistent ids only)
    DICT,             // collections.OrderedDict / Counter / defaultdict, builtins.dict
    SET,              // builtins.set / frozenset
    SIZE,             // torch.Size: a tuple
    DATA,             // inert data classes: read as an opaque value, never interpreted
};

PickleGlobal classify_global(const std::string &module_dot_name);
// "BINUNICODE", ...; NULL for a byte that is no pickle opcode.
const char *pickle_opcode_name(uint8_t op);

} // namespace lp
