-- bench/bench_train.lua: the semi-supervised TCN training step (resnet18,
-- heatmap_mhcrnn, 128x128, labeled batch of 8 context stacks (8,5,3,128,128)
-- + an unlabeled window of 16 frames, losses heatmap_mse + temporal, Adam),
-- measured in one run three ways:
--   (a) real data path: lpose.train.setup's threaded labeled loader (2 workers,
--       the default synthetic project of lpose.synth.ensure) and its unlabeled
--       video stream, exactly as lpose.train.epoch feeds train_step;
--   (b) the same step on a few batches and one window loaded once and reused;
--   (c) the same step in PyTorch (bench/ref_train.py under /usr/bin/python3,
--       torch 1.13; see that file for exactly what it computes).
-- (a) and (b) are interleaved in rounds of `steps` steps to spread the noise of
-- other load on the machine. A benchmark, not a test: prints ms/step (mean and
-- median over all timed steps), real/preloaded - 1 (the data path's cost) and
-- lpose/torch (< 1: lpose is faster).
--
--   build/lpose run bench/bench_train.lua [rounds=5] [steps=4] [threads=2] [workers=2]
local lpose = require('lpose')
local config = require('lpose.config')
local step = require('lpose.train.step')

local timing = dofile('bench/timing.lua')
local now, median = timing.now, timing.median

local args = arg or {}
local rounds = tonumber(args[1] or 5)
local steps = tonumber(args[2] or 4)
local threads = tonumber(args[3] or 2)
local workers = tonumber(args[4] or 2)
local WARMUP = 2
local N_PRELOADED = 3

local project = assert(lpose.synth.ensure(nil))
local tmp = os.tmpname()
os.remove(tmp)
os.execute('mkdir -p ' .. tmp)

local cfg = config.load({ file = 'configs/config_synthetic.yaml', overrides = {
    'data.data_dir=' .. project.out_dir, 'data.video_dir=' .. project.video_dir,
    'data.image_resize_dims.height=128', 'data.image_resize_dims.width=128',
    'training.train_batch_size=8', 'dali.context.train.batch_size=16',
    'model.losses_to_use=[temporal]', 'model.backbone=resnet18', 'model.model_type=heatmap_mhcrnn',
    'training.device=cpu', 'training.num_threads=' .. threads, 'training.num_workers=' .. workers,
    'training.imgaug=default', 'eval.predict_vids_after_training=false',
} })
local run = lpose.train.setup(cfg, { model_dir = tmp .. '/model', quiet = true })
assert(run.semi_supervised and run.model:is_mhcrnn())
-- an unfrozen step: both parameter groups train (setup leaves the backbone at lr 0
-- until training.unfreezing_epoch); unsupervised importance 1
run.optimizer:set_lr(1e-4, 1)
run.optimizer:set_lr(1e-3, 2)
run.anneal = 1.0

-- the data path of lpose.train.epoch: next labeled batch (cycling), next window
local function next_real()
    local batch, berr = run.train_loader:next()
    if batch == nil and berr == nil then batch, berr = run.train_loader:next() end
    if batch == nil then error(berr or 'no batch', 0) end
    local frames, info = run.unlabeled:next()
    if not frames then error(info, 0) end
    return batch, frames, info
end

local function step_real()
    local batch, frames, info = next_real()
    local logs = step.train_step(run, batch, frames, info)
    step.free_all(batch)
    frames:free()
    return logs
end

-- (b) inputs: loaded once, reused (train_step frees none of the TCN's inputs)
local pre, pre_i = {}, 0
for i = 1, N_PRELOADED do
    local batch, frames, info = next_real()
    pre[i] = { batch = batch, frames = frames, info = info }
end
local b0 = pre[1].batch
local shapes = ('labeled images %s, heatmaps %s; unlabeled frames %s'):format(
    table.concat(b0.images:shape(), 'x'), table.concat(b0.heatmaps:shape(), 'x'),
    table.concat(pre[1].frames:shape(), 'x'))
local function step_pre()
    pre_i = pre_i % N_PRELOADED + 1
    local p = pre[pre_i]
    return step.train_step(run, p.batch, p.frames, p.info)
end

for _ = 1, WARMUP do step_real(); step_pre() end

local times = { real = {}, pre = {} }
local cpu = { real = 0, pre = 0 }
local logs_seen
local function timed(name, fn)
    collectgarbage()
    local c0, t0 = os.clock(), now()
    for _ = 1, steps do
        logs_seen = fn()
        local t1 = now()
        times[name][#times[name] + 1] = t1 - t0
        t0 = t1
    end
    cpu[name] = cpu[name] + os.clock() - c0
end
for r = 1, rounds do
    if r % 2 == 1 then timed('real', step_real); timed('pre', step_pre)
    else timed('pre', step_pre); timed('real', step_real) end
end

local function mean(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s / #t end
-- (c) torch
local cmd = ('MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3 bench/ref_train.py '
    .. '%d %d %d %d %d %d'):format(b0.images:size(1), 128, cfg.data.num_keypoints, 16, WARMUP, rounds * steps)
    .. (' %d'):format(threads)
local p = io.popen(cmd .. ' 2>&1')
local out = p:read('*a')
p:close()
local t_mean, t_median = out:match('step_mean_ms ([%d%.e%-]+)'), out:match('step_median_ms ([%d%.e%-]+)')
t_mean, t_median = tonumber(t_mean), tonumber(t_median)

print(('TCN resnet18 training step, %s, K=%d, heatmap_mse + temporal, Adam; %d threads, %d loader workers'):format(
    shapes, cfg.data.num_keypoints, threads, workers))
print(('%d warm-up steps each, then %d rounds x %d steps per variant, interleaved (%d timed steps each)'):format(
    WARMUP, rounds, steps, rounds * steps))
print(('%-32s %10s %10s %12s'):format('variant', 'mean ms', 'median ms', 'CPU ms/step'))
local rm, rmed = mean(times.real) * 1e3, median(times.real) * 1e3
local pm, pmed = mean(times.pre) * 1e3, median(times.pre) * 1e3
print(('%-32s %10.1f %10.1f %12.1f'):format('(a) real loader + video stream', rm, rmed, cpu.real / #times.real * 1e3))
print(('%-32s %10.1f %10.1f %12.1f'):format('(b) preloaded batches', pm, pmed, cpu.pre / #times.pre * 1e3))
if t_mean then
    print(('%-32s %10.1f %10.1f %12s'):format('(c) torch 1.13 reference', t_mean, t_median, 'n/a'))
else
    print('(c) torch reference failed: ' .. out)
end
print(('data path cost  real/preloaded - 1: mean %+.1f%%  median %+.1f%%'):format(
    (rm / pm - 1) * 100, (rmed / pmed - 1) * 100))
if t_mean then
    print(('lpose/torch (preloaded):           mean %.2f  median %.2f'):format(pm / t_mean, pmed / t_median))
end
print(('last step logs: total_loss %.5g  train_supervised_loss %.5g  train_temporal_loss %.5g'):format(
    logs_seen.total_loss or 0 / 0, logs_seen.train_supervised_loss or 0 / 0, logs_seen.train_temporal_loss or 0 / 0))
print('torch reference output: ' .. out:gsub('\n', ' | '))

for _, q in ipairs(pre) do step.free_all(q.batch); q.frames:free() end
lpose.train.finish(run)
run.train_loader:free()
if run.val_loader then run.val_loader:free() end
os.execute('rm -rf ' .. tmp)
