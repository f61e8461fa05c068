-- bench/bench_dist.lua: data-parallel training overhead on this machine.
-- Measured in one run, alternating, on the same machine:
--   (a) steps/s of the supervised TCN training step (resnet18, heatmap_mhcrnn,
--       128x128, the same labeled batch of 8 context stacks PER PROCESS, Adam)
--       in 1 process with all cores vs 2 processes (`lpose run --nproc 2`, the
--       cores shared out) with gradient averaging over Gloo on loopback, with
--       synchronised batch norm (LP's and lpose's default) and without. On
--       a 2-core machine this shows the overhead, not a speed-up: 2 processes
--       do twice the samples per step with the same cores;
--   (b) the all-reduce (average) of all resnet18 and resnet50 TCN gradients
--       between the 2 processes, as a fraction of the 2-process step and
--       against copying the same bytes once in memory.
--
--   build/lpose run bench/bench_dist.lua [rounds=2] [steps=6]
-- Worker mode (started by the driver): ... bench_dist.lua --worker STEPS
local lpose = require('lpose')

local timing = dofile('bench/timing.lua')
local now, median = timing.now, timing.median

local args = arg or {}
local PER_PROCESS_BATCH = 8

-- ------------------------------------------------------------------ worker
local function worker(steps, sync_bn)
    local config = require('lpose.config')
    local step = require('lpose.train.step')
    local dist = require('lpose.dist')
    local world = tonumber(os.getenv('WORLD_SIZE') or 1)
    local project = assert(lpose.synth.ensure(nil))
    local tmp = os.tmpname()
    os.remove(tmp)
    local function cfg_for(backbone)
        return config.load({ file = 'configs/config_synthetic.yaml', overrides = {
            'data.data_dir=' .. project.out_dir, 'data.video_dir=' .. project.video_dir,
            'data.image_resize_dims.height=128', 'data.image_resize_dims.width=128',
            'training.train_batch_size=' .. PER_PROCESS_BATCH * world, 'model.losses_to_use=[]',
            'model.backbone=' .. backbone, 'model.model_type=heatmap_mhcrnn', 'training.device=cpu',
            'training.num_workers=1', 'training.imgaug=default', 'eval.predict_vids_after_training=false',
            'training.sync_batchnorm=' .. tostring(sync_bn),
        } })
    end
    local run = lpose.train.setup(cfg_for('resnet18'), { model_dir = tmp, quiet = true })
    run.optimizer:set_lr(1e-4, 1) -- both groups train, as after unfreezing
    run.optimizer:set_lr(1e-3, 2)
    local batch = run.train_loader:next()
    assert(batch.images:size(1) == PER_PROCESS_BATCH)
    for _ = 1, 2 do step.train_step(run, batch) end -- warm-up
    local t = {}
    for i = 1, steps do
        local t0 = now()
        step.train_step(run, batch)
        t[i] = now() - t0
    end
    local step_s = median(t)

    -- all-reduce of every gradient, as average_gradients does after backward
    local function allreduce_time(params, reps)
        local grads = {}
        for i, p in ipairs(params) do grads[i] = lpose.zeros(p:shape()) end
        dist.all_reduce(grads, 'avg') -- warm-up
        local times, copies = {}, {}
        for r = 1, reps do
            dist.barrier()
            local t0 = now()
            dist.all_reduce(grads, 'avg')
            times[r] = now() - t0
            t0 = now()
            for _, g in ipairs(grads) do g:clone():free() end
            copies[r] = now() - t0
        end
        local bytes = 0
        for _, g in ipairs(grads) do bytes = bytes + g:numel() * 4; g:free() end
        return median(times), median(copies), bytes
    end
    local ar18, cp18, b18 = allreduce_time(run.model:parameters(), 10)
    local m50 = lpose.models.new(cfg_for('resnet50'))
    local ar50, cp50, b50 = allreduce_time(m50:parameters(), 5)
    if dist.is_main() then
        print(('RESULT world %d threads %d step %.6f ar18 %.6f cp18 %.6f b18 %d ar50 %.6f cp50 %.6f b50 %d'):format(
            world, lpose.get_num_threads(), step_s, ar18, cp18, b18, ar50, cp50, b50))
    end
    lpose.train.finish(run)
    os.execute('rm -rf ' .. tmp)
end

if args[1] == '--worker' then
    worker(tonumber(args[2]) or 6, args[3] ~= 'nosync')
    return
end

-- ------------------------------------------------------------------ driver
local rounds, steps = tonumber(args[1] or 2), tonumber(args[2] or 6)
local exe = arg[-2] or 'build/lpose'
local function launch(nproc, variant)
    local cmd = nproc == 1 and ('%s run bench/bench_dist.lua --worker %d'):format(exe, steps)
        or ('%s run --nproc %d bench/bench_dist.lua --worker %d %s'):format(exe, nproc, steps, variant or '')
    local p = io.popen(cmd .. ' 2>&1')
    local out = p:read('*a')
    p:close()
    local line = out:match('RESULT[^\n]*')
    if not line then error('worker failed:\n' .. out, 0) end
    local r = {}
    for k, v in line:gmatch('(%a[%w]*) ([%d%.e%-]+)') do r[k] = tonumber(v) end
    return r
end

assert(lpose.synth.ensure(nil)) -- generate once, before the timed runs
-- variants: 1 process; 2 processes with synchronised BN; 2 without
local variants = { { 1 }, { 2, 'sync' }, { 2, 'nosync' } }
local res = { {}, {}, {} }
for r = 1, rounds do
    for k = 1, 3 do
        local v = r % 2 == 1 and k or 4 - k
        res[v][#res[v] + 1] = launch(variants[v][1], variants[v][2])
    end
end
local function med(n, key)
    local v = {}
    for i, r in ipairs(res[n]) do v[i] = r[key] end
    return median(v)
end
local s1, s2, s3 = med(1, 'step'), med(2, 'step'), med(3, 'step')
print(('TCN resnet18 128x128 supervised step, batch %d context stacks per process, Adam; %d rounds x %d steps, '
    .. 'alternating; median step'):format(PER_PROCESS_BATCH, rounds, steps))
print(('  1 process  x %d threads: %7.1f ms/step  %5.2f steps/s  %5.1f samples/s'):format(res[1][1].threads,
    s1 * 1e3, 1 / s1, PER_PROCESS_BATCH / s1))
for _, v in ipairs({ { s2, 'synchronised BN', 2 }, { s3, 'BN per process ', 3 } }) do
    print(('  2 processes x %d thread, %s: %7.1f ms/step  %5.2f steps/s  %5.1f samples/s'):format(
        res[v[3]][1].threads, v[2], v[1] * 1e3, 1 / v[1], 2 * PER_PROCESS_BATCH / v[1]))
end
print(('  2 processes / 1 process: steps/s %.2f, samples/s %.2f (synchronised BN); steps/s %.2f, samples/s %.2f '
    .. '(BN per process)'):format(s1 / s2, 2 * s1 / s2, s1 / s3, 2 * s1 / s3))
for _, m in ipairs({ { 'resnet18', 'ar18', 'cp18', 'b18' }, { 'resnet50', 'ar50', 'cp50', 'b50' } }) do
    local ar, cp, bytes = med(2, m[2]), med(2, m[3]), res[2][1][m[4]]
    print(('all-reduce (avg) of the %s TCN gradients, %.1f MB, 2 processes (Gloo, loopback): %.1f ms = %.2f x '
        .. 'one in-memory copy; %.1f%% of the 2-process resnet18 step'):format(m[1], bytes / 1e6, ar * 1e3, ar / cp,
        100 * ar / s2))
end
