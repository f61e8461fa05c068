// pickle.cpp: a tolerant reader of zip-format torch.save files (PyTorch >= 1.6:
// state dicts, Lightning checkpoints, MMPose checkpoints). Stock libtorch's
// pickle_load cannot read them: it maps collections.OrderedDict to None
// (docs/toolchain-notes.md §4). This is a small pickle VM for the protocol-2
// subset torch.save writes (plus the protocol-4 opcodes that are easy):
//   - collections.OrderedDict is a dict;
//   - torch._utils._rebuild_tensor(_v2) and _rebuild_parameter(_with_state)
//     rebuild tensors, as strided views of storages read from data/<key>;
//   - any other global or class is an opaque value; BUILD states are ignored.
// The result is a flat lp_tensor_list: dict keys and list indices joined
// with '/' ("state_dict/backbone.0.weight"). Non-tensor leaves are skipped.
#include "shim.hpp"

#include <caffe2/serialize/inline_container.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace {

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

VP make(Val::Kind k) {
    auto v = std::make_shared<Val>();
    v->kind = k;
    return v;
}
VP make_int(int64_t i) {
    auto v = make(Val::INT);
    v->i = i;
    return v;
}
VP make_str(Val::Kind k, std::string s) {
    auto v = make(k);
    v->s = std::move(s);
    return v;
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
    auto dot = name.rfind('.');
    auto it = types.find(dot == std::string::npos ? name : name.substr(dot + 1));
    if (it == types.end()) lp::fail(LP_STATUS_UNSUPPORTED, "unsupported storage type %s", name.c_str());
    return it->second;
}

std::vector<int64_t> int_tuple(const VP &v, const char *what) {
    if (!v || (v->kind != Val::TUPLE && v->kind != Val::LIST))
        lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: %s is not a tuple", what);
    std::vector<int64_t> out;
    for (auto &x : v->items) {
        if (x->kind != Val::INT) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: %s holds a non-int", what);
        out.push_back(x->i);
    }
    return out;
}

class Unpickler {
  public:
    Unpickler(caffe2::serialize::PyTorchStreamReader &reader, const uint8_t *data, size_t size)
        : reader_(reader), p_(data), end_(data + size) {}

    VP run() {
        for (;;) {
            uint8_t op = u8();
            if (op == '.') break;
            step(op);
        }
        if (stack_.empty()) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: empty stack at STOP");
        return stack_.back();
    }

    // Containers can reference themselves through the memo; clearing them
    // all here breaks shared_ptr cycles so nothing leaks.
    ~Unpickler() {
        for (auto &c : containers_) {
            c->items.clear();
            c->dict.clear();
        }
    }

  private:
    std::vector<VP> containers_;
    VP mk(Val::Kind k) {
        VP v = make(k);
        if (k == Val::TUPLE || k == Val::LIST || k == Val::DICT || k == Val::SET) containers_.push_back(v);
        return v;
    }

    caffe2::serialize::PyTorchStreamReader &reader_;
    const uint8_t *p_, *end_;
    std::vector<VP> stack_;
    std::vector<size_t> marks_;
    std::map<uint64_t, VP> memo_;
    std::map<std::string, at::Tensor> storages_;

