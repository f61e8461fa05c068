-- bench_predict: streaming video prediction (lpose.predict), ratios measured in one
-- run on the same frames (a benchmark, not a test).
--
--   build/lpose run bench/bench_predict.lua [N_FRAMES] [SIZE] [T]
--
-- Defaults: 192 frames, 128x128 model input, T = 96, random resnet18 models with
-- K = 17. Every comparison alternates its variants in rounds (A B A B ...;
-- LPOSE_BENCH_ROUNDS, default 5) and prints the median ratio over rounds with
-- its min-max, so a burst of other work on a shared machine shows as spread
-- instead of a wrong ratio. Prints:
--   1. TCN streaming vs the single-frame model on the same pre-decoded frames
--      and window (the TCN's extra cost: its multi-frame head and a second
--      heatmap decode);
--   2. TCN streaming vs naive 5-frame stacks per output frame (backbone 5x per frame);
--   3. end-to-end (decode + model + CSV) vs model-only on pre-decoded frames (channels-last, as
--      the video path hands its windows to the model);
--   4. peak RSS (VmHWM) of a child process predicting a 10,000-frame vs a
--      1,000-frame 64x64 video (32x32 model input), made with ffmpeg in /tmp;
--   5. `lpose predict MODEL_DIR VIDEO` end to end (a child process, as users
--      run it), TCN vs single-frame, on real-sized videos: the mirror-mouse
--      test clip (../shared/data/mirror-mouse-example/videos/test_vid.mp4,
--      396x406, skipped when absent) and a generated 1280x1024 clip (the size
--      labs record), both resized to the 128x128 model input; and the TCN with
--      LPOSE_OMP_COUNT_DECODER=0 (libgomp's threads spin ~3 ms after each op, as
--      before the decoder joined libgomp's count: core/fork_join.c).
--   6. with LPOSE_BENCH_MODEL=DIR, a trained TCN's model directory (make demo
--      writes one under outputs/): `lpose predict` with it against a
--      single-frame model made of its own backbone and single-frame head, on
--      LPOSE_BENCH_VIDEO (default: the mirror-mouse clip), with each one's
--      --profile line; the ratio of the whole processes (start-up and the
--      checkpoint's load included) and of the prediction itself. Random
--      weights give flat heatmaps, the decoder's worst
--      case (nothing to skip); a trained model's peaked maps are what users
--      decode, so this line is the TCN's real extra cost.
--   7. with LPOSE_BENCH_MODEL, that TCN with --precision int8 against f32 (the
--      same video, rounds alternating): the speed ratio, whole process and the
--      prediction itself, and the distance between the two CSVs' keypoints
--      (mean, median, 95th percentile, max over frames and keypoints).
--   8. (with line 5) the random TCN of line 5 against bench/ref_lp_predict.py on
--      the first clip of line 5: LP's work per window written with OpenCV and
--      PyTorch eager (LP's own code needs packages Debian lacks), the
--      prediction itself on both sides. Needs python3-opencv, python3-torch
--      and python3-torchvision; skipped without them.
--   9. CPU per small libtorch op (every thread's but the decoder's) while a stream's decoder decodes, with
--      the decoder in libgomp's count (the default) and without
--      (LPOSE_OMP_COUNT_DECODER=0), and while it waits with a full queue (then
--      nothing is counted): libgomp's threads spin ~3 ms after each op unless
--      it counts more threads than CPUs (core/fork_join.c, decision 24).
-- LPOSE_BENCH_RSS=0 skips 4, LPOSE_BENCH_CLI=0 skips 5. The child mode is
-- `... bench_predict.lua --rss VIDEO`.
local lpose = require('lpose')
local models = require('lpose.models')
local predict = require('lpose.predict')

local timing = dofile('bench/timing.lua')
local now = timing.now

local args = arg or {}

-- A file's text, or nil when it cannot be read (/proc entries).
local function read_file(path)
    local f = io.open(path)
    if not f then return nil end
    local text = f:read('*a')
    f:close()
    return text
end

local function vmhwm_kb() return tonumber(read_file('/proc/self/status'):match('VmHWM:%s*(%d+)')) end

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
local decoded = assert(reader:read(0, N, { height = SIZE, width = SIZE }))
reader:close()
-- channels-last, as the video path's windows come (predict_prefetch.c): the model-only passes
-- must not do a layout copy that end to end no longer does
local frames = decoded:channels_last()
decoded:free()

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
local ROUNDS = tonumber(os.getenv('LPOSE_BENCH_ROUNDS')) or 5
local times = timing.rounds({ { 'tcn', function() stream_time(tcn) end },
                              { 'sf', function() stream_time(sf) end } }, ROUNDS)
local t_tcn, t_sf = timing.median(times.tcn), timing.median(times.sf)
print(('1. TCN streaming %.1f frames/s, single-frame %.1f frames/s (medians): TCN/SF throughput ratio %s')
    :format(N / t_tcn, N / t_sf, timing.ratio_text(times.sf, times.tcn)))

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

local out = tmpdir .. '/preds'
local res
times = timing.rounds({
    { 'model', function() stream_time(tcn) end },
    { 'e2e', function() res = assert(predict.video(tcn, vid, { output_dir = out, sequence_length = T })) end },
}, ROUNDS)
print(('3. end-to-end (decode+model+CSV) %.1f frames/s vs model-only on pre-decoded frames %.1f frames/s:'
    .. ' ratio %s (last run: %.3f s: the model %.3f s (model-only median %.3f s), waiting for frames %.3f s,'
    .. ' the rest (opening, CSV files) %.3f s)'):format(N / timing.median(times.e2e),
    N / timing.median(times.model), timing.ratio_text(times.model, times.e2e), res.seconds, res.seconds_model,
    timing.median(times.model), res.seconds_wait, res.seconds - res.seconds_model - res.seconds_wait))

-- A 1280x1024 clip (the size labs record), made once: line 9 and line 5 decode it.
local big_clip
local function big()
    big_clip = big_clip or gen(tmpdir .. '/big.mp4', 300, 1280, 1024)
    return big_clip
end

-- 9. does libgomp count the decoder while, and only while, it decodes? CPU of the process's threads
-- but the decoder's (named lpose-decode) over small ops 10 ms apart, while a stream's decoder
-- decodes the 1280x1024 clip (4 ms a frame here: the two windows after the first take most of a
-- second), counted (the default) and not, and once it has filled its queue and waits: libgomp's
-- threads spin ~3 ms after each op unless it counts more threads than CPUs (core/fork_join.c,
-- decision 24).
do
    local ffi = require('ffi')
    ffi.cdef('int usleep(unsigned int); int setenv(const char *, const char *, int); int getpid(void);')
    local task_dir = '/proc/' .. ffi.C.getpid() .. '/task/'
    -- the threads that are not the decoder's (listed before a probe: decoders come and go)
    local function model_threads()
        local tids, p = {}, io.popen('ls ' .. task_dir)
        for tid in p:lines() do
            local name = read_file(task_dir .. tid .. '/comm') or ''
            if not name:match('^lpose%-decode') then tids[#tids + 1] = tid end
        end
        p:close()
        return tids
    end
    local function cpu_seconds(tids) -- time on a CPU, from schedstat (nanoseconds)
        local ns = 0
        for _, tid in ipairs(tids) do
            ns = ns + tonumber((read_file(task_dir .. tid .. '/schedstat') or '0'):match('^%d+'))
        end
        return ns * 1e-9
    end
    local x = lpose.zeros(300000)
    local function probe_ms(count, wait_us)
        ffi.C.setenv('LPOSE_OMP_COUNT_DECODER', count and '1' or '0', 1)
        local ms
        for _, kp, conf in assert(predict.stream(tcn, big(), { sequence_length = T })) do
            kp:free()
            conf:free()
            if not ms then
                ffi.C.usleep(wait_us)
                local tids = model_threads()
                local c0 = cpu_seconds(tids)
                for _ = 1, 10 do
                    local y = x + 1
                    y:free()
                    ffi.C.usleep(10000)
                end
                ms = (cpu_seconds(tids) - c0) * 1000 / 10
            end
        end
        return ms
    end
    local decoding, uncounted, waiting = {}, {}, {}
    for _ = 1, 3 do
        decoding[#decoding + 1] = probe_ms(true, 0)
        uncounted[#uncounted + 1] = probe_ms(false, 0)
        waiting[#waiting + 1] = probe_ms(true, 2500000) -- the decoder fills its queue, then waits
    end
    ffi.C.setenv('LPOSE_OMP_COUNT_DECODER', '1', 1)
    print(('9. CPU per small op (then 10 ms asleep), the decoder\'s own left out, while a stream\'s decoder '
        .. 'decodes: %.2f ms with the decoder in libgomp\'s count, %.2f ms without (LPOSE_OMP_COUNT_DECODER=0); '
        .. 'while it waits with a full queue: %.2f ms (counted only while decoding; medians of 3)')
        :format(timing.median(decoding), timing.median(uncounted), timing.median(waiting)))
    x:free()
end

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

-- 5. `lpose predict` as users run it: one child process per prediction.
local function model_dir(model_type)
    local dir = tmpdir .. '/' .. model_type
    os.execute(('mkdir -p %q'):format(dir))
    local names = {}
    for k = 1, K do names[k] = 'kp' .. k end
    local f = assert(io.open(dir .. '/config.yaml', 'w'))
    f:write(table.concat({
        'data:', ('  image_resize_dims: {height: %d, width: %d}'):format(SIZE, SIZE),
        ('  num_keypoints: %d'):format(K), '  keypoint_names: [' .. table.concat(names, ', ') .. ']',
        'model:', '  model_type: ' .. model_type, '  backbone: resnet18',
        'dali:', ('  context: {predict: {sequence_length: %d}}'):format(T),
        ('  base: {predict: {sequence_length: %d}}'):format(T),
    }, '\n'), '\n')
    f:close()
    assert(models.new(cfg_for(model_type, SIZE, K)):save(dir .. '/model.lpt'))
    return dir
end

-- `ENV lpose predict MODEL_DIR VIDEO --output OUT_DIR EXTRA` -> frames, its --profile line (or nil)
local function run_cli(exe, dir, video, out_dir, extra, env)
    local p = io.popen(('%s %q predict %q %q --output %q %s 2>&1'):format(env or '', exe, dir, video, out_dir,
        extra or ''))
    local text = p:read('*a')
    p:close()
    local n = tonumber(text:match(': (%d+) frames,'))
    assert(n, 'lpose predict failed: ' .. text)
    return n, text:match('\n  (time [^\n]*)')
end

-- Rounds alternating `lpose predict ... --profile` runs, variants {name, model_dir, out_dir, extra}:
-- -> whole-process seconds per round (timing.rounds), the prediction's own seconds per round (the
-- --profile total, warm-up dropped), the last --profile line of each, the video's frames.
local function profiled_rounds(exe, video, variants)
    local inside, last, n, list = {}, {}, nil, {}
    for _, v in ipairs(variants) do
        local name, dir, out_dir, extra = v[1], v[2], v[3], v[4]
        inside[name] = {}
        list[#list + 1] = { name, function()
            n, last[name] = run_cli(exe, dir, video, out_dir, '--profile ' .. (extra or ''))
            local t = inside[name]
            t[#t + 1] = tonumber(last[name]:match('^time ([%d.]+) s'))
        end }
    end
    local whole = timing.rounds(list, ROUNDS)
    for _, v in ipairs(variants) do table.remove(inside[v[1]], 1) end -- the warm-up calls
    return whole, inside, last, n
end

if os.getenv('LPOSE_BENCH_CLI') ~= '0' then
    local exe = (os.getenv('LPOSE_BUILD') or 'build') .. '/lpose'
    local dirs = { tcn = model_dir('heatmap_mhcrnn'), sf = model_dir('heatmap') }
    local clips = {}
    local mirror = '../shared/data/mirror-mouse-example/videos/test_vid.mp4'
    if io.open(mirror, 'rb') then
        clips[#clips + 1] = { 'mirror-mouse test_vid.mp4', mirror }
    else
        print('5. skipped the mirror-mouse clip: ' .. mirror .. ' is absent')
    end
    clips[#clips + 1] = { '1280x1024 testsrc2, 300 frames', big() }
    for _, clip in ipairs(clips) do
        local frames_n
        local function cli(kind, env)
            return function() frames_n = run_cli(exe, dirs[kind], clip[2], tmpdir .. '/cli_' .. kind, nil, env) end
        end
        local ct = timing.rounds({ { 'tcn', cli('tcn') }, { 'sf', cli('sf') },
                                   { 'tcn_uncounted', cli('tcn', 'LPOSE_OMP_COUNT_DECODER=0') } }, ROUNDS)
        print(('5. lpose predict, %s: TCN %.1f frames/s, single-frame %.1f frames/s (medians, whole process):'
            .. ' TCN/SF %s; the TCN with the decoder left out of libgomp\'s count (LPOSE_OMP_COUNT_DECODER=0)'
            .. ' %.1f frames/s: counted/not %s'):format(clip[1], frames_n / timing.median(ct.tcn),
            frames_n / timing.median(ct.sf), timing.ratio_text(ct.sf, ct.tcn),
            frames_n / timing.median(ct.tcn_uncounted), timing.ratio_text(ct.tcn_uncounted, ct.tcn)))
    end

    -- 8. the same TCN against an LP-style pipeline on the first clip, the prediction itself on both
    -- sides (lpose's --profile time; the script's own clock from opening the video)
    if os.execute('/usr/bin/python3 -c "import cv2, torch, torchvision" >/dev/null 2>&1') ~= 0 then
        print('8. skipped the LP-style comparison: /usr/bin/python3 lacks cv2, torch or torchvision '
            .. '(Debian: python3-opencv, python3-torch, python3-torchvision)')
    else
        local clip, ours, theirs, n = clips[1], {}, {}, nil
        local lp_cmd = ('/usr/bin/python3 bench/ref_lp_predict.py %q %d %d %d %d 2>&1'):format(clip[2], SIZE, K,
            T, lpose.get_num_threads())
        timing.rounds({
            { 'lpose', function()
                local prof
                n, prof = run_cli(exe, dirs.tcn, clip[2], tmpdir .. '/cli_vs_lp', '--profile')
                ours[#ours + 1] = tonumber(prof:match('^time ([%d.]+) s'))
            end },
            { 'lp', function()
                local p = io.popen(lp_cmd)
                local text = p:read('*a')
                p:close()
                local nf, sec = text:match('frames (%d+) seconds ([%d.]+)')
                assert(sec and tonumber(nf) == n,
                    'bench/ref_lp_predict.py failed or read another frame count: ' .. text)
                theirs[#theirs + 1] = tonumber(sec)
            end },
        }, ROUNDS)
        table.remove(ours, 1) -- the warm-up calls
        table.remove(theirs, 1)
        print(('8. TCN on %s, the prediction itself: lpose %.1f frames/s, an LP-style pipeline %.1f frames/s '
            .. '(bench/ref_lp_predict.py: OpenCV, PyTorch eager, LP\'s work per window; not LP\'s own code): '
            .. 'lpose/LP-style %s'):format(clip[1], n / timing.median(ours), n / timing.median(theirs),
            timing.ratio_text(theirs, ours)))
    end
end

-- 6. a trained TCN against its own single-frame half
local trained = os.getenv('LPOSE_BENCH_MODEL')
if trained and trained ~= '' then
    local exe = (os.getenv('LPOSE_BUILD') or 'build') .. '/lpose'
    local video = os.getenv('LPOSE_BENCH_VIDEO') or '../shared/data/mirror-mouse-example/videos/test_vid.mp4'
    assert(io.open(video, 'rb'), 'LPOSE_BENCH_VIDEO: cannot open ' .. video)
    local _, sf_t = timing.trained_pair(trained)
    -- the single-frame model's directory: the same config as a 'heatmap' model, its weights
    local sf_dir = tmpdir .. '/trained_sf'
    os.execute(('mkdir -p %q'):format(sf_dir))
    local f = assert(io.open(trained .. '/config.yaml'))
    local yaml = f:read('*a'):gsub('model_type:%s*heatmap_mhcrnn', 'model_type: heatmap')
    f:close()
    f = assert(io.open(sf_dir .. '/config.yaml', 'w'))
    f:write(yaml)
    f:close()
    assert(sf_t:save(sf_dir .. '/model.lpt'))
    local ct, inside, prof, n = profiled_rounds(exe, video, {
        { 'tcn', trained, tmpdir .. '/trained_tcn' }, { 'sf', sf_dir, tmpdir .. '/trained_sf_out' } })
    print(('6. trained TCN (%s) vs its own single-frame half, lpose predict %s (%d frames): whole process '
        .. 'TCN %.1f frames/s, single-frame %.1f frames/s, TCN/SF %s; the prediction itself (--profile time) '
        .. 'TCN/SF %s'):format(trained, video, n, n / timing.median(ct.tcn), n / timing.median(ct.sf),
        timing.ratio_text(ct.sf, ct.tcn), timing.ratio_text(inside.sf, inside.tcn)))
    print('   last TCN run:  ' .. prof.tcn)
    print('   last SF run:   ' .. prof.sf)

    -- 7. int8 against f32, the same TCN
    local out_of = { f32 = tmpdir .. '/prec_f32', int8 = tmpdir .. '/prec_int8' }
    local pt, inside_p, prof_p = profiled_rounds(exe, video, {
        { 'f32', trained, out_of.f32, '--no-metrics --precision f32' },
        { 'int8', trained, out_of.int8, '--no-metrics --precision int8' } })
    local metrics = require('lpose.metrics')
    local stem = predict.stem(video)
    local a = assert(metrics.read_csv(out_of.f32 .. '/' .. stem .. '.csv'))
    local b = assert(metrics.read_csv(out_of.int8 .. '/' .. stem .. '.csv'))
    local d = {}
    for _, row in ipairs(metrics.pixel_error(b.keypoints, a.keypoints)) do
        for _, e in ipairs(row) do d[#d + 1] = e end
    end
    table.sort(d)
    local sum = 0
    for _, v in ipairs(d) do sum = sum + v end
    print(('7. --precision int8 vs f32, the same TCN and video: int8/f32 throughput, whole process %s; the '
        .. 'prediction itself %s'):format(timing.ratio_text(pt.f32, pt.int8), timing.ratio_text(inside_p.f32,
        inside_p.int8)))
    print(('   keypoints int8 vs f32 (%d): mean %.3f px, median %.3f px, 95th percentile %.3f px, max %.3f px')
        :format(#d, sum / #d, d[math.ceil(#d / 2)], d[math.ceil(0.95 * #d)], d[#d]))
    print('   last int8 run: ' .. prof_p.int8)
end
os.execute(('rm -rf %q'):format(tmpdir))
