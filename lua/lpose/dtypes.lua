-- lpose.dtypes: names of dtypes and devices <-> the engine's enums.
-- Accepts PyTorch's names ('float32', 'int64', 'cuda:1') and short ones ('f32', 'i64').
local lp = require('lpose.C')
local C, argerror = lp.lib, lp.argerror

local M = {}

local by_name = {
    f32 = C.LP_DTYPE_F32, float32 = C.LP_DTYPE_F32, float = C.LP_DTYPE_F32,
    f64 = C.LP_DTYPE_F64, float64 = C.LP_DTYPE_F64, double = C.LP_DTYPE_F64,
    f16 = C.LP_DTYPE_F16, float16 = C.LP_DTYPE_F16, half = C.LP_DTYPE_F16,
    bf16 = C.LP_DTYPE_BF16, bfloat16 = C.LP_DTYPE_BF16,
    i64 = C.LP_DTYPE_I64, int64 = C.LP_DTYPE_I64, long = C.LP_DTYPE_I64,
    i32 = C.LP_DTYPE_I32, int32 = C.LP_DTYPE_I32, int = C.LP_DTYPE_I32,
    u8 = C.LP_DTYPE_U8, uint8 = C.LP_DTYPE_U8, byte = C.LP_DTYPE_U8,
    bool = C.LP_DTYPE_BOOL,
}

--- dtype(name_or_enum, fname) -> lp_dtype number
function M.dtype(v, fname)
    if type(v) == 'number' and v >= 0 and v <= C.LP_DTYPE_BOOL then return v end
    local d = by_name[v]
    if d == nil then
        argerror(fname or 'dtype', "unknown dtype '" .. tostring(v)
            .. "' (f32, f64, f16, bf16, i64, i32, u8, bool)")
    end
    return d
end

--- dtype_name(enum) -> 'f32', ...
function M.dtype_name(d)
    return require('ffi').string(C.lp_dtype_name(d))
end

function M.is_device(v)
    return type(v) == 'string' and (v == 'cpu' or v == 'cuda' or v:match('^cuda:%d+$') ~= nil)
end

--- device('cpu' | 'cuda' | 'cuda:N' | enum, fname) -> lp_device number
function M.device(v, fname)
    if type(v) == 'number' and v >= -1 and v == math.floor(v) then return v end
    if v == 'cpu' then return C.LP_DEVICE_CPU end
    if v == 'cuda' then return 0 end
    local n = type(v) == 'string' and v:match('^cuda:(%d+)$')
    if n then return tonumber(n) end
    argerror(fname or 'device', "unknown device '" .. tostring(v) .. "' (cpu, cuda, cuda:N)")
end

function M.device_name(d)
    if d == C.LP_DEVICE_CPU then return 'cpu' end
    return 'cuda:' .. tostring(d)
end

--- 'auto' -> 'cuda:0' when a GPU is usable, else 'cpu'
function M.resolve_device(v)
    if v == nil or v == 'auto' then
        return C.lp_cuda_device_count() > 0 and 'cuda:0' or 'cpu'
    end
    return M.device_name(M.device(v))
end

return M
