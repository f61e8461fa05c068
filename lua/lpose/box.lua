-- lpose.box: what lpose's FFI boxes share (docs/design/memory.md). A box is a
-- one-field struct with an ffi.metatype, and a metatype cannot change once
-- created, so its __index is built here before ffi.metatype is called: a
-- function that looks the key up in the method table, then in the fields,
-- then (for tensors) takes numbers as indices, and otherwise raises
--
--   Tensor has no method 'sume' (did you mean 'sum'?)
--
-- instead of LuaJIT's "'struct 1584' has no member named 'sume'". The
-- registry of kinds lets the REPL's help and tab completion name a box and
-- list its methods. box.define builds the whole owning box of a C handle
-- (cdef, idempotent free, __gc, "used after free()" checks, __len,
-- __tostring), so a module states only its type, free function, methods and
-- fields:
--
--   local LabelsBox, labels_handle = box.define{ handle = 'lp_labels', free = C.lp_labels_free,
--       name = 'lpose.data.Labels', module = 'lpose.data', methods = Labels, what = 'labels',
--       fields = {n_frames = function(h) ... end}, tostring = function(self) ... end }
local ffi = require('ffi')

local M = {}

local kinds = {}   -- name -> spec
local ctypes = {}  -- list of {ctype, spec}

-- Edit distance between two short strings: insertions, deletions,
-- substitutions and swaps of two neighbours ("stpe" -> "step") cost 1.
local function distance(a, b)
    local d = {}
    for i = 0, #a do d[i] = { [0] = i } end
    for j = 1, #b do d[0][j] = j end
    for i = 1, #a do
        for j = 1, #b do
            local cost = a:byte(i) == b:byte(j) and 0 or 1
            local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
                v = math.min(v, d[i - 2][j - 2] + 1)
            end
            d[i][j] = v
        end
    end
    return d[#a][#b]
end

--- box.closest(word, candidates) -> the candidate nearest to `word`, or nil
-- when none is close (edit distance at most a third of the word, at least 1;
-- a candidate that starts with `word` also counts).
function M.closest(word, candidates)
    if type(word) ~= 'string' or word == '' then return nil end
    local best, best_d = nil, math.max(1, math.floor(#word / 3)) + 1
    for _, c in ipairs(candidates) do
        local d = distance(word, c)
        if d < best_d or (d == best_d and best and c < best) then best, best_d = c, d end
    end
    if best then return best end
    for _, c in ipairs(candidates) do
        if #word >= 3 and c:sub(1, #word) == word and (best == nil or #c < #best) then best = c end
    end
    return best
end

-- The public names of a spec: methods (no leading '_') and fields, sorted.
function M.names(spec)
    local names, seen = {}, {}
    for _, t in ipairs({ spec.methods or {}, spec.fields or {} }) do
        for k in pairs(t) do
            if type(k) == 'string' and k:sub(1, 1) ~= '_' and not seen[k] then
                seen[k] = true
                names[#names + 1] = k
            end
        end
    end
    table.sort(names)
    return names
end

-- The error level, for the function that calls this one, of the first
-- caller outside lpose's modules (lpose.C's rule; loaded late so that this
-- module needs no engine).
local function user_level()
    local ok, lp = pcall(require, 'lpose.C')
    if not ok then return 3 end
    local level = lp.user_level()
    return level > 1 and level - 1 or 0
end

--- box.no_member(spec, key): raise "<name> has no method 'key'" (with a
-- "did you mean" when a method or field is close)
function M.no_member(spec, key)
    local what = spec.fields and 'method or field' or 'method'
    local msg
    if type(key) == 'string' then
        local s = M.closest(key, M.names(spec))
        msg = ("%s has no %s '%s'%s"):format(spec.name, what, key, s and (" (did you mean '%s'?)"):format(s) or '')
    else
        msg = ('%s cannot be indexed with a %s%s'):format(spec.name, type(key),
            spec.number and ' (indices are integers: t[1], t[-1])' or '')
    end
    error(msg, user_level())
end

--- box.index(spec) -> an __index function for ffi.metatype
-- spec: {name = 'Tensor', module = 'lpose.tensor', methods = {...},
--        fields = {key = getter(self)} (optional), number = getter(self, i) (optional)}
function M.index(spec)
    assert(type(spec.name) == 'string' and type(spec.methods) == 'table', 'box.index: name and methods')
    kinds[spec.name] = spec
    local methods, fields, number = spec.methods, spec.fields, spec.number
    return function(self, key)
        local m = methods[key]
        if m ~= nil then return m end
        if fields then
            local f = fields[key]
            if f ~= nil then return f(self) end
        end
        if number and type(key) == 'number' then return number(self, key) end
        M.no_member(spec, key)
    end
end

--- box.handle_fields(getters, handle, prefix) -> fields for box.index
-- getters take the raw handle: {n_frames = function(h) ... end}; handle(self,
-- fname) checks the box is still open (fname = prefix .. key).
function M.handle_fields(getters, handle, prefix)
    local fields = {}
    for k, get in pairs(getters) do
        local fname = prefix .. k
        fields[k] = function(self) return get(handle(self, fname)) end
    end
    return fields
end

--- box.register(ctype, name): remember which box type `name` is (for kind_of)
function M.register(ctype, name)
    local spec = assert(kinds[name], 'box.register: call box.index first')
    ctypes[#ctypes + 1] = { ctype = ctype, spec = spec }
end

--- box.define(spec) -> ctype, handle
-- One owning box of a C handle, so that each module states only what differs:
--   handle = 'lp_labels'         the C type: declares `typedef struct { lp_labels *h; } lp_labels_box;`
--   free = C.lp_labels_free      releases a handle (the idempotent free method and __gc)
--   name, module, methods, fields, number: as box.index, except that fields are
--                                getters of the raw handle (box.handle_fields); a box
--                                without a name is internal (held inside a Lua object,
--                                as models' and pca's): plain method table, no kind
--   what = 'labels'              names the box in messages: 'labels.n_frames', '#labels'
--   closed = 'labels used after free()'   the error for a freed box (default: what .. ' used after free()')
--   len = function(h) end        optional __len over the raw handle
--   tostring = function(self) end    optional __tostring of an open box;
--   freed = '...'                    that of a freed one (default: name .. ' (freed)')
--   metamethods = {...}          optional extra metamethods (the tensor's arithmetic)
-- methods.free defaults to releasing the handle. Returns the ctype (call it with a
-- handle to box it) and handle(self, fname) -> the raw handle of an open box, which
-- raises "fname: <closed>" for a freed one.
function M.define(spec)
    assert(type(spec.handle) == 'string' and spec.free ~= nil, 'box.define: handle and free')
    local ctype_name = spec.handle .. '_box'
    ffi.cdef(('typedef struct { %s *h; } %s;'):format(spec.handle, ctype_name))
    local lp = require('lpose.C')
    local free, methods, what = spec.free, spec.methods or {}, spec.what or spec.handle
    local closed = spec.closed or (what .. ' used after free()')

    local function handle(self, fname)
        local h = self.h
        if h == nil then lp.argerror(fname, closed) end
        return h
    end
    local function release(self)
        if self.h ~= nil then
            free(self.h)
            self.h = nil
        end
    end
    if methods.free == nil then methods.free = release end

    local mt = { __gc = release }
    if spec.name then
        mt.__index = M.index({ name = spec.name, module = spec.module, methods = methods, number = spec.number,
            fields = spec.fields and M.handle_fields(spec.fields, handle, what .. '.') })
    else
        mt.__index = methods
    end
    if spec.len then
        local len = spec.len
        mt.__len = function(self) return len(handle(self, what)) end
    end
    if spec.tostring then
        local str, freed = spec.tostring, spec.freed or (spec.name .. ' (freed)')
        mt.__tostring = function(self)
            if self.h == nil then return freed end
            return str(self)
        end
    end
    for k, v in pairs(spec.metamethods or {}) do mt[k] = v end
    local ctype = ffi.metatype(ctype_name, mt)
    if spec.name then M.register(ctype, spec.name) end
    return ctype, handle
end

--- box.kind_of(x) -> spec | nil: the spec of an lpose box, nil for anything else
function M.kind_of(x)
    if type(x) ~= 'cdata' then return nil end
    for _, e in ipairs(ctypes) do
        if ffi.istype(e.ctype, x) then return e.spec end
    end
    return nil
end

--- box.kinds() -> {name = spec}: every box kind built so far
function M.kinds() return kinds end

return M
