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

--- timing.spread(list) -> median, min, max
function M.spread(t)
    local lo, hi = math.huge, -math.huge
    for _, v in ipairs(t) do lo, hi = math.min(lo, v), math.max(hi, v) end
    return M.median(t), lo, hi
end

--- timing.rounds(variants, n) -> {name = {seconds per round}}
-- variants: a list of {name, fn}. One warm-up call each, then n rounds that
-- call every variant once in turn (A B A B ...), so a burst of other work on a
-- shared machine lands on both sides of a ratio instead of on one.
function M.rounds(variants, n)
    local times = {}
    for _, v in ipairs(variants) do
        v[2]()
        times[v[1]] = {}
        collectgarbage()
    end
    for _ = 1, n do
        for _, v in ipairs(variants) do
            local t0 = M.now()
            v[2]()
            local t = times[v[1]]
            t[#t + 1] = M.now() - t0
            collectgarbage()
        end
    end
    return times
end

--- timing.ratio(num, den) -> median, min, max of the per-round ratios num[i] / den[i]
-- (rounds pair up: round i of both ran back to back).
function M.ratio(num, den)
    local r = {}
    for i = 1, math.min(#num, #den) do r[i] = num[i] / den[i] end
    return M.spread(r)
end

--- timing.ratio_text(num, den) -> "1.23 (min-max 1.10-1.31, 5 rounds; fastest rounds 1.21)"
-- The last figure divides the fastest round of each side: other tenants' load only ever adds
-- time, so the fastest rounds are the ones it touched least.
function M.ratio_text(num, den)
    local med, lo, hi = M.ratio(num, den)
    local n = math.min(#num, #den)
    local fast_num, fast_den = math.huge, math.huge
    for i = 1, n do fast_num, fast_den = math.min(fast_num, num[i]), math.min(fast_den, den[i]) end
    return ('%.2f (min-max %.2f-%.2f, %d rounds; fastest rounds %.2f)'):format(med, lo, hi, n, fast_num / fast_den)
end

--- timing.trained_pair(dir) -> tcn, sf: the trained TCN of a model directory (LPOSE_BENCH_MODEL;
-- make demo writes one under outputs/) and a single-frame model made of its own backbone and
-- single-frame head (its config as a 'heatmap' model), both in eval mode.
function M.trained_pair(dir)
    local models, config = require('lpose.models'), require('lpose.config')
    local tcn = assert(models.load_dir(dir))
    assert(tcn:is_mhcrnn(), 'LPOSE_BENCH_MODEL must be a TCN (heatmap_mhcrnn) model directory')
    local cfg = config.load(dir .. '/config.yaml')
    cfg.model.model_type, cfg.model.backbone_weights = 'heatmap', nil
    local sf = models.new(cfg)
    local rep = assert(sf:load_weights(tcn:state_dict(), 'lpose', { strict = false }))
    assert(#rep.missing == 0, 'the single-frame model misses weights: ' .. table.concat(rep.missing, ', '))
    return tcn:eval(), sf:eval()
end

return M
