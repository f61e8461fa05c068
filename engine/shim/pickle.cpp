// pickle.cpp: the reader of zip-format torch.save files (PyTorch >= 1.6:
// state dicts, Lightning checkpoints, MMPose checkpoints). Stock libtorch's
// pickle_load cannot read them: it maps collections.OrderedDict to None
// (docs/spec/toolchain.md §4). This is a small pickle VM that never calls
// anything: a checkpoint is data. Its contract (the opcodes and globals it
// accepts, its limits) is docs/spec/checkpoint-files.md; pickle_policy.cpp
// holds the lists, torch_zip.cpp the container checks.
//   - collections.OrderedDict (and dict, Counter, defaultdict) is a dict;
//   - torch._utils._rebuild_tensor(_v2) and _rebuild_parameter(_with_state)
//     rebuild tensors, as strided views of storages read from data/<key>,
//     each checked against its zip entry before anything is allocated;
//   - the inert data classes of pickle_policy.cpp are opaque values; any
//     other global is refused, naming it; BUILD states are ignored.
// The result is a flat lp_tensor_list: dict keys and list indices joined
// with '/' ("state_dict/backbone.0.weight"). The names of the non-tensor
// leaves go into the list's meta, one per line, so a weights loader can list
// what it skipped.
#include "pickle_policy.hpp"
#include "shim.hpp"
#include "torch_zip.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace {

// Limits (docs/spec/checkpoint-files.md §3). Real checkpoints sit far below:
// a Lightning checkpoint of a resnet50 model has a pickle of ~100 KB and
// ~20 000 values.
constexpr uint64_t kMaxPickleBytes = 64u << 20;
constexpr uint64_t kMaxValues = 1000000;   // values, marks and memo entries created by the VM
constexpr uint64_t kMaxVisits = 1000000;   // values visited when flattening (shared references count each time)
constexpr uint64_t kMaxString = 16u << 20; // one str or bytes value
constexpr int kMaxDepth = 64;              // containers inside containers
constexpr size_t kMaxName = 4096;          // a flattened name ("state_dict/...")
constexpr size_t kMaxSkippedListed = 10000;

struct Val;
using VP = std::shared_ptr<Val>;

struct Val {
    enum Kind { NONE, BOOL, INT, FLOAT, STR, BYTES, TUPLE, LIST, DICT, SET, GLOBAL, TENSOR, OPAQUE };
    Kind kind = NONE;
    int64_t i = 0;
    double f = 0;
    std::string s;                          // STR, BYTES, GLOBAL ("module.name")
    std::vector<VP> items;                  // TUPLE, LIST, SET
    std::vector<std::pair<VP, VP>> dict;    // DICT, in insertion order
    at::Tensor t;                           // TENSOR
};

const char *kind_name(Val::Kind k) {
    static const char *names[] = {"None", "bool",  "int",    "float",  "str",    "bytes", "tuple",
                                  "list", "dict",  "set",    "global", "tensor", "object"};
    return names[k];
}

at::ScalarType storage_dtype(const std::string &name) {
    static const std::map<std::string, at::ScalarType> types = {
        {"FloatStorage", at::kFloat},   {"DoubleStorage", at::kDouble},
        {"HalfStorage", at::kHalf},     {"BFloat16Storage", at::kBFloat16},
        {"LongStorage", at::kLong},     {"IntStorage", at::kInt},
        {"ShortStorage", at::kShort},   {"CharStorage", at::kChar},
        {"ByteStorage", at::kByte},     {"BoolStorage", at::kBool},
        {"UntypedStorage", at::kByte},
    };
    return types.at(name.substr(name.rfind('.') + 1)); // classify_global said STORAGE
}

class Unpickler {
  public:
    Unpickler(const lp::TorchZip &zip, const std::vector<uint8_t> &data)
        : zip_(zip), begin_(data.data()), p_(data.data()), end_(data.data() + data.size()) {}

    VP run() {
        for (;;) {
            op_at_ = (size_t)(p_ - begin_);
            uint8_t op = u8();
            if (op == '.') break;
            step(op);
        }
        if (stack_.empty()) bad("empty stack at STOP");
        return stack_.back();
    }

