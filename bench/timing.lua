-- bench/timing.lua: what the benchmarks share (loaded with dofile from the
-- repository root, as `lpose run bench/X.lua` runs there; not a benchmark).
local ffi = require('ffi')

-- pcall: a second dofile in one process must not redeclare the type
pcall(ffi.cdef, [[
struct lp_bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk_id, struct lp_bench_timespec *tp);
]])

local M = {}
local ts = ffi.new('struct lp_bench_timespec')

--- timing.now() -> seconds on the monotonic clock (wall time, immune to clock changes)
function M.now()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

--- timing.median(list) -> the median (the list is not changed)
function M.median(t)
    local c = {}
    for i, v in ipairs(t) do c[i] = v end
    table.sort(c)
    local n = #c
    return n % 2 == 1 and c[(n + 1) / 2] or (c[n / 2] + c[n / 2 + 1]) / 2
end

return M