    void need(size_t n) {
        if ((size_t)(end_ - p_) < n) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: truncated");
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
    std::string bytes(size_t n) {
        need(n);
        std::string s((const char *)p_, n);
        p_ += n;
        return s;
    }
    std::string line() {
        const uint8_t *nl = (const uint8_t *)memchr(p_, '\n', (size_t)(end_ - p_));
        if (!nl) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: unterminated line");
        std::string s((const char *)p_, (size_t)(nl - p_));
        p_ = nl + 1;
        return s;
    }
    VP pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
            lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: stack underflow");
        VP v = stack_.back();
        stack_.pop_back();
        return v;
    }
    VP &top() {
        if (stack_.empty()) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: stack underflow");
        return stack_.back();
    }
    std::vector<VP> pop_mark() {
        if (marks_.empty()) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: no MARK");
        size_t m = marks_.back();
        marks_.pop_back();
        std::vector<VP> items(stack_.begin() + (std::ptrdiff_t)m, stack_.end());
        stack_.resize(m);
        return items;
    }
    void memo_get(uint64_t k) {
        auto it = memo_.find(k);
        if (it == memo_.end()) lp::fail(LP_STATUS_BAD_ARG, "malformed pickle: memo key %llu", (unsigned long long)k);
        stack_.push_back(it->second);
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

    at::Tensor load_storage(const VP &pid) {
        if (pid->kind != Val::TUPLE || pid->items.size() < 5 || pid->items[0]->kind != Val::STR ||
            pid->items[0]->s != "storage")
            lp::fail(LP_STATUS_UNSUPPORTED, "unsupported persistent id in pickle");
        const VP &type = pid->items[1], &key = pid->items[2], &numel = pid->items[4];
        if (type->kind != Val::GLOBAL || key->kind != Val::STR || numel->kind != Val::INT)
            lp::fail(LP_STATUS_BAD_ARG, "malformed storage reference in pickle");
        auto it = storages_.find(key->s);
        if (it != storages_.end()) return it->second;
        at::ScalarType dt = storage_dtype(type->s);
        at::Tensor t = at::empty({numel->i}, at::TensorOptions().dtype(dt));
        size_t nbytes = (size_t)numel->i * at::elementSize(dt);
        if (nbytes) {
            auto rec = reader_.getRecord("data/" + key->s);
            if (std::get<1>(rec) < nbytes)
                lp::fail(LP_STATUS_BAD_ARG, "storage data/%s holds %zu bytes, expected %zu",
                         key->s.c_str(), std::get<1>(rec), nbytes);
            memcpy(t.data_ptr(), std::get<0>(rec).get(), nbytes);
        }
        storages_[key->s] = t;
        return t;
    }

    VP reduce(const VP &fn, const VP &args) {
        const std::string &name = fn->kind == Val::GLOBAL ? fn->s : std::string();
        const auto &a = args->items;
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
            if (a.size() < 4 || a[0]->kind != Val::TENSOR || a[1]->kind != Val::INT)
                lp::fail(LP_STATUS_BAD_ARG, "malformed %s call", name.c_str());
            auto size = int_tuple(a[2], "size"), stride = int_tuple(a[3], "stride");
            if (size.size() != stride.size()) lp::fail(LP_STATUS_BAD_ARG, "size/stride length mismatch");
            int64_t need_el = a[1]->i + 1;
            for (size_t d = 0; d < size.size(); ++d) {
                if (size[d] == 0) need_el = 0;
                if (size[d] < 0 || stride[d] < 0) lp::fail(LP_STATUS_BAD_ARG, "negative size or stride");
            }
            if (need_el) for (size_t d = 0; d < size.size(); ++d) need_el += (size[d] - 1) * stride[d];
            if (need_el > a[0]->t.numel())
                lp::fail(LP_STATUS_BAD_ARG, "tensor view runs past its storage");
            auto v = mk(Val::TENSOR);
            v->t = a[0]->t.as_strided(size, stride, a[1]->i);
            return v;
        }
        if (name == "torch._utils._rebuild_parameter" ||
            name == "torch._utils._rebuild_parameter_with_state") {
            if (a.empty() || a[0]->kind != Val::TENSOR) lp::fail(LP_STATUS_BAD_ARG, "malformed %s call", name.c_str());
            return a[0];
        }
        if (name == "collections.OrderedDict" || name == "builtins.dict") {
            auto d = mk(Val::DICT);
            if (!a.empty() && (a[0]->kind == Val::LIST || a[0]->kind == Val::TUPLE))
                for (auto &kv : a[0]->items)
                    if (kv->kind == Val::TUPLE && kv->items.size() == 2) d->dict.emplace_back(kv->items[0], kv->items[1]);
            return d;
        }
        if (name == "builtins.set" || name == "builtins.frozenset") {
            auto s = mk(Val::SET);
            if (!a.empty()) add_items(s, a[0]->items);
            return s;
        }
        return mk(Val::OPAQUE);
    }