    // Containers can reference themselves through the memo; clearing them
    // all here breaks shared_ptr cycles so nothing leaks, and no container
    // is destroyed recursively.
    ~Unpickler() {
        for (auto &c : containers_) {
            c->items.clear();
            c->dict.clear();
        }
    }

    [[noreturn]] void bad(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        lp::fail(LP_STATUS_BAD_ARG, "pickle byte %zu: %s", op_at_, msg);
    }

  private:
    const lp::TorchZip &zip_;
    const uint8_t *begin_, *p_, *end_;
    size_t op_at_ = 0;
    uint64_t n_values_ = 0;
    std::vector<VP> containers_;
    std::vector<VP> stack_;
    std::vector<size_t> marks_;
    std::map<uint64_t, VP> memo_;
    std::map<std::string, at::Tensor> storages_;

    void count() {
        if (++n_values_ > kMaxValues)
            bad("more than %llu values (limit for a checkpoint)", (unsigned long long)kMaxValues);
    }
    VP mk(Val::Kind k) {
        count();
        auto v = std::make_shared<Val>();
        v->kind = k;
        if (k == Val::TUPLE || k == Val::LIST || k == Val::DICT || k == Val::SET) containers_.push_back(v);
        return v;
    }
    VP mk_int(int64_t i) {
        VP v = mk(Val::INT);
        v->i = i;
        return v;
    }
    VP mk_str(Val::Kind k, uint64_t n) {
        if (n > kMaxString) bad("a string of %llu bytes (at most %llu)", (unsigned long long)n,
                                (unsigned long long)kMaxString);
        need(n);
        VP v = mk(k);
        v->s.assign((const char *)p_, (size_t)n);
        p_ += n;
        return v;
    }
    VP mk_global(const std::string &mod, const std::string &name) {
        std::string g = mod + "." + name;
        if (lp::classify_global(g) == lp::PickleGlobal::REFUSED)
            lp::fail(LP_STATUS_UNSUPPORTED,
                     "pickle byte %zu: global '%.200s' is not allowed (checkpoints are data: only tensor "
                     "rebuild functions, storages, containers and the data classes listed in "
                     "docs/spec/checkpoint-files.md are read)",
                     op_at_, g.c_str());
        VP v = mk(Val::GLOBAL);
        v->s = std::move(g);
        return v;
    }

