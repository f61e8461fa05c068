-- bench/bench_eks.lua: the Ensemble Kalman Smoother on a long video (issue 16
-- item 5): seconds for lp_eks_smooth with a given smoothing parameter and
-- with s fitted per keypoint ('auto'), then `lpose.eks.smooth` end to end
-- from prediction CSVs (read, smooth, write). Simulated members: each
-- keypoint a random walk (step sd 1 px), member m = truth + noise of sd
-- 1 + m px, likelihood 0.9, 1% of frames missing per member.
--
--   build/lpose run bench/bench_eks.lua [FRAMES [KEYPOINTS [MEMBERS [ROUNDS [CSV_ROUNDS]]]]]
--
-- Defaults: 100000 frames, 17 keypoints, 4 members, 3 rounds, 1 CSV round
-- (CSV_ROUNDS 0 skips the CSV part, which writes MEMBERS CSVs of ~90 MB each
-- to a temporary folder).
local ffi = require('ffi')
local lpose = require('lpose')
local timing = dofile('bench/timing.lua')
local C = lpose.C

local T = tonumber(arg and arg[1]) or 100000
local K = tonumber(arg and arg[2]) or 17
local M = tonumber(arg and arg[3]) or 4
local ROUNDS = tonumber(arg and arg[4]) or 3
local CSV_ROUNDS = tonumber(arg and arg[5]) or 1

-- xorshift + Box-Muller: the same input on every run
local state = 88172645463325252ULL
local function uniform()
    state = bit.bxor(state, bit.lshift(state, 13))
    state = bit.bxor(state, bit.rshift(state, 7))
    state = bit.bxor(state, bit.lshift(state, 17))
    return (tonumber(bit.rshift(state, 11)) + 0.5) / 9007199254740992
end
local function normal() return math.sqrt(-2 * math.log(uniform())) * math.cos(2 * math.pi * uniform()) end

local pred = ffi.new('double[?]', M * T * K * 3)
do
    local pos = ffi.new('double[?]', 2 * K)
    for k = 0, K - 1 do pos[2 * k], pos[2 * k + 1] = 100 + 20 * k, 300 - 10 * k end
    for t = 0, T - 1 do
        for k = 0, K - 1 do
            pos[2 * k] = pos[2 * k] + normal()
            pos[2 * k + 1] = pos[2 * k + 1] + normal()
            for m = 0, M - 1 do
                local o = ((m * T + t) * K + k) * 3
                if uniform() < 0.01 then
                    pred[o], pred[o + 1], pred[o + 2] = 0 / 0, 0 / 0, 0 / 0
                else
                    pred[o] = pos[2 * k] + (1 + m) * normal()
                    pred[o + 1] = pos[2 * k + 1] + (1 + m) * normal()
                    pred[o + 2] = 0.9
                end
            end
        end
    end
end

local out = ffi.new('double[?]', T * K * C.LP_EKS_N_COLUMNS)
local s_out = ffi.new('double[?]', K)
local params = ffi.new('lp_eks_params[1]')

-- Wall seconds and process CPU seconds (os.clock: all threads) of each
-- round: on a shared machine the wall time of a single-threaded call is
-- its CPU time plus the time other processes held the core.
local function summary(times)
    local wall, cpu = {}, {}
    local lo, hi = math.huge, -math.huge
    for i, v in ipairs(times) do
        wall[i], cpu[i] = v[1], v[2]
        lo, hi = math.min(lo, v[1]), math.max(hi, v[1])
    end
    return ('median %.3f s wall (min %.3f, max %.3f), %.3f s CPU, over %d rounds'):format(timing.median(wall),
        lo, hi, timing.median(cpu), #times)
end

local function timed(fn)
    local t0, c0 = timing.now(), os.clock()
    fn()
    return { timing.now() - t0, os.clock() - c0 }
end

local function core(smooth)
    params[0] = C.lp_eks_default_params()
    params[0].smooth = smooth
    local times = {}
    for r = 1, ROUNDS do
        times[r] = timed(function()
            assert(C.lp_eks_smooth(pred, M, T, K, params, s_out, out) == 0, ffi.string(C.lp_last_error()))
        end)
    end
    return times
end

print(('bench_eks: %d frames x %d keypoints x %d members (%.0f MB of predictions), %s'):format(T, K, M,
    M * T * K * 3 * 8 / 2 ^ 20, os.date('!%Y-%m-%d %H:%M UTC')))
print('  lp_eks_smooth, s = 1 given:   ' .. summary(core(1.0)))
print('  lp_eks_smooth, s fitted:      ' .. summary(core(0.0)))
local fitted = {}
for k = 0, math.min(K, 4) - 1 do fitted[#fitted + 1] = ('%.3f'):format(s_out[k]) end
print(('  fitted s of the first keypoints: %s (true step variance 1)'):format(table.concat(fitted, ', ')))

if CSV_ROUNDS > 0 then
    local p = io.popen('mktemp -d /tmp/lpose_bench_eks.XXXXXX')
    local dir = p:read('*l')
    p:close()
    local names = ffi.new('const char*[?]', K)
    local keep = {}
    for k = 0, K - 1 do
        keep[k + 1] = ('kp%02d'):format(k)
        names[k] = keep[k + 1]
    end
    local paths = {}
    local row = ffi.new('float[?]', K * 3)
    for m = 0, M - 1 do
        paths[m + 1] = ('%s/member%d.csv'):format(dir, m)
        local w = ffi.new('lp_csv_writer*[1]')
        assert(C.lp_csv_writer_open(paths[m + 1], C.LP_CSV_PREDICTIONS, 'heatmap_tracker', K, names, 0, w) == 0)
        for t = 0, T - 1 do
            for i = 0, K * 3 - 1 do row[i] = pred[(m * T + t) * K * 3 + i] end
            assert(C.lp_csv_writer_write_row(w[0], nil, row, nil) == 0)
        end
        assert(C.lp_csv_writer_close(w[0]) == 0)
        C.lp_csv_writer_free(w[0])
    end
    local eks = require('lpose.eks')
    local given, auto = {}, {}
    for r = 1, CSV_ROUNDS do
        given[r] = timed(function() assert(eks.smooth(paths, { smooth = 1, output = dir .. '/eks.csv' })) end)
        collectgarbage()
        auto[r] = timed(function() assert(eks.smooth(paths, { output = dir .. '/eks.csv' })) end)
        collectgarbage()
    end
    print('  eks.smooth CSVs -> CSV, s = 1: ' .. summary(given))
    print('  eks.smooth CSVs -> CSV, auto:  ' .. summary(auto))
    -- the parts: reading the members, writing the output (f64 values in Python's repr)
    local reads, writes = {}, {}
    local res = assert(eks.smooth(paths, { smooth = 1 }))
    for r = 1, CSV_ROUNDS do
        reads[r] = timed(function() for _, path in ipairs(paths) do assert(eks.read_csv(path)) end end)
        writes[r] = timed(function() assert(eks.write_csv(dir .. '/eks.csv', res)) end)
        collectgarbage()
    end
    print(('  of which reading the %d CSVs:   '):format(M) .. summary(reads))
    local nproc = io.popen('nproc')
    local threads = math.min(8, tonumber(nproc:read('*l')) or 1)
    nproc:close()
    print(('  of which writing the output (%d threads): '):format(threads) .. summary(writes))
    os.execute("rm -rf '" .. dir .. "'")
end
