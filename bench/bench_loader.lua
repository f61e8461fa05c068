-- bench/bench_loader.lua: labeled-batch throughput of lpose.dataset's threaded
-- loader (mirror-mouse-example, imgaug 'dlc', 5-frame context stacks, 2 workers)
-- and, in the same run, how many samples/s a TCN resnet18 training step
-- (forward + backward of heatmap_mhcrnn, K = 17) consumes, alone and fed by the loader.
-- A benchmark, not a test: prints samples/s (and CPU ms per sample, which depends less on
-- other load on the machine); loader/model > 1 means the loader keeps up.
--
--   build/lpose run bench/bench_loader.lua [size=128] [batches=10] [workers=2] [threads=2]
local lpose = require('lpose')
local dataset = require('lpose.dataset')

local timing = dofile('bench/timing.lua')
local now = timing.now

local args = arg or {}
local size = tonumber(args[1] or 128)
local n_batches = tonumber(args[2] or 10)
local workers = tonumber(args[3] or 2)
local threads = tonumber(args[4] or 2)
local batch_size = 8
local MOUSE = os.getenv('LPOSE_MOUSE') or '../shared/data/mirror-mouse-example'
if lpose.set_num_threads then lpose.set_num_threads(threads) end

local ds, err = dataset.open {
    data = { data_dir = MOUSE, csv_file = 'CollectedData.csv', image_resize_dims = { height = size, width = size } },
    model = { model_type = 'heatmap_mhcrnn' },
    training = { imgaug = 'dlc', rng_seed_data_pt = 0 },
}
if not ds then
    print('bench_loader: skipped (' .. tostring(err) .. ')')
    return
end

local function free_batch(b)
    for _, t in pairs(b) do t:free() end
end

-- n batches from a fresh loader (all rows, reshuffled each epoch); returns samples/s
local function run_loader(aug, step)
    local loader = ds:loader { batch_size = batch_size, shuffle = true, seed = 0, workers = workers, augment = aug }
    local b = loader:next() -- warm-up: first batch (workers start)
    free_batch(b)
    local t0, c0, n = now(), os.clock(), 0
    for _ = 1, n_batches do
        b = loader:next() or loader:next() -- nil at an epoch end: the next call starts a new epoch
        n = n + b.indices:size(1)
        if step then step(b) end
        free_batch(b)
    end
    local dt, cpu = now() - t0, os.clock() - c0
    loader:free()
    return n / dt, cpu / n * 1000
end

print(('lpose.dataset loader: mirror-mouse-example, batch %d x 5 frames at %dx%d, %d workers, %d torch threads')
    :format(batch_size, size, size, workers, threads))
local plain, plain_cpu = run_loader(false)
print(('  loader, resize only (val/test)   %8.1f samples/s  (%.1f ms CPU per sample, all threads)')
    :format(plain, plain_cpu))
local aug, aug_cpu = run_loader(true)
print(('  loader, imgaug dlc (train)       %8.1f samples/s  (%.1f ms CPU per sample, all threads)')
    :format(aug, aug_cpu))

local ok, models = pcall(require, 'lpose.models')
if not ok then
    print('  TCN step: lpose.models not available (' .. tostring(models):sub(1, 80) .. ')')
    return
end
local model = models.new({
    model = { model_type = 'heatmap_mhcrnn', backbone = 'resnet18' },
    data = { num_keypoints = 17, image_resize_dims = { height = size, width = size } },
})
model:train()
local params = model:parameters()
local function step(b)
    local sf, mf = model:forward(b.images)
    local loss = ((sf - b.heatmaps) ^ 2):mean() + ((mf - b.heatmaps) ^ 2):mean()
    loss:backward()
    for _, p in ipairs(params) do p:zero_grad() end
    loss:free(); sf:free(); mf:free()
end
-- the model alone on one fixed batch
local fixed = ds:loader { batch_size = batch_size, workers = 1, augment = false }
local b = fixed:next()
fixed:free()
step(b)
local t0, reps = now(), math.max(3, math.floor(n_batches / 2))
for _ = 1, reps do step(b) end
local model_rate = reps * batch_size / (now() - t0)
free_batch(b)
print(('  TCN resnet18 train step alone    %8.1f samples/s'):format(model_rate))
local fed = run_loader(true, step)
print(('  TCN step fed by the dlc loader   %8.1f samples/s'):format(fed))
print(('  loader/model ratio (dlc)         %8.2f'):format(aug / model_rate))
model:free()
ds:free()