    void need(uint64_t n) {
        if ((uint64_t)(end_ - p_) < n) bad("truncated");
    }
    uint8_t u8() {
        need(1);
        return *p_++;
    }
    uint64_t uint_le(size_t n) {
        need(n);
        uint64_t v = 0;
        for (size_t k = 0; k < n; ++k) v |= (uint64_t)p_[k] << (8 * k);
        p_ += n;
        return v;
    }
    std::string line() {
        const uint8_t *nl = (const uint8_t *)memchr(p_, '\n', (size_t)(end_ - p_));
        if (!nl) bad("unterminated line");
        if ((size_t)(nl - p_) > 1024) bad("a GLOBAL name longer than 1024 bytes");
        std::string s((const char *)p_, (size_t)(nl - p_));
        p_ = nl + 1;
        return s;
    }
    void push(VP v) { stack_.push_back(std::move(v)); }
    VP pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) bad("stack underflow");
        VP v = stack_.back();
        stack_.pop_back();
        return v;
    }
    VP &top() {
        if (stack_.empty()) bad("stack underflow");
        return stack_.back();
    }
    std::vector<VP> pop_mark() {
        if (marks_.empty()) bad("no MARK");
        size_t m = marks_.back();
        marks_.pop_back();
        std::vector<VP> items(stack_.begin() + (std::ptrdiff_t)m, stack_.end());
        stack_.resize(m);
        return items;
    }
    void memo_put(uint64_t k) {
        if (!memo_.count(k)) count();
        memo_[k] = top();
    }
    void memo_get(uint64_t k) {
        auto it = memo_.find(k);
        if (it == memo_.end()) bad("memo key %llu was never stored", (unsigned long long)k);
        push(it->second);
    }
    VP tuple(std::vector<VP> items) {
        auto v = mk(Val::TUPLE);
        v->items = std::move(items);
        return v;
    }
    static void add_items(const VP &target, const std::vector<VP> &items) {
        if (target->kind == Val::LIST || target->kind == Val::SET)
            target->items.insert(target->items.end(), items.begin(), items.end());
    }
    static void set_items(const VP &target, const std::vector<VP> &kv) {
        if (target->kind != Val::DICT) return; // attributes of an opaque object
        for (size_t k = 0; k + 1 < kv.size(); k += 2) target->dict.emplace_back(kv[k], kv[k + 1]);
    }
    std::vector<int64_t> int_tuple(const VP &v, const char *what) {
        if (v->kind != Val::TUPLE && v->kind != Val::LIST) bad("tensor %s is a %s, not a tuple", what, kind_name(v->kind));
        if (v->items.size() > LP_MAX_DIMS) bad("tensor %s has %zu dims (at most %d)", what, v->items.size(), LP_MAX_DIMS);
        std::vector<int64_t> out;
        for (auto &x : v->items) {
            if (x->kind != Val::INT) bad("tensor %s holds a %s", what, kind_name(x->kind));
            if (x->i < 0) bad("tensor %s holds %lld", what, (long long)x->i);
            out.push_back(x->i);
        }
        return out;
    }

    // A storage: its bytes are checked against the zip entry before the
    // tensor is allocated, so a declared 1 TB storage costs nothing.
    at::Tensor load_storage(const VP &pid) {
        if (pid->kind != Val::TUPLE || pid->items.size() < 5 || pid->items[0]->kind != Val::STR ||
            pid->items[0]->s != "storage")
            bad("a persistent id that is not ('storage', type, key, location, numel)");
        const VP &type = pid->items[1], &key = pid->items[2], &numel = pid->items[4];
        if (type->kind != Val::GLOBAL || lp::classify_global(type->s) != lp::PickleGlobal::STORAGE ||
            key->kind != Val::STR || numel->kind != Val::INT)
            bad("a malformed storage reference");
        if (key->s.empty() || key->s.size() > 64 || key->s.find('/') != std::string::npos)
            bad("storage key '%.64s' is not a record name", key->s.c_str());
        auto it = storages_.find(key->s);
        if (it != storages_.end()) return it->second;
        at::ScalarType dt = storage_dtype(type->s);
        uint64_t nbytes = 0;
        if (numel->i < 0 || __builtin_mul_overflow((uint64_t)numel->i, (uint64_t)at::elementSize(dt), &nbytes))
            bad("storage data/%s declares %lld elements", key->s.c_str(), (long long)numel->i);
        uint64_t have = nbytes ? zip_.size("data/" + key->s) : 0;
        if (have < nbytes)
            bad("storage data/%s declares %llu bytes but its zip entry holds %llu", key->s.c_str(),
                (unsigned long long)nbytes, (unsigned long long)have);
        at::Tensor t = at::empty({numel->i}, at::TensorOptions().dtype(dt));
        if (nbytes) zip_.read("data/" + key->s, t.data_ptr(), nbytes);
        storages_[key->s] = t;
        return t;
    }

    VP rebuild_tensor(const std::vector<VP> &a) {
        if (a.size() < 4 || a[0]->kind != Val::TENSOR || a[1]->kind != Val::INT)
            bad("_rebuild_tensor needs (storage, offset, size, stride)");
        auto size = int_tuple(a[2], "size"), stride = int_tuple(a[3], "stride");
        if (size.size() != stride.size()) bad("tensor size has %zu dims, stride %zu", size.size(), stride.size());
        int64_t offset = a[1]->i, numel = 1, last = offset; // last element's index in the storage
        bool empty = false;
        for (size_t d = 0; d < size.size(); ++d) {
            int64_t step = 0;
            if (size[d] == 0) empty = true;
            else if (__builtin_mul_overflow(size[d] - 1, stride[d], &step) || __builtin_add_overflow(last, step, &last) ||
                     __builtin_mul_overflow(numel, size[d], &numel))
                bad("tensor size and stride overflow");
        }
        int64_t have = a[0]->t.numel();
        if (offset < 0 || (!empty && last >= have))
            bad("tensor view (offset %lld, last element %lld) runs past its storage of %lld elements",
                (long long)offset, (long long)last, (long long)have);
        auto v = mk(Val::TENSOR);
        v->t = a[0]->t.as_strided(size, stride, empty ? 0 : offset);
        return v;
    }

    VP call(const VP &fn, const VP &args) {
        if (fn->kind != Val::GLOBAL) bad("REDUCE on a %s, not a global", kind_name(fn->kind));
        if (args->kind != Val::TUPLE) bad("REDUCE arguments are a %s, not a tuple", kind_name(args->kind));
        const auto &a = args->items;
        switch (lp::classify_global(fn->s)) {
        case lp::PickleGlobal::REBUILD_TENSOR: return rebuild_tensor(a);
        case lp::PickleGlobal::REBUILD_PARAM:
            if (a.empty() || a[0]->kind != Val::TENSOR) bad("%s needs a tensor", fn->s.c_str());
            return a[0];
        case lp::PickleGlobal::REBUILD_FROM_TYPE: // (func, type, args, state): func(*args)
            if (a.size() < 3) bad("_rebuild_from_type_v2 needs (func, type, args, state)");
            return call(a[0], a[2]);
        case lp::PickleGlobal::DICT: {
            auto d = mk(Val::DICT);
            if (!a.empty() && (a[0]->kind == Val::LIST || a[0]->kind == Val::TUPLE))
                for (auto &kv : a[0]->items)
                    if (kv->kind == Val::TUPLE && kv->items.size() == 2) d->dict.emplace_back(kv->items[0], kv->items[1]);
            if (!a.empty() && a[0]->kind == Val::DICT) d->dict = a[0]->dict; // Counter({...})
            return d;
        }
        case lp::PickleGlobal::SET: {
            auto s = mk(Val::SET);
            if (!a.empty()) add_items(s, a[0]->items);
            return s;
        }
        case lp::PickleGlobal::SIZE: return tuple(a.empty() || a[0]->kind != Val::TUPLE ? std::vector<VP>{} : a[0]->items);
        case lp::PickleGlobal::STORAGE: bad("a storage class called directly");
        default: return mk(Val::OPAQUE);
        }
    }
    VP new_object(const VP &cls) {
        if (cls->kind != Val::GLOBAL) bad("NEWOBJ on a %s, not a class", kind_name(cls->kind));
        return lp::classify_global(cls->s) == lp::PickleGlobal::DICT ? mk(Val::DICT) : mk(Val::OPAQUE);
    }

    void step(uint8_t op) {
        switch (op) {
        case 0x80: u8(); break;       // PROTO
        case 0x95: uint_le(8); break; // FRAME: a hint, the data is all in memory
        case '}': push(mk(Val::DICT)); break;
        case ']': push(mk(Val::LIST)); break;
        case ')': push(mk(Val::TUPLE)); break;
        case 0x8f: push(mk(Val::SET)); break;
        case '(': count(); marks_.push_back(stack_.size()); break;
        case 'X': push(mk_str(Val::STR, uint_le(4))); break;
        case 0x8c: push(mk_str(Val::STR, u8())); break;
        case 0x8d: push(mk_str(Val::STR, uint_le(8))); break;
        case 'T': push(mk_str(Val::BYTES, uint_le(4))); break;
        case 'U': push(mk_str(Val::BYTES, u8())); break;
        case 'B': push(mk_str(Val::BYTES, uint_le(4))); break;
        case 'C': push(mk_str(Val::BYTES, u8())); break;
        case 0x8e: push(mk_str(Val::BYTES, uint_le(8))); break;
        case 'q': memo_put(u8()); break;
        case 'r': memo_put(uint_le(4)); break;
        case 0x94: memo_put(memo_.size()); break; // MEMOIZE
        case 'h': memo_get(u8()); break;
        case 'j': memo_get(uint_le(4)); break;
        case 'c': {
            std::string mod = line(), name = line();
            push(mk_global(mod, name));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            VP name = pop(), mod = pop();
            if (mod->kind != Val::STR || name->kind != Val::STR) bad("STACK_GLOBAL of a non-string");
            push(mk_global(mod->s, name->s));
            break;
        }
        case 'J': push(mk_int((int32_t)(uint32_t)uint_le(4))); break;
        case 'K': push(mk_int(u8())); break;
        case 'M': push(mk_int((int64_t)uint_le(2))); break;
        case 0x8a: case 0x8b: { // LONG1, LONG4: little-endian two's complement
            uint64_t n = op == 0x8a ? u8() : uint_le(4);
            need(n);
            if (n > 8) bad("an integer of %llu bytes (at most 8)", (unsigned long long)n);
            uint64_t u = 0;
            for (size_t k = 0; k < n; ++k) u |= (uint64_t)p_[k] << (8 * k);
            if (n > 0 && n < 8 && (p_[n - 1] & 0x80)) u |= ~0ULL << (8 * n);
            p_ += n;
            push(mk_int((int64_t)u));
            break;
        }
        case 'G': {
            need(8);
            uint64_t u = 0;
            for (int k = 0; k < 8; ++k) u = (u << 8) | p_[k];
            p_ += 8;
            auto v = mk(Val::FLOAT);
            memcpy(&v->f, &u, 8);
            push(v);
            break;
        }
        case 'N': push(mk(Val::NONE)); break;
        case 0x88: case 0x89: { auto v = mk(Val::BOOL); v->i = op == 0x88; push(v); break; }
        case 't': push(tuple(pop_mark())); break;
        case 0x85: { VP a = pop(); push(tuple({a})); break; }
        case 0x86: { VP b = pop(), a = pop(); push(tuple({a, b})); break; }
        case 0x87: { VP c = pop(), b = pop(), a = pop(); push(tuple({a, b, c})); break; }
        case 'l': { auto v = mk(Val::LIST); v->items = pop_mark(); push(v); break; }
        case 'd': { auto v = mk(Val::DICT); set_items(v, pop_mark()); push(v); break; }
        case 'a': { VP x = pop(); add_items(top(), {x}); break; }
        case 'e': { auto items = pop_mark(); add_items(top(), items); break; }
        case 's': { VP v = pop(), k = pop(); set_items(top(), {k, v}); break; }
        case 'u': { auto kv = pop_mark(); set_items(top(), kv); break; }
        case 0x90: { auto items = pop_mark(); add_items(top(), items); break; }
        case 0x91: { auto v = mk(Val::SET); v->items = pop_mark(); push(v); break; }
        case 'R': { VP args = pop(), fn = pop(); push(call(fn, args)); break; }
        case 0x81: { VP args = pop(), cls = pop(); push(new_object(cls)); break; } // NEWOBJ
        case 0x92: { pop(); pop(); VP cls = pop(); push(new_object(cls)); break; } // NEWOBJ_EX
        case 'b': pop(); break; // BUILD: state ignored
        case 'Q': {             // BINPERSID
            VP pid = pop();
            auto v = mk(Val::TENSOR);
            v->t = load_storage(pid);
            push(v);
            break;
        }
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': push(top()); break;
        default: {
            const char *name = lp::pickle_opcode_name(op);
            if (name)
                lp::fail(LP_STATUS_UNSUPPORTED,
                         "pickle byte %zu: opcode %s (0x%02x) is not allowed (torch.save writes protocol 2; "
                         "see docs/spec/checkpoint-files.md)", op_at_, name, op);
            bad("0x%02x is not a pickle opcode", op);
        }
        }
    }
};

