-- bench/op_overhead.lua: per-op overhead of a tiny tensor add from Lua
-- against the same loop in C (bench/op_overhead.c), measured in one run.
-- Both use 1 libtorch thread so only call overhead differs.
--
-- Run: make bench   (or build/lpose run bench/op_overhead.lua [n])
local lpose = require('lpose')
local ffi = require('ffi')

local n = tonumber(arg and arg[1]) or 100000
local build = os.getenv('LPOSE_BUILD') or 'build'
lpose.set_num_threads(1)

-- Process CPU time, the clock bench/op_overhead.c uses: on a shared
-- machine it is not inflated by other jobs (one libtorch thread).
ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } lpose_bench_timespec;
    int clock_gettime(int clk_id, lpose_bench_timespec *tp);
]]
local ts = ffi.new('lpose_bench_timespec')
local CLOCK_PROCESS_CPUTIME_ID = 2
local function now()
    ffi.C.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local a, b = lpose.ones(4), lpose.ones(4)
local C = lpose.C
local out = ffi.new('lp_tensor*[1]')

local function best_of(rounds, fn)
    local best = math.huge
    for _ = 1, rounds do
        local t0 = now()
        fn()
        best = math.min(best, now() - t0)
    end
    return best / n * 1e6
end

-- 1. through the Lua API: a:add_(b) (method lookup, handle check, status check)
local lua_inplace = best_of(7, function() for _ = 1, n do a:add_(b) end end)
-- 2. Lua API creating a new tensor and freeing it explicitly
local lua_add_free = best_of(7, function() for _ = 1, n do a:add(b):free() end end)
-- 3. raw FFI calls from Lua (no wrapper)
local ffi_inplace = best_of(7, function()
    for _ = 1, n do C.lp_tensor_binary_(C.LP_BINARY_ADD, a.h, b.h) end
end)
local ffi_add_free = best_of(7, function()
    for _ = 1, n do
        C.lp_tensor_binary(C.LP_BINARY_ADD, a.h, b.h, out)
        C.lp_tensor_free(out[0])
    end
end)

local p = assert(io.popen(build .. '/bench/op_overhead ' .. n))
local text = p:read('*a')
p:close()
local c_inplace = tonumber(text:match('inplace_us ([%d.]+)'))
local c_add_free = tonumber(text:match('add_free_us ([%d.]+)'))
assert(c_inplace and c_add_free, 'bench/op_overhead failed: ' .. text)

print(('tiny add, %d ops, best of 7, µs/op (1 libtorch thread)'):format(n))
print(('%-26s %9s %9s %9s'):format('', 'C', 'Lua FFI', 'Lua API'))
print(('%-26s %9.3f %9.3f %9.3f'):format('in place  (a:add_(b))', c_inplace, ffi_inplace, lua_inplace))
print(('%-26s %9.3f %9.3f %9.3f'):format('new + free (a:add(b):free())', c_add_free, ffi_add_free, lua_add_free))
print(('ratio Lua API / C: in place %.2fx, new+free %.2fx'):format(lua_inplace / c_inplace, lua_add_free / c_add_free))
