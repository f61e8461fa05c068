// pickle_policy.cpp: see pickle_policy.hpp and docs/spec/checkpoint-files.md.
// The DATA list holds the classes that torchvision, MMPose and Lightning
// (Lightning Pose) checkpoints carry outside their tensors: their values are
// skipped, and since this reader never calls anything, accepting them runs no
// code. Everything else (os.system, builtins.eval, getattr, ...) is refused so
// that a file that tries to be code is reported, not quietly read.
#include "pickle_policy.hpp"

#include <map>

namespace lp {

PickleGlobal classify_global(const std::string &name) {
    using G = PickleGlobal;
    // protocol 2 (torch.save's) writes Python 3's builtins as Python 2's __builtin__
    const std::string py2 = "__builtin__.";
    const std::string g = name.compare(0, py2.size(), py2) == 0 ? "builtins." + name.substr(py2.size()) : name;
    static const std::map<std::string, G> known = {
        {"torch._utils._rebuild_tensor", G::REBUILD_TENSOR},
        {"torch._utils._rebuild_tensor_v2", G::REBUILD_TENSOR},
        {"torch._utils._rebuild_parameter", G::REBUILD_PARAM},
        {"torch._utils._rebuild_parameter_with_state", G::REBUILD_PARAM},
        {"torch.nn.parameter.Parameter", G::REBUILD_PARAM},
        {"torch._tensor._rebuild_from_type_v2", G::REBUILD_FROM_TYPE},
        {"collections.OrderedDict", G::DICT},
        {"collections.Counter", G::DICT},
        {"collections.defaultdict", G::DICT},
        {"builtins.dict", G::DICT},
        {"builtins.set", G::SET},
        {"builtins.frozenset", G::SET},
        {"torch.Size", G::SIZE},
        // inert data: torch scalars and metadata
        {"torch.device", G::DATA},
        {"torch.Tensor", G::DATA},
        {"torch.torch_version.TorchVersion", G::DATA},
        {"torch.serialization._get_layout", G::DATA},
        {"_codecs.encode", G::DATA}, // how protocol 2 writes a bytes object
        {"builtins.bytearray", G::DATA},
        {"builtins.complex", G::DATA},
        {"builtins.int", G::DATA},
        {"builtins.float", G::DATA},
        {"builtins.str", G::DATA},
        {"builtins.bool", G::DATA},
        {"builtins.list", G::DATA},
        {"builtins.tuple", G::DATA},
        {"builtins.bytes", G::DATA},
        {"builtins.slice", G::DATA},
        {"copyreg._reconstructor", G::DATA}, // its class argument is checked as a global too
        // numpy values (MMPose meta, Lightning callbacks)
        {"numpy.core.multiarray._reconstruct", G::DATA},
        {"numpy.core.multiarray.scalar", G::DATA},
        {"numpy._core.multiarray._reconstruct", G::DATA},
        {"numpy._core.multiarray.scalar", G::DATA},
        {"numpy.ndarray", G::DATA},
        {"numpy.dtype", G::DATA},
        // Lightning's hyper_parameters (OmegaConf configs, paths, argparse)
        {"omegaconf.dictconfig.DictConfig", G::DATA},
        {"omegaconf.listconfig.ListConfig", G::DATA},
        {"omegaconf.base.ContainerMetadata", G::DATA},
        {"omegaconf.base.Metadata", G::DATA},
        {"omegaconf.nodes.AnyNode", G::DATA},
        {"omegaconf.nodes.ValueNode", G::DATA},
        {"omegaconf.nodes.StringNode", G::DATA},
        {"omegaconf.nodes.IntegerNode", G::DATA},
        {"omegaconf.nodes.FloatNode", G::DATA},
        {"omegaconf.nodes.BooleanNode", G::DATA},
        {"typing.Any", G::DATA},
        {"pathlib.PosixPath", G::DATA},
        {"pathlib.WindowsPath", G::DATA},
        {"pathlib.PurePosixPath", G::DATA},
        {"argparse.Namespace", G::DATA},
        {"datetime.datetime", G::DATA},
        {"datetime.date", G::DATA},
        {"datetime.timedelta", G::DATA},
    };
    auto it = known.find(g);
    if (it != known.end()) return it->second;
    static const char *storages[] = {"Float", "Double", "Half", "BFloat16", "Long", "Int",
                                     "Short", "Char",   "Byte", "Bool"};
    for (const char *s : storages)
        if (g == std::string("torch.") + s + "Storage") return G::STORAGE;
    if (g == "torch.UntypedStorage" || g == "torch.storage.UntypedStorage") return G::STORAGE;
    // dtypes: torch.float32, torch.int64, ... (values of dtype fields)
    static const char *dtypes[] = {"float16", "float32", "float64", "bfloat16", "int8", "int16",
                                   "int32",   "int64",   "uint8",   "bool",     "float", "double",
                                   "half",    "long",    "int",     "short"};
    for (const char *d : dtypes)
        if (g == std::string("torch.") + d) return G::DATA;
    return G::REFUSED;
}

const char *pickle_opcode_name(uint8_t op) {
    switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
    }
}

} // namespace lp