// Depth-first walk that turns the object tree into named tensors. `path`
// holds the containers being walked, so a container that holds itself
// (through the memo) is visited once; `visits` bounds shared references,
// which could otherwise expand a small file into 2^n paths.
struct Flattener {
    lp_tensor_list *list;
    std::string skipped;
    size_t n_skipped = 0;
    uint64_t visits = 0;
    std::vector<const Val *> path;

    void skip(const std::string &name) {
        if (++n_skipped > kMaxSkippedListed) return;
        skipped += (skipped.empty() ? "" : "\n") + name;
    }

    void walk(const VP &v, const std::string &prefix, int depth) {
        if (++visits > kMaxVisits)
            lp::fail(LP_STATUS_BAD_ARG, "pickle: the object tree expands to more than %llu values (shared references)",
                     (unsigned long long)kMaxVisits);
        if (depth > kMaxDepth)
            lp::fail(LP_STATUS_BAD_ARG, "pickle: containers nested deeper than %d (at '%.200s')", kMaxDepth,
                     prefix.c_str());
        if (prefix.size() > kMaxName)
            lp::fail(LP_STATUS_BAD_ARG, "pickle: a key path longer than %zu bytes ('%.100s...')", kMaxName,
                     prefix.c_str());
        for (const Val *p : path)
            if (p == v.get()) return;
        path.push_back(v.get());
        struct Pop {
            std::vector<const Val *> &path;
            ~Pop() { path.pop_back(); }
        } pop_on_exit{path};
        auto child = [&](const std::string &k) { return prefix.empty() ? k : prefix + "/" + k; };
        switch (v->kind) {
        case Val::TENSOR: {
            lp::Handle h(lp::new_handle(v->t));
            lp_status st = lp_tensor_list_push(list, prefix.empty() ? "tensor" : prefix.c_str(), h.get());
            if (st) lp::fail(st, "%s", lp_last_error());
            break;
        }
        case Val::DICT:
            for (auto &kv : v->dict) {
                if (kv.first->kind == Val::STR) walk(kv.second, child(kv.first->s), depth + 1);
                else if (kv.first->kind == Val::INT) walk(kv.second, child(std::to_string(kv.first->i)), depth + 1);
                else skip(child(std::string("<") + kind_name(kv.first->kind) + " key>"));
            }
            break;
        case Val::LIST:
        case Val::TUPLE:
            for (size_t k = 0; k < v->items.size(); ++k) walk(v->items[k], child(std::to_string(k)), depth + 1);
            break;
        default:
            skip(prefix.empty() ? "<root>" : prefix);
            break;
        }
    }
};

} // namespace

