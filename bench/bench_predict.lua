-- bench_predict: streaming video prediction (lpose.predict), ratios measured in one
-- run on the same frames (a benchmark, not a test).
--
--   build/lpose run bench/bench_predict.lua [N_FRAMES] [SIZE] [T]
--
-- Defaults: 192 frames, 128x128 model input, T = 96, random resnet18 models with
-- K = 17. Prints:
--   1. TCN streaming vs the single-frame model on the same frames and window
--      (frames/s, best of LPOSE_BENCH_ROUNDS (3) interleaved runs each; the
--      TCN's extra cost is its multi-frame head and decoding a second heatmap);
--   2. TCN streaming vs naive 5-frame stacks per output frame (backbone 5x per frame);
--   3. end-to-end (decode + model + CSV) vs model-only on pre-decoded frames;
--   4. peak RSS (VmHWM) of a child process predicting a 10,000-frame vs a
--      1,000-frame 64x64 video (32x32 model input), made with ffmpeg in /tmp.
-- LPOSE_BENCH_RSS=0 skips 4. The child mode is `... bench_predict.lua --rss VIDEO`.
local lpose = require('lpose')
local models = require('lpose.models')
local predict = require('lpose.predict')

local timing = dofile('bench/timing.lua')
local now = timing.now

local args = arg or {}

local function vmhwm_kb()
    local f = io.open('/proc/self/status')
    local s = f:read('*a')
    f:close()
    return tonumber(s:match('VmHWM:%s*(%d+)'))
end

local function cfg_for(model_type, size, K)
    local names = {}
    for k = 1, K do names[k] = 'kp' .. k end
    return { model = { model_type = model_type, backbone = 'resnet18' },
             data = { num_keypoints = K, keypoint_names = names,
                      image_resize_dims = { height = size, width = size } },
             training = { rng_seed_model_pt = 0 } }
end

-- Child: predict one video, print its peak RSS.
if args[1] == '--rss' then
    local model = models.new(cfg_for('heatmap_mhcrnn', 32, 17)):eval()
    local out = os.tmpname()
    os.remove(out)
    local res = assert(predict.video(model, args[2], { output_dir = out, sequence_length = 96 }))
    os.execute(('rm -rf %q'):format(out))
    print(('RSS %d %d %.3f'):format(res.n_frames, vmhwm_kb(), res.seconds))
    return
end

local N = tonumber(args[1]) or 192
local SIZE = tonumber(args[2]) or 128
local T = tonumber(args[3]) or 96
local K = 17
lpose.manual_seed(0)

local tmpdir = os.tmpname()
os.remove(tmpdir)
os.execute(('mkdir -p %q'):format(tmpdir))

local function gen(path, n, w, h)
    local cmd = ('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=%dx%d:rate=25 -frames:v %d '
        .. '-c:v libx264 -pix_fmt yuv420p %q >/dev/null 2>&1'):format(w, h, n, path)
    assert(os.execute(cmd) == 0, 'ffmpeg failed: ' .. cmd)
    return path
end

local vid = gen(tmpdir .. '/bench.mp4', N, SIZE, SIZE)
local tcn = models.new(cfg_for('heatmap_mhcrnn', SIZE, K)):eval()
local sf = models.new(cfg_for('heatmap', SIZE, K)):eval()
local reader = assert(require('lpose.video').open(vid))
local frames = assert(reader:read(0, N, { height = SIZE, width = SIZE }))
reader:close()

local function stream_time(model, edge)
    local t0 = now()
    local n = 0
    for _, kp, conf in assert(predict.stream(model, frames, { sequence_length = T, edge = edge })) do
        n = n + kp:size(1)
        kp:free()
        conf:free()
    end
    assert(n == N)
    return now() - t0
end

print(('# %d frames %dx%d, T = %d, K = %d, resnet18, %d threads'):format(N, SIZE, SIZE, T, K,
    lpose.get_num_threads()))
-- Best of ROUNDS interleaved runs: the machine may be shared, and a burst of
-- other work during one model's run would skew the ratio.
local ROUNDS = tonumber(os.getenv('LPOSE_BENCH_ROUNDS')) or 3
stream_time(tcn) -- warm-up
stream_time(sf)
local t_tcn, t_sf = math.huge, math.huge
for _ = 1, ROUNDS do
    t_tcn = math.min(t_tcn, stream_time(tcn))
    t_sf = math.min(t_sf, stream_time(sf))
end
print(('1. TCN streaming %.1f frames/s, single-frame %.1f frames/s: TCN/SF throughput ratio %.2f')
    :format(N / t_tcn, N / t_sf, t_sf / t_tcn))

-- naive: one 5-frame stack per output frame (LP's labeled path), on a subset
local n_naive = math.min(N - 4, 40)
local function naive_time()
    local t0 = now()
    for i = 3, n_naive + 2 do
        local stack = frames:narrow(1, i - 2, 5):unsqueeze(1) -- 1 5 3 H W
        local kp, conf = tcn:predict(stack)
        kp:free()
        conf:free()
        stack:free()
    end
    return (now() - t0) / n_naive
end
local t_naive = math.huge
for _ = 1, math.min(ROUNDS, 2) do t_naive = math.min(t_naive, naive_time()) end
print(('2. naive 5-frame stacks %.1f frames/s: streaming is %.2fx faster'):format(1 / t_naive,
    t_naive / (t_tcn / N)))

-- best of ROUNDS for both sides, interleaved (as in 1.)
local out = tmpdir .. '/preds'
predict.video(tcn, vid, { output_dir = out, sequence_length = T }) -- warm-up (file cache)
local res, t_model = nil, math.huge
for _ = 1, ROUNDS do
    t_model = math.min(t_model, stream_time(tcn))
    local r = assert(predict.video(tcn, vid, { output_dir = out, sequence_length = T }))
    if not res or r.seconds < res.seconds then res = r end
end
print(('3. end-to-end (decode+model+CSV) %.1f frames/s vs model-only on pre-decoded frames %.1f frames/s:'
    .. ' ratio %.2f (decode wait %.2fs of %.2fs)'):format(N / res.seconds, N / t_model, t_model / res.seconds,
    res.seconds_wait, res.seconds))

if os.getenv('LPOSE_BENCH_RSS') ~= '0' then
    local exe = (os.getenv('LPOSE_BUILD') or 'build') .. '/lpose'
    local script = debug.getinfo(1, 'S').source:sub(2)
    local function rss(n)
        local path = '/tmp/lpose_bench_predict_' .. n .. '.mp4'
        if not io.open(path, 'rb') then gen(path, n, 64, 64) end
        local p = io.popen(('%q run %q --rss %q'):format(exe, script, path))
        local line = p:read('*a')
        p:close()
        local nf, kb, secs = line:match('RSS (%d+) (%d+) ([%d.]+)')
        assert(nf, 'child failed: ' .. line)
        return tonumber(nf), tonumber(kb), tonumber(secs)
    end
    local n1, kb1, s1 = rss(1000)
    local n2, kb2, s2 = rss(10000)
    print(('4. peak RSS: %d frames %.1f MiB (%.1fs), %d frames %.1f MiB (%.1fs): long/short ratio %.3f')
        :format(n1, kb1 / 1024, s1, n2, kb2 / 1024, s2, kb2 / kb1))
end
os.execute(('rm -rf %q'):format(tmpdir))
