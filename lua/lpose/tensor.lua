-- lpose.tensor: libtorch tensors in Lua, PyTorch-style.
--
--   local tensor = require('lpose.tensor')
--   local x = tensor{{1, 2}, {3, 4}}          -- f32 from nested tables
--   local y = (x + 1):mul(x):sum()            -- add returns new, add_ mutates
--   print(y:item())
--
-- Dims AND indices are 1-based (t:size(1) is the first dim, -1 the last;
-- t:select(1, 1) is the first row; argmax returns 1-based indices). This
-- file is the only place they are converted to the engine's 0-based ones.
--
-- Lifetime (docs/design/memory.md): every handle has one owning box. t:free()
-- releases it at once and is idempotent; a freed tensor raises "tensor used
-- after free()". The GC is a safety net, driven by memory pressure through
-- lpose.mem.
local ffi = require('ffi')
local lp = require('lpose.C')
local dtypes = require('lpose.dtypes')
local mem = require('lpose.mem')
local box = require('lpose.box')

local C = lp.lib
local check, argerror = lp.check, lp.argerror

local M = {}
local Tensor = {}
M.Tensor = Tensor

-- Scratch out-parameters: Lua is single-threaded and every call reads them
-- back at once.
local out1 = ffi.new('lp_tensor*[1]')
local out2 = ffi.new('lp_tensor*[1]')
local out3 = ffi.new('lp_tensor*[1]')
local shape_buf = ffi.new('int64_t[?]', C.LP_MAX_DIMS)
local int64_buf = ffi.new('int64_t[?]', C.LP_MAX_DIMS)
local double_out = ffi.new('double[1]')

local Box -- the metatype, created at the bottom once every method exists

-- Take ownership of a new lp_tensor* (NULL gives nil).
local function wrap(h)
    if h == nil then return nil end
    local t = Box(h)
    mem.on_alloc()
    return t
end
M.wrap = wrap

local function is_tensor(x) return ffi.istype(Box, x) end
M.is_tensor = is_tensor

-- The raw handle of a live tensor.
local function handle(t, fname)
    if not is_tensor(t) then
        argerror(fname or 'tensor', 'expected a tensor, got ' .. type(t))
    end
    local h = t.h
    if h == nil then argerror(fname or 'tensor', 'tensor used after free()') end
    return h
end
M.handle = handle

-- Call an engine function; on LP_STATUS_OOM collect garbage and retry once.
local function call(f, ...)
    local status = f(...)
    if status == C.LP_STATUS_OOM then
        mem.full_collect()
        status = f(...)
        if status == C.LP_STATUS_OOM then
            error(lp.last_error() .. ' (out of memory after GC)', lp.user_level())
        end
    end
    check(status)
end

-- Call f(..., out1) and wrap the result.
local function new1(f, ...)
    call(f, ...)
    return wrap(out1[0])
end

-- ----------------------------------------------------------------- helpers

local function ndim_of(h) return C.lp_tensor_dim(h) end

-- 1-based (or negative) Lua dim -> 0-based (or negative) engine dim.
local function dim0(d, fname)
    if type(d) ~= 'number' or d ~= math.floor(d) or d == 0 then
        argerror(fname, 'dims are 1-based integers (or negative from the end), got ' .. tostring(d))
    end
    return d > 0 and d - 1 or d
end
M.dim0 = dim0

-- Shape from varargs (2, 3) or a table {2, 3} or a torch-like size table.
local function read_shape(fname, a, ...)
    local list = type(a) == 'table' and a or { a, ... }
    local n = #list
    if n > C.LP_MAX_DIMS then argerror(fname, 'too many dims') end
    for i = 1, n do
        local v = list[i]
        if type(v) ~= 'number' or v ~= math.floor(v) then
            argerror(fname, 'expected integer sizes, got ' .. tostring(v))
        end
        shape_buf[i - 1] = v
    end
    return shape_buf, n
end

-- Dim list (1-based, table or number or nil) -> int64 buffer of 0-based dims.
local function read_dims(fname, dims)
    if dims == nil then return int64_buf, 0 end
    if type(dims) == 'number' then dims = { dims } end
    if type(dims) ~= 'table' then argerror(fname, 'expected a dim or a list of dims') end
    for i = 1, #dims do int64_buf[i - 1] = dim0(dims[i], fname) end
    return int64_buf, #dims
end

local function pair(buf, v, fname, default)
    if v == nil then v = default end
    if type(v) == 'number' then
        buf[0], buf[1] = v, v
    elseif type(v) == 'table' and #v == 2 then
        buf[0], buf[1] = v[1], v[2]
    else
        argerror(fname, 'expected a number or a pair {h, w}')
    end
    return buf
end
M._pair = pair

-- opts = {dtype=..., device=...}
local function dtype_device(fname, opts, default_dtype)
    opts = opts or {}
    return dtypes.dtype(opts.dtype or default_dtype or 'f32', fname),
        dtypes.device(opts.device or 'cpu', fname)
end

