-- bench/bench_models.lua: forward and forward+backward of the resnet18 and
-- resnet50 TCN trackers (heatmap_mhcrnn, K = 17, labeled batch of 8 x 5
-- frames at 128x128) in lpose against the same architecture in PyTorch
-- (bench/ref_models.py under /usr/bin/python3), measured in one run.
-- Also LP's decoding (run_subpixelmaxima) of a 92-frame window's heatmaps
-- (K = 17, both at 32x32) against the same math in torch written as
-- upstream runs it (kornia's filter2d is a grouped conv2d).
-- A benchmark, not a test: prints seconds (best of N after one warm-up) and
-- the ratio torch / lpose (> 1: lpose is faster).
--
--   build/lpose run bench/bench_models.lua [rounds=3] [threads=2]
local lpose = require('lpose')
local models = require('lpose.models')

local timing = dofile('bench/timing.lua')
local now = timing.now

local args = arg or {}
local rounds = tonumber(args[1] or 3)
local threads = tonumber(args[2] or 2)
local batch, size = 8, 128
lpose.set_num_threads(threads)

local function best(fn)
    fn()
    local b = math.huge
    for _ = 1, rounds do
        local t0 = now()
        fn()
        b = math.min(b, now() - t0)
        collectgarbage()
    end
    return b
end

local function bench_lpose(backbone)
    local model = models.new({
        model = { model_type = 'heatmap_mhcrnn', backbone = backbone },
        data = { num_keypoints = 17, image_resize_dims = { height = size, width = size } },
    })
    local x = lpose.randn(batch, 5, 3, size, size)
    local target = lpose.rand(batch, 17, size / 4, size / 4)
    local params = model:parameters()
    local fwd = best(function()
        model:eval()
        local sf, mf = lpose.no_grad(function() return model:forward(x) end)
        sf:free(); mf:free()
    end)
    local fwd_bwd = best(function()
        model:train()
        local sf, mf = model:forward(x)
        local loss = (sf * target):sum() + (mf * target):sum()
        loss:backward()
        for _, p in ipairs(params) do p:zero_grad() end
        loss:free(); sf:free(); mf:free()
    end)
    model:free()
    local hm = lpose.rand(92, 17, size / 4, size / 4)
    local dec = best(function()
        local kp, conf = models.decode(hm, 2)
        kp:free(); conf:free()
    end)
    return fwd, fwd_bwd, dec
end

local function bench_torch(backbone)
    local cmd = ('MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 '
        .. '/usr/bin/python3 bench/ref_models.py %s %d %d %d %d'):format(backbone, batch, size, rounds, threads)
    local p = io.popen(cmd)
    local out = p:read('*a')
    p:close()
    local fwd, fwd_bwd = out:match('forward ([%d%.e%-]+)'), out:match('forward_backward ([%d%.e%-]+)')
    return tonumber(fwd), tonumber(fwd_bwd), tonumber(out:match('decode ([%d%.e%-]+)'))
end

print(('TCN trackers, batch %d x 5 frames at %dx%d, K=17, %d threads, best of %d'):format(
    batch, size, size, threads, rounds))
print(('%-9s %-17s %10s %10s %8s'):format('backbone', 'pass', 'lpose s', 'torch s', 'torch/lpose'))
for _, backbone in ipairs({ 'resnet18', 'resnet50' }) do
    local lf, lfb, ld = bench_lpose(backbone)
    local tf, tfb, td = bench_torch(backbone)
    local function row(name, l, t)
        print(('%-9s %-17s %10.3f %10s %8s'):format(backbone, name, l, t and ('%.3f'):format(t) or 'n/a',
            t and ('%.2f'):format(t / l) or 'n/a'))
    end
    row('forward (eval)', lf, tf)
    row('forward+backward', lfb, tfb)
    if backbone == 'resnet18' then row('decode 92x17', ld, td) end
end