LP_EXPORT lp_status lp_pickle_load(const char *path, lp_tensor_list **out) {
    LP_TRY
        lp::check_out(out);
        if (!path) lp::fail(LP_STATUS_BAD_ARG, "path is NULL");
        *out = nullptr;
        FILE *f = fopen(path, "rb");
        if (!f) lp::fail(LP_STATUS_IO, "cannot open %s: %s", path, strerror(errno));
        unsigned char magic[4] = {0};
        size_t got = fread(magic, 1, 4, f);
        fclose(f);
        if (got < 4 || memcmp(magic, "PK\x03\x04", 4) != 0)
            lp::fail(LP_STATUS_UNSUPPORTED,
                     "%s is not a zip-format torch.save file (legacy pre-1.6 format?); "
                     "re-save it with a current PyTorch", path);
        lp::TorchZip zip{std::string(path)};
        std::vector<uint8_t> data = zip.read_all("data.pkl", kMaxPickleBytes);
        lp_tensor_list *raw = nullptr;
        if (lp_tensor_list_init(&raw)) lp::fail(LP_STATUS_OOM, "%s", lp_last_error());
        std::unique_ptr<lp_tensor_list, void (*)(lp_tensor_list *)> list(raw, lp_tensor_list_free);
        try {
            Unpickler up(zip, data);
            Flattener flat{list.get(), {}, 0, 0, {}};
            flat.walk(up.run(), "", 0);
            if (flat.n_skipped > kMaxSkippedListed)
                flat.skipped += "\n... (" + std::to_string(flat.n_skipped - kMaxSkippedListed) + " more)";
            if (lp_tensor_list_set_meta(list.get(), flat.skipped.c_str())) lp::fail(LP_STATUS_OOM, "%s", lp_last_error());
        } catch (const lp::Error &e) {
            throw lp::Error(e.status, std::string(path) + ": " + e.msg);
        }
        *out = list.release();
    LP_CATCH
}