    void step(uint8_t op) {
        switch (op) {
        case 0x80: u8(); break;                       // PROTO
        case 0x95: uint_le(8); break;                 // FRAME
        case '}': stack_.push_back(mk(Val::DICT)); break;
        case ']': stack_.push_back(mk(Val::LIST)); break;
        case ')': stack_.push_back(mk(Val::TUPLE)); break;
        case 0x8f: stack_.push_back(mk(Val::SET)); break;
        case '(': marks_.push_back(stack_.size()); break;
        case 'X': stack_.push_back(make_str(Val::STR, bytes(uint_le(4)))); break;
        case 0x8c: stack_.push_back(make_str(Val::STR, bytes(u8()))); break;
        case 0x8d: stack_.push_back(make_str(Val::STR, bytes(uint_le(8)))); break;
        case 'T': stack_.push_back(make_str(Val::BYTES, bytes(uint_le(4)))); break;
        case 'U': stack_.push_back(make_str(Val::BYTES, bytes(u8()))); break;
        case 'B': stack_.push_back(make_str(Val::BYTES, bytes(uint_le(4)))); break;
        case 'C': stack_.push_back(make_str(Val::BYTES, bytes(u8()))); break;
        case 0x8e: stack_.push_back(make_str(Val::BYTES, bytes(uint_le(8)))); break;
        case 'q': memo_[u8()] = top(); break;
        case 'r': memo_[uint_le(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break; // MEMOIZE
        case 'h': memo_get(u8()); break;
        case 'j': memo_get(uint_le(4)); break;
        case 'p': memo_[std::stoull(line())] = top(); break;
        case 'g': memo_get(std::stoull(line())); break;
        case 'c': {
            std::string mod = line(), name = line();
            stack_.push_back(make_str(Val::GLOBAL, mod + "." + name));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            VP name = pop(), mod = pop();
            stack_.push_back(make_str(Val::GLOBAL, mod->s + "." + name->s));
            break;
        }
        case 'J': stack_.push_back(make_int((int32_t)(uint32_t)uint_le(4))); break;
        case 'K': stack_.push_back(make_int(u8())); break;
        case 'M': stack_.push_back(make_int((int64_t)uint_le(2))); break;
        case 0x8a: case 0x8b: { // LONG1, LONG4: little-endian two's complement
            size_t n = op == 0x8a ? u8() : (size_t)uint_le(4);
            need(n);
            int64_t v = 0;
            if (n > 0 && n <= 8) {
                uint64_t u = 0;
                for (size_t k = 0; k < n; ++k) u |= (uint64_t)p_[k] << (8 * k);
                if (n < 8 && (p_[n - 1] & 0x80)) u |= ~0ULL << (8 * n);
                v = (int64_t)u;
            }
            p_ += n; // longer ints do not fit: kept as 0 (never a tensor field)
            stack_.push_back(make_int(v));
            break;
        }
        case 'G': {
            need(8);
            uint64_t u = 0;
            for (int k = 0; k < 8; ++k) u = (u << 8) | p_[k];
            p_ += 8;
            auto v = mk(Val::FLOAT);
            memcpy(&v->f, &u, 8);
            stack_.push_back(v);
            break;
        }
        case 'N': stack_.push_back(mk(Val::NONE)); break;
        case 0x88: case 0x89: { auto v = mk(Val::BOOL); v->i = op == 0x88; stack_.push_back(v); break; }
        case 't': stack_.push_back(tuple(pop_mark())); break;
        case 0x85: { VP a = pop(); stack_.push_back(tuple({a})); break; }
        case 0x86: { VP b = pop(), a = pop(); stack_.push_back(tuple({a, b})); break; }
        case 0x87: { VP c = pop(), b = pop(), a = pop(); stack_.push_back(tuple({a, b, c})); break; }
        case 'l': { auto v = mk(Val::LIST); v->items = pop_mark(); stack_.push_back(v); break; }
        case 'd': { auto v = mk(Val::DICT); set_items(v, pop_mark()); stack_.push_back(v); break; }
        case 'a': { VP x = pop(); add_items(top(), {x}); break; }
        case 'e': { auto items = pop_mark(); add_items(top(), items); break; }
        case 's': { VP v = pop(), k = pop(); set_items(top(), {k, v}); break; }
        case 'u': { auto kv = pop_mark(); set_items(top(), kv); break; }
        case 0x90: { auto items = pop_mark(); add_items(top(), items); break; }
        case 0x91: { auto v = mk(Val::SET); v->items = pop_mark(); stack_.push_back(v); break; }
        case 'R': { VP args = pop(), fn = pop(); stack_.push_back(reduce(fn, args)); break; }
        case 0x81: { // NEWOBJ
            VP args = pop(), cls = pop();
            stack_.push_back(cls->kind == Val::GLOBAL && cls->s == "collections.OrderedDict"
                                 ? mk(Val::DICT) : mk(Val::OPAQUE));
            break;
        }
        case 0x92: { // NEWOBJ_EX
            pop(); pop(); VP cls = pop();
            stack_.push_back(cls->kind == Val::GLOBAL && cls->s == "collections.OrderedDict"
                                 ? mk(Val::DICT) : mk(Val::OPAQUE));
            break;
        }
        case 'b': pop(); break; // BUILD: state ignored
        case 'Q': {             // BINPERSID
            VP pid = pop();
            auto v = mk(Val::TENSOR);
            v->t = load_storage(pid);
            stack_.push_back(v);
            break;
        }
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': stack_.push_back(top()); break;
        default:
            lp::fail(LP_STATUS_UNSUPPORTED, "unsupported pickle opcode 0x%02x", op);
        }
    }
};

// `path` holds the containers being walked, so a self-referencing
// container (possible through the memo) is visited once.
void flatten(const VP &v, const std::string &prefix, lp_tensor_list *list, int depth,
             std::vector<const Val *> &path) {
    if (depth > 64) return;
    for (const Val *p : path)
        if (p == v.get()) return;
    struct Guard {
        std::vector<const Val *> &path;
        ~Guard() { path.pop_back(); }
    } guard{(path.push_back(v.get()), path)};
    auto child = [&](const std::string &k) { return prefix.empty() ? k : prefix + "/" + k; };
    switch (v->kind) {
    case Val::TENSOR: {
        lp_tensor *h = lp::new_handle(v->t);
        lp_status st = lp_tensor_list_push(list, prefix.empty() ? "tensor" : prefix.c_str(), h);
        lp_tensor_free(h);
        if (st) lp::fail(st, "%s", lp_last_error());
        break;
    }
    case Val::DICT:
        for (auto &kv : v->dict) {
            if (kv.first->kind == Val::STR) flatten(kv.second, child(kv.first->s), list, depth + 1, path);
            else if (kv.first->kind == Val::INT)
                flatten(kv.second, child(std::to_string(kv.first->i)), list, depth + 1, path);
        }
        break;
    case Val::LIST:
    case Val::TUPLE:
        for (size_t k = 0; k < v->items.size(); ++k)
            flatten(v->items[k], child(std::to_string(k)), list, depth + 1, path);
        break;
    default:
        break;
    }
}

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
        caffe2::serialize::PyTorchStreamReader reader{std::string(path)};
        auto rec = reader.getRecord("data.pkl");
        Unpickler up(reader, (const uint8_t *)std::get<0>(rec).get(), std::get<1>(rec));
        VP root = up.run();
        lp_tensor_list *raw = nullptr;
        if (lp_tensor_list_init(&raw)) lp::fail(LP_STATUS_OOM, "%s", lp_last_error());
        std::unique_ptr<lp_tensor_list, void (*)(lp_tensor_list *)> list(raw, lp_tensor_list_free);
        std::vector<const Val *> path;
        flatten(root, "", list.get(), 0, path);
        *out = list.release();
    LP_CATCH
}