-- ----------------------------------------------------------------- creation

-- Flatten nested Lua tables into a Lua array, recording the shape.
local function flatten_table(data, fname)
    local shape, level = {}, data
    while type(level) == 'table' do
        shape[#shape + 1] = #level
        level = level[1]
    end
    local flat = {}
    local function walk(node, depth)
        if depth > #shape then
            if type(node) == 'boolean' then node = node and 1 or 0 end
            if type(node) ~= 'number' then
                argerror(fname, 'expected numbers or booleans, got ' .. type(node))
            end
            flat[#flat + 1] = node
            return
        end
        if type(node) ~= 'table' or #node ~= shape[depth] then
            argerror(fname, 'ragged nested table (dim ' .. depth .. ' should have '
                .. shape[depth] .. ' entries)')
        end
        for i = 1, #node do walk(node[i], depth + 1) end
    end
    walk(data, 1)
    return flat, shape, type(level) == 'boolean'
end

--- tensor(data [, {dtype=, device=, requires_grad=}]) -> Tensor
-- data: a number, nested tables of numbers/booleans, or a tensor (copied).
function M.new(data, opts)
    local fname = 'lpose.tensor'
    opts = opts or {}
    if is_tensor(data) then
        local t = data:to(opts.dtype or data:dtype(), opts.device or data:device())
        if t == data then t = data:clone() end
        if opts.requires_grad then t:requires_grad_(true) end
        return t
    end
    if type(data) ~= 'number' and type(data) ~= 'table' and type(data) ~= 'boolean' then
        argerror(fname, 'expected a number, a table or a tensor, got ' .. type(data))
    end
    local flat, shape, is_bool = flatten_table(data, fname)
    local n = #flat
    local buf = ffi.new('double[?]', math.max(n, 1))
    for i = 1, n do buf[i - 1] = flat[i] end
    local sbuf, nd = read_shape(fname, shape)
    local raw = new1(C.lp_tensor_from_buffer, buf, C.LP_DTYPE_F64, sbuf, nd, out1)
    local dtype = opts.dtype or (is_bool and 'bool' or 'f32')
    local t = raw:to(dtype, opts.device or 'cpu')
    if t ~= raw then raw:free() end
    if opts.requires_grad then t:requires_grad_(true) end
    return t
end

-- Factories taking a shape then an options table: zeros(2, 3, {dtype='f64'}).
local function shape_and_opts(fname, ...)
    local args = { ... }
    local opts
    if type(args[#args]) == 'table' and (#args > 1 or args[1].dtype or args[1].device
            or args[1].seed or args[1].requires_grad) and not (#args == 1 and #args[1] > 0) then
        opts = table.remove(args)
    end
    if #args == 1 and type(args[1]) == 'table' then args = args[1] end
    local sbuf, nd = read_shape(fname, args)
    return sbuf, nd, opts or {}
end

local function finish(t, opts)
    if opts.requires_grad then t:requires_grad_(true) end
    return t
end

function M.empty(...)
    local s, n, o = shape_and_opts('tensor.empty', ...)
    local dt, dev = dtype_device('tensor.empty', o)
    return finish(new1(C.lp_tensor_empty, s, n, dt, dev, out1), o)
end

function M.zeros(...)
    local s, n, o = shape_and_opts('tensor.zeros', ...)
    local dt, dev = dtype_device('tensor.zeros', o)
    return finish(new1(C.lp_tensor_zeros, s, n, dt, dev, out1), o)
end

function M.ones(...)
    local s, n, o = shape_and_opts('tensor.ones', ...)
    local dt, dev = dtype_device('tensor.ones', o)
    return finish(new1(C.lp_tensor_ones, s, n, dt, dev, out1), o)
end

--- tensor.full(shape, value [, opts])
function M.full(shape, value, opts)
    if type(value) ~= 'number' then argerror('tensor.full', 'expected a number value') end
    local s, n = read_shape('tensor.full', shape)
    local dt, dev = dtype_device('tensor.full', opts)
    return finish(new1(C.lp_tensor_full, s, n, value, dt, dev, out1), opts or {})
end

--- tensor.arange([start,] stop [, step] [, opts]): start, start+step, ... < stop
function M.arange(a, b, c, opts)
    if type(b) == 'table' then opts, b = b, nil end
    if type(c) == 'table' then opts, c = c, nil end
    local start, stop, step = 0, a, 1
    if b ~= nil then start, stop, step = a, b, c or 1 end
    local dt, dev = dtype_device('tensor.arange', opts, 'i64')
    return new1(C.lp_tensor_arange, start, stop, step, dt, dev, out1)
end

function M.linspace(start, stop, steps, opts)
    local dt, dev = dtype_device('tensor.linspace', opts)
    return new1(C.lp_tensor_linspace, start, stop, steps, dt, dev, out1)
end

--- tensor.randn(2, 3, {seed=1}): seed >= 0 gives the same values every time.
function M.randn(...)
    local s, n, o = shape_and_opts('tensor.randn', ...)
    local dt, dev = dtype_device('tensor.randn', o)
    return finish(new1(C.lp_tensor_randn, s, n, dt, dev, o.seed or -1, out1), o)
end

function M.rand(...)
    local s, n, o = shape_and_opts('tensor.rand', ...)
    local dt, dev = dtype_device('tensor.rand', o)
    return finish(new1(C.lp_tensor_rand, s, n, dt, dev, o.seed or -1, out1), o)
end

--- tensor.from_buffer(ptr, dtype, shape): copy raw contiguous memory.
function M.from_buffer(ptr, dtype, shape)
    local s, n = read_shape('tensor.from_buffer', shape)
    return new1(C.lp_tensor_from_buffer, ptr, dtypes.dtype(dtype, 'tensor.from_buffer'), s, n, out1)
end

local function tensor_list(fname, list)
    if type(list) ~= 'table' or #list == 0 then argerror(fname, 'expected a non-empty list of tensors') end
    local arr = ffi.new('const lp_tensor*[?]', #list)
    for i = 1, #list do arr[i - 1] = handle(list[i], fname) end
    return arr, #list
end

--- tensor.cat({a, b, ...}, dim): join along an existing dim (default 1).
function M.cat(list, dim)
    local arr, n = tensor_list('tensor.cat', list)
    return new1(C.lp_tensor_cat, arr, n, dim0(dim or 1, 'tensor.cat'), out1)
end

--- tensor.stack({a, b, ...}, dim): join along a new dim (default 1).
function M.stack(list, dim)
    local arr, n = tensor_list('tensor.stack', list)
    return new1(C.lp_tensor_stack, arr, n, dim0(dim or 1, 'tensor.stack'), out1)
end

--- tensor.where(cond, a, b): cond ? a : b (a and b may be numbers).
function M.where(cond, a, b)
    local ref = is_tensor(a) and a or (is_tensor(b) and b or cond)
    local dtype = ref:dtype() == 'bool' and 'f32' or ref:dtype()
    local ta = is_tensor(a) and a or M.full({}, a, { dtype = dtype, device = ref:device() })
    local tb = is_tensor(b) and b or M.full({}, b, { dtype = ta:dtype(), device = ta:device() })
    local r = new1(C.lp_tensor_where, handle(cond, 'tensor.where'), handle(ta), handle(tb), out1)
    if ta ~= a then ta:free() end
    if tb ~= b then tb:free() end
    return r
end

-- ----------------------------------------------------------------- metadata

function Tensor:free()
    if self.h ~= nil then
        C.lp_tensor_free(self.h)
        self.h = nil
    end
end

function Tensor:is_freed() return self.h == nil end

function Tensor:dim() return ndim_of(handle(self, 'tensor:dim')) end

function Tensor:numel() return tonumber(C.lp_tensor_numel(handle(self, 'tensor:numel'))) end

--- t:size() -> {d1, d2, ...}; t:size(dim) -> number
function Tensor:size(dim)
    local h = handle(self, 'tensor:size')
    if dim ~= nil then
        local nd = ndim_of(h)
        if dim == 0 or dim > nd or dim < -nd then
            argerror('tensor:size', 'dim ' .. tostring(dim) .. ' out of range for a ' .. nd .. '-d tensor')
        end
        return tonumber(C.lp_tensor_size(h, dim0(dim, 'tensor:size')))
    end
    local nd = C.lp_tensor_shape(h, shape_buf)
    local s = {}
    for i = 1, nd do s[i] = tonumber(shape_buf[i - 1]) end
    return s
end

--- t:shape() -> {d1, d2, ...} (same as t:size())
function Tensor:shape() return self:size() end

function Tensor:dtype() return dtypes.dtype_name(C.lp_tensor_dtype(handle(self, 'tensor:dtype'))) end

function Tensor:device() return dtypes.device_name(C.lp_tensor_device(handle(self, 'tensor:device'))) end

function Tensor:requires_grad() return C.lp_tensor_requires_grad(handle(self, 'tensor:requires_grad')) ~= 0 end

function Tensor:is_contiguous() return C.lp_tensor_is_contiguous(handle(self, 'tensor:is_contiguous')) ~= 0 end

function Tensor:is_leaf() return C.lp_tensor_is_leaf(handle(self, 'tensor:is_leaf')) ~= 0 end

-- ----------------------------------------------------------------- values

--- t:item() -> number (boolean for a bool tensor)
function Tensor:item()
    local h = handle(self, 'tensor:item')
    call(C.lp_tensor_item, h, double_out)
    if C.lp_tensor_dtype(h) == C.LP_DTYPE_BOOL then return double_out[0] ~= 0 end
    return double_out[0]
end

-- All values as a flat double array (copied), and the shape.
local function values_f64(t)
    local h = handle(t, 'tensor:totable')
    local f64 = new1(C.lp_tensor_to, h, C.LP_DTYPE_F64, C.LP_DEVICE_CPU, out1)
    local n = f64:numel()
    local buf = ffi.new('double[?]', math.max(n, 1))
    call(C.lp_tensor_to_buffer, f64.h, buf, n * 8)
    f64:free()
    return buf, t:size()
end

--- t:totable() -> nested Lua tables (a number for a 0-d tensor)
function Tensor:totable()
    local buf, shape = values_f64(self)
    local as_bool = self:dtype() == 'bool'
    local pos = 0
    local function build(depth)
        if depth > #shape then
            local v = buf[pos]
            pos = pos + 1
            if as_bool then return v ~= 0 end
            return v
        end
        local r = {}
        for i = 1, shape[depth] do r[i] = build(depth + 1) end
        return r
    end
    return build(1)
end

-- ----------------------------------------------------------------- conversion

--- t:to(dtype_or_device [, device]) -> Tensor (the same box when nothing changes)
function Tensor:to(a, b)
    local h = handle(self, 'tensor:to')
    local dt, dev = C.lp_tensor_dtype(h), C.lp_tensor_device(h)
    for _, v in ipairs({ a, b }) do
        if dtypes.is_device(v) then dev = dtypes.device(v, 'tensor:to')
        elseif v ~= nil then dt = dtypes.dtype(v, 'tensor:to') end
    end
    if dt == C.lp_tensor_dtype(h) and dev == C.lp_tensor_device(h) then return self end
    return new1(C.lp_tensor_to, h, dt, dev, out1)
end

function Tensor:float() return self:to('f32') end
function Tensor:double() return self:to('f64') end
function Tensor:long() return self:to('i64') end
function Tensor:int() return self:to('i32') end
function Tensor:byte() return self:to('u8') end
function Tensor:bool() return self:to('bool') end
function Tensor:cpu() return self:to('cpu') end
function Tensor:cuda(index) return self:to('cuda:' .. (index or 0)) end

function Tensor:clone() return new1(C.lp_tensor_clone, handle(self, 'tensor:clone'), out1) end
function Tensor:contiguous() return new1(C.lp_tensor_contiguous, handle(self, 'tensor:contiguous'), out1) end
--- t:channels_last(): a 4-d (N, C, H, W) tensor laid out channels-last in memory (the layout the
-- folded backbone runs in): a copy, or a new handle sharing storage when t already is laid out so
function Tensor:channels_last()
    return new1(C.lp_tensor_channels_last, handle(self, 'tensor:channels_last'), out1)
end
function Tensor:detach() return new1(C.lp_tensor_detach, handle(self, 'tensor:detach'), out1) end

--- t:copy_(src): copy values from a tensor (or fill with a number)
function Tensor:copy_(src)
    if type(src) == 'number' then return self:fill_(src) end
    call(C.lp_tensor_copy_, handle(self, 'tensor:copy_'), handle(src, 'tensor:copy_'))
    return self
end

function Tensor:fill_(v)
    call(C.lp_tensor_fill_, handle(self, 'tensor:fill_'), v)
    return self
end

function Tensor:zero_()
    call(C.lp_tensor_zero_, handle(self, 'tensor:zero_'))
    return self
end

function Tensor:uniform_(low, high, seed)
    call(C.lp_tensor_uniform_, handle(self, 'tensor:uniform_'), low or 0, high or 1, seed or -1)
    return self
end

function Tensor:normal_(mean, std, seed)
    call(C.lp_tensor_normal_, handle(self, 'tensor:normal_'), mean or 0, std or 1, seed or -1)
    return self
end

-- ----------------------------------------------------------------- shape ops

function Tensor:view(...)
    local s, n = read_shape('tensor:view', ...)
    return new1(C.lp_tensor_view, handle(self, 'tensor:view'), s, n, out1)
end

function Tensor:reshape(...)
    local s, n = read_shape('tensor:reshape', ...)
    return new1(C.lp_tensor_reshape, handle(self, 'tensor:reshape'), s, n, out1)
end

function Tensor:expand(...)
    local s, n = read_shape('tensor:expand', ...)
    return new1(C.lp_tensor_expand, handle(self, 'tensor:expand'), s, n, out1)
end

function Tensor:repeat_tensor(...)
    local s, n = read_shape('tensor:repeat_tensor', ...)
    return new1(C.lp_tensor_repeat, handle(self, 'tensor:repeat_tensor'), s, n, out1)
end

--- t:permute(3, 1, 2) or t:permute{3, 1, 2}
function Tensor:permute(a, ...)
    local list = type(a) == 'table' and a or { a, ... }
    local d, n = read_dims('tensor:permute', list)
    return new1(C.lp_tensor_permute, handle(self, 'tensor:permute'), d, n, out1)
end

function Tensor:transpose(d1, d2)
    return new1(C.lp_tensor_transpose, handle(self, 'tensor:transpose'),
        dim0(d1, 'tensor:transpose'), dim0(d2, 'tensor:transpose'), out1)
end

-- t.T-like shorthand for 2-d tensors
function Tensor:t() return self:transpose(1, 2) end

-- 1-based index (negative from the end) -> 0-based
local function index0(i, size, fname)
    if type(i) ~= 'number' or i ~= math.floor(i) or i == 0 then
        argerror(fname, 'indices are 1-based integers (or negative from the end), got ' .. tostring(i))
    end
    if i < 0 then i = size + i + 1 end
    if i < 1 or i > size then
        argerror(fname, 'index ' .. tostring(i) .. ' out of range 1..' .. size)
    end
    return i - 1
end

--- t:narrow(dim, start, length): `length` entries from 1-based `start`
function Tensor:narrow(dim, start, length)
    local size = self:size(dim)
    local s0 = index0(start, size, 'tensor:narrow')
    return new1(C.lp_tensor_narrow, handle(self), dim0(dim, 'tensor:narrow'), s0, length, out1)
end

--- t:slice(dim, first, last [, step]): entries first..last inclusive, 1-based
-- (negative counts from the end: t:slice(1, 2, -1) drops the first row).
function Tensor:slice(dim, first, last, step)
    local size = self:size(dim)
    first = first or 1
    last = last or -1
    if first < 0 then first = size + first + 1 end
    if last < 0 then last = size + last + 1 end
    if first < 1 then first = 1 end
    if last > size then last = size end
    if last < first - 1 then last = first - 1 end
    return new1(C.lp_tensor_slice, handle(self), dim0(dim, 'tensor:slice'), first - 1, last, step or 1, out1)
end

--- t:select(dim, index): drop `dim` taking the 1-based `index`
function Tensor:select(dim, index)
    local size = self:size(dim)
    return new1(C.lp_tensor_select, handle(self), dim0(dim, 'tensor:select'),
        index0(index, size, 'tensor:select'), out1)
end

-- 1-based Lua index tensor (or table) -> 0-based i64 tensor (new)
local function index_tensor(idx, fname)
    local t = is_tensor(idx) and idx or M.new(idx, { dtype = 'i64' })
    local r = new1(C.lp_tensor_binary_scalar, C.LP_BINARY_SUB, handle(t, fname), 1, 0, out1)
    if t ~= idx then t:free() end
    return r
end

--- t:index_select(dim, index): index is a 1-based i64 tensor or a table
function Tensor:index_select(dim, idx)
    local i0 = index_tensor(idx, 'tensor:index_select')
    local r = new1(C.lp_tensor_index_select, handle(self, 'tensor:index_select'),
        dim0(dim, 'tensor:index_select'), i0.h, out1)
    i0:free()
    return r
end

--- t:gather(dim, index): index is a 1-based i64 tensor
function Tensor:gather(dim, idx)
    local i0 = index_tensor(idx, 'tensor:gather')
    local r = new1(C.lp_tensor_gather, handle(self, 'tensor:gather'), dim0(dim, 'tensor:gather'), i0.h, out1)
    i0:free()
    return r
end

function Tensor:squeeze(dim)
    return new1(C.lp_tensor_squeeze, handle(self, 'tensor:squeeze'), dim0(dim, 'tensor:squeeze'), out1)
end

function Tensor:unsqueeze(dim)
    -- inserting after the last dim: unsqueeze(ndim + 1) or -1
    local nd = self:dim()
    local d = dim > 0 and dim - 1 or nd + dim + 1
    if dim == 0 or d < 0 or d > nd then argerror('tensor:unsqueeze', 'dim out of range') end
    return new1(C.lp_tensor_unsqueeze, handle(self), d, out1)
end

function Tensor:flatten(first, last)
    return new1(C.lp_tensor_flatten, handle(self, 'tensor:flatten'),
        dim0(first or 1, 'tensor:flatten'), dim0(last or -1, 'tensor:flatten'), out1)
end

function Tensor:flip(dims)
    local d, n = read_dims('tensor:flip', dims)
    return new1(C.lp_tensor_flip, handle(self, 'tensor:flip'), d, n, out1)
end

-- ----------------------------------------------------------------- math

local UNARY = {
    neg = C.LP_UNARY_NEG, abs = C.LP_UNARY_ABS, exp = C.LP_UNARY_EXP, log = C.LP_UNARY_LOG,
    log1p = C.LP_UNARY_LOG1P, sqrt = C.LP_UNARY_SQRT, rsqrt = C.LP_UNARY_RSQRT,
    square = C.LP_UNARY_SQUARE, reciprocal = C.LP_UNARY_RECIPROCAL, sin = C.LP_UNARY_SIN,
    cos = C.LP_UNARY_COS, tanh = C.LP_UNARY_TANH, sigmoid = C.LP_UNARY_SIGMOID,
    relu = C.LP_UNARY_RELU, floor = C.LP_UNARY_FLOOR, ceil = C.LP_UNARY_CEIL,
    round = C.LP_UNARY_ROUND, trunc = C.LP_UNARY_TRUNC, sign = C.LP_UNARY_SIGN,
}
local UNARY_BOOL = { isnan = C.LP_UNARY_ISNAN, isfinite = C.LP_UNARY_ISFINITE,
    logical_not = C.LP_UNARY_LOGICAL_NOT }

for name, op in pairs(UNARY) do
    local fname = 'tensor:' .. name
    Tensor[name] = function(self)
        return new1(C.lp_tensor_unary, op, handle(self, fname), out1)
    end
    Tensor[name .. '_'] = function(self)
        call(C.lp_tensor_unary_, op, handle(self, fname .. '_'))
        return self
    end
end
for name, op in pairs(UNARY_BOOL) do
    local fname = 'tensor:' .. name
    Tensor[name] = function(self)
        return new1(C.lp_tensor_unary, op, handle(self, fname), out1)
    end
end

local BINARY = {
    add = C.LP_BINARY_ADD, sub = C.LP_BINARY_SUB, mul = C.LP_BINARY_MUL, div = C.LP_BINARY_DIV,
    pow = C.LP_BINARY_POW, maximum = C.LP_BINARY_MAXIMUM, minimum = C.LP_BINARY_MINIMUM,
    atan2 = C.LP_BINARY_ATAN2, remainder = C.LP_BINARY_REMAINDER,
    add_relu = C.LP_BINARY_ADD_RELU, -- relu(a + b), one pass on the CPU
}
local COMPARE = {
    eq = C.LP_BINARY_EQ, ne = C.LP_BINARY_NE, lt = C.LP_BINARY_LT, le = C.LP_BINARY_LE,
    gt = C.LP_BINARY_GT, ge = C.LP_BINARY_GE, logical_and = C.LP_BINARY_LOGICAL_AND,
    logical_or = C.LP_BINARY_LOGICAL_OR,
}

local function binary(op, a, b, fname)
    if type(b) == 'number' then
        return new1(C.lp_tensor_binary_scalar, op, handle(a, fname), b, 0, out1)
    end
    return new1(C.lp_tensor_binary, op, handle(a, fname), handle(b, fname), out1)
end

for name, op in pairs(BINARY) do
    local fname = 'tensor:' .. name
    Tensor[name] = function(self, other) return binary(op, self, other, fname) end
    Tensor[name .. '_'] = function(self, other)
        if type(other) == 'number' then
            call(C.lp_tensor_binary_scalar_, op, handle(self, fname .. '_'), other)
        else
            call(C.lp_tensor_binary_, op, handle(self, fname .. '_'), handle(other, fname .. '_'))
        end
        return self
    end
end
for name, op in pairs(COMPARE) do
    local fname = 'tensor:' .. name
    Tensor[name] = function(self, other) return binary(op, self, other, fname) end
end

--- t:clamp(lo, hi): nil bound = no bound
function Tensor:clamp(lo, hi)
    return new1(C.lp_tensor_clamp, handle(self, 'tensor:clamp'), lo or 0 / 0, hi or 0 / 0, out1)
end

function Tensor:clamp_(lo, hi)
    call(C.lp_tensor_clamp_, handle(self, 'tensor:clamp_'), lo or 0 / 0, hi or 0 / 0)
    return self
end

function Tensor:masked_fill(mask, value)
    return new1(C.lp_tensor_masked_fill, handle(self, 'tensor:masked_fill'),
        handle(mask, 'tensor:masked_fill'), value, out1)
end

function Tensor:masked_fill_(mask, value)
    call(C.lp_tensor_masked_fill_, handle(self, 'tensor:masked_fill_'), handle(mask, 'tensor:masked_fill_'), value)
    return self
end

function Tensor:masked_select(mask)
    return new1(C.lp_tensor_masked_select, handle(self, 'tensor:masked_select'),
        handle(mask, 'tensor:masked_select'), out1)
end

-- Largest finite value per float dtype (PyTorch's finfo(dtype).max), the
-- default replacement of +inf in nan_to_num.
local FLOAT_MAX = { f32 = 3.4028234663852886e38, f64 = 1.7976931348623157e308,
    f16 = 65504, bf16 = 3.3895313892515355e38 }

--- t:nan_to_num([nan=0 [, posinf [, neginf]]]): as PyTorch, infinities without a
-- value become the dtype's largest / lowest finite value
function Tensor:nan_to_num(nan, posinf, neginf)
    local max = FLOAT_MAX[self:dtype()] or 1 / 0
    return new1(C.lp_tensor_nan_to_num, handle(self, 'tensor:nan_to_num'), nan or 0,
        posinf or max, neginf or -max, out1)
end

function Tensor:where(cond, other) return M.where(cond, self, other) end

-- ----------------------------------------------------------------- reductions

local REDUCE = {
    sum = C.LP_REDUCE_SUM, mean = C.LP_REDUCE_MEAN, prod = C.LP_REDUCE_PROD,
    amax = C.LP_REDUCE_AMAX, amin = C.LP_REDUCE_AMIN, logsumexp = C.LP_REDUCE_LOGSUMEXP,
    any = C.LP_REDUCE_ANY, all = C.LP_REDUCE_ALL, nansum = C.LP_REDUCE_NANSUM,
    nanmean = C.LP_REDUCE_NANMEAN,
}

-- t:sum(), t:sum(2), t:sum({2, 3}, true)  (dims, keepdim)
for name, op in pairs(REDUCE) do
    local fname = 'tensor:' .. name
    Tensor[name] = function(self, dims, keepdim)
        local d, n = read_dims(fname, dims)
        return new1(C.lp_tensor_reduce, op, handle(self, fname), d, n, keepdim and 1 or 0, out1)
    end
end

-- 0-based index tensor from the engine -> 1-based (frees the input)
local function plus_one(t)
    if t == nil then return nil end
    call(C.lp_tensor_binary_scalar_, C.LP_BINARY_ADD, t.h, 1)
    return t
end

--- t:argmax([dim [, keepdim]]) -> 1-based i64 indices
function Tensor:argmax(dim, keepdim)
    local d, n = read_dims('tensor:argmax', dim)
    return plus_one(new1(C.lp_tensor_reduce, C.LP_REDUCE_ARGMAX, handle(self, 'tensor:argmax'), d, n,
        keepdim and 1 or 0, out1))
end

function Tensor:argmin(dim, keepdim)
    local d, n = read_dims('tensor:argmin', dim)
    return plus_one(new1(C.lp_tensor_reduce, C.LP_REDUCE_ARGMIN, handle(self, 'tensor:argmin'), d, n,
        keepdim and 1 or 0, out1))
end

local function max_min(f, fname)
    return function(self, dim, keepdim)
        if dim == nil then
            return new1(C.lp_tensor_reduce, fname == 'tensor:max' and C.LP_REDUCE_AMAX or C.LP_REDUCE_AMIN,
                handle(self, fname), int64_buf, 0, 0, out1)
        end
        call(f, handle(self, fname), dim0(dim, fname), keepdim and 1 or 0, out1, out2)
        local values, indices = wrap(out1[0]), wrap(out2[0])
        return values, plus_one(indices)
    end
end

--- t:max() -> 0-d tensor; t:max(dim [, keepdim]) -> values, 1-based indices
Tensor.max = max_min(C.lp_tensor_max_dim, 'tensor:max')
Tensor.min = max_min(C.lp_tensor_min_dim, 'tensor:min')

--- t:std([dims [, keepdim [, correction=1]]])
function Tensor:std(dims, keepdim, correction)
    local d, n = read_dims('tensor:std', dims)
    return new1(C.lp_tensor_std, handle(self, 'tensor:std'), d, n, correction or 1, keepdim and 1 or 0, out1)
end

function Tensor:var(dims, keepdim, correction)
    local d, n = read_dims('tensor:var', dims)
    return new1(C.lp_tensor_var, handle(self, 'tensor:var'), d, n, correction or 1, keepdim and 1 or 0, out1)
end

--- t:norm([p=2 [, dims [, keepdim]]])
function Tensor:norm(p, dims, keepdim)
    local d, n = read_dims('tensor:norm', dims)
    return new1(C.lp_tensor_norm, handle(self, 'tensor:norm'), p or 2, d, n, keepdim and 1 or 0, out1)
end

--- t:quantile(q [, dim [, keepdim]])
function Tensor:quantile(q, dim, keepdim)
    local has = dim ~= nil
    return new1(C.lp_tensor_quantile, handle(self, 'tensor:quantile'), q, has and 1 or 0,
        has and dim0(dim, 'tensor:quantile') or 0, keepdim and 1 or 0, out1)
end

function Tensor:cumsum(dim)
    return new1(C.lp_tensor_cumsum, handle(self, 'tensor:cumsum'), dim0(dim, 'tensor:cumsum'), out1)
end

-- ----------------------------------------------------------------- linear algebra

function Tensor:matmul(other)
    return new1(C.lp_tensor_matmul, handle(self, 'tensor:matmul'), handle(other, 'tensor:matmul'), out1)
end

function Tensor:bmm(other)
    return new1(C.lp_tensor_bmm, handle(self, 'tensor:bmm'), handle(other, 'tensor:bmm'), out1)
end

--- t:svd([full_matrices=false]) -> U, S, Vh
function Tensor:svd(full_matrices)
    call(C.lp_tensor_svd, handle(self, 'tensor:svd'), full_matrices and 1 or 0, out1, out2, out3)
    return wrap(out1[0]), wrap(out2[0]), wrap(out3[0])
end

--- t:eigh() -> eigenvalues (ascending), eigenvectors
function Tensor:eigh()
    call(C.lp_tensor_eigh, handle(self, 'tensor:eigh'), out1, out2)
    return wrap(out1[0]), wrap(out2[0])
end

function Tensor:softmax(dim)
    return new1(C.lp_nn_softmax, handle(self, 'tensor:softmax'), dim0(dim, 'tensor:softmax'), out1)
end

function Tensor:log_softmax(dim)
    return new1(C.lp_nn_log_softmax, handle(self, 'tensor:log_softmax'), dim0(dim, 'tensor:log_softmax'), out1)
end

-- ----------------------------------------------------------------- autograd

function Tensor:requires_grad_(flag)
    if flag == nil then flag = true end
    call(C.lp_tensor_set_requires_grad, handle(self, 'tensor:requires_grad_'), flag and 1 or 0)
    return self
end

--- t:backward([grad [, retain_graph]])
function Tensor:backward(grad, retain_graph)
    call(C.lp_tensor_backward, handle(self, 'tensor:backward'),
        grad and handle(grad, 'tensor:backward') or nil, retain_graph and 1 or 0)
end

--- t:grad() -> Tensor or nil when no gradient has been accumulated
function Tensor:grad()
    call(C.lp_tensor_grad, handle(self, 'tensor:grad'), out1)
    return wrap(out1[0])
end

function Tensor:zero_grad()
    call(C.lp_tensor_zero_grad, handle(self, 'tensor:zero_grad'))
    return self
end

-- ----------------------------------------------------------------- printing

M.print_options = { threshold = 1000, edgeitems = 3, precision = 4 }

local format = require('lpose.tensor_format')

function Tensor:__tostring_impl()
    return format.tostring(self, M, M.print_options)
end

-- ----------------------------------------------------------------- indexing

-- t[i] is 1-based along dim 1, negative from the end. On a tensor of two or
-- more dims it is t:select(1, i), a view; on a 1-d tensor it is the value,
-- a Lua number (a boolean for bool tensors), as in torch7, so t[i][j] reads
-- one element of a matrix. t:select(1, i) gives the 0-d tensor instead
-- (it keeps the autograd graph). The why: docs/reference/lua/tensor.md.
local function index_row(self, i, setting)
    local fname = ('tensor[%s]%s'):format(tostring(i), setting and ' = ...' or '')
    local h = handle(self, fname)
    local nd = ndim_of(h)
    if nd == 0 then argerror(fname, 'a 0-d tensor has no dim to index (t:item() is its value)') end
    local size = tonumber(C.lp_tensor_size(h, 0))
    local range = size > 0 and ('1..%d, or -%d..-1 from the end'):format(size, size) or 'none: the dim is empty'
    if i ~= math.floor(i) then argerror(fname, 'indices are integers (' .. range .. ')') end
    local j = i < 0 and size + i + 1 or i
    if i == 0 then argerror(fname, 'indices are 1-based (' .. range .. ')') end
    if j < 1 or j > size then
        argerror(fname, ('index %d out of range for dim 1 of size %d (%s)'):format(i, size, range))
    end
    return h, nd, j - 1
end

local function get_item(self, i)
    local h, nd, i0 = index_row(self, i, false)
    local r = new1(C.lp_tensor_select, h, 0, i0, out1)
    if nd > 1 then return r end
    local v = r:item()
    r:free()
    return v
end

--- t[i] = value: copy a tensor (broadcast) or a number into t:select(1, i)
local function set_item(self, key, value)
    if type(key) ~= 'number' then
        error(("cannot set '%s' on a Tensor (tensors hold no Lua fields; indices are integers)")
            :format(tostring(key)), lp.user_level())
    end
    local h, _, i0 = index_row(self, key, true)
    if type(value) == 'boolean' then value = value and 1 or 0 end
    if type(value) ~= 'number' and not is_tensor(value) then
        argerror(('tensor[%d] = ...'):format(key), 'expected a number, a boolean or a tensor, got ' .. type(value))
    end
    local r = new1(C.lp_tensor_select, h, 0, i0, out1)
    r:copy_(value) -- on an error the view is left to the GC
    r:free()
end

-- ----------------------------------------------------------------- metatype

local function arith(op, name)
    return function(a, b)
        if type(a) == 'number' then
            return new1(C.lp_tensor_binary_scalar, op, handle(b, name), a, 1, out1)
        end
        return binary(op, a, b, name)
    end
end

-- box.define for the cdef, __gc, __tostring and the kind; the tensor keeps its
-- own handle() above (it also checks the type, as every op takes user values).
Box = box.define({
    handle = 'lp_tensor', free = C.lp_tensor_free, what = 'tensor',
    -- __index is a function, not the table: unknown names raise "Tensor has
    -- no method 'x'" and numbers index (lpose.box)
    name = 'Tensor', module = 'lpose.tensor', methods = Tensor, number = get_item,
    tostring = function(t) return t:__tostring_impl() end,
    freed = 'tensor(freed)',
    metamethods = {
        __newindex = set_item,
        __add = arith(C.LP_BINARY_ADD, 'tensor +'),
        __sub = arith(C.LP_BINARY_SUB, 'tensor -'),
        __mul = arith(C.LP_BINARY_MUL, 'tensor *'),
        __div = arith(C.LP_BINARY_DIV, 'tensor /'),
        __pow = arith(C.LP_BINARY_POW, 'tensor ^'),
        __unm = function(t) return t:neg() end,
        __len = function(t) return t:size(1) end,
    },
})

return setmetatable(M, {
    __call = function(_, data, opts) return M.new(data, opts) end,
})
