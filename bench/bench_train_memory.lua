-- bench/bench_train_memory.lua: peak resident memory (VmHWM) of supervised
-- training steps (forward + backward + Adam step, lpose.train.step.train_step)
-- of the TCN (heatmap_mhcrnn) against the single-frame model (heatmap), both
-- resnet18 at 128x128 with a labeled batch of 8 (TCN: 8 context stacks of 5
-- frames), K from configs/config_synthetic.yaml, heatmap_mse only, random inputs
-- (no loader threads, so only the model's memory shows). Each number comes from
-- a fresh child process that reads its own /proc/self/status:
--   baseline-KIND : lpose loaded, config read, model + optimizer built, no step
--   train-KIND    : the same, then `steps` training steps
-- Prints both peaks, peak(TCN)/peak(heatmap) and the ratio of (peak - baseline).
-- A benchmark, not a test.
--
--   build/lpose run bench/bench_train_memory.lua [steps=3] [threads=2]
--   (child: build/lpose run bench/bench_train_memory.lua --child KIND steps threads)
local args = arg or {}

local function status()
    local f = assert(io.open('/proc/self/status'))
    local s = f:read('*a')
    f:close()
    return tonumber(s:match('VmHWM:%s*(%d+) kB')), tonumber(s:match('VmRSS:%s*(%d+) kB'))
end

local BATCH, SIZE = 8, 128

local function child(kind, steps, threads)
    local what, model_type = kind:match('^(%a+)%-(%a+)$')
    model_type = model_type == 'tcn' and 'heatmap_mhcrnn' or 'heatmap'
    local lpose = require('lpose')
    local config = require('lpose.config')
    local models = require('lpose.models')
    local losses = require('lpose.losses')
    local step = require('lpose.train.step')
    lpose.set_num_threads(threads)
    lpose.manual_seed(0)
    local cfg = config.load({ file = 'configs/config_synthetic.yaml', overrides = {
        'data.data_dir=/nonexistent', 'data.image_resize_dims.height=' .. SIZE,
        'data.image_resize_dims.width=' .. SIZE, 'training.train_batch_size=' .. BATCH,
        'model.losses_to_use=[]', 'model.backbone=resnet18', 'model.model_type=' .. model_type,
        'training.device=cpu',
    } })
    local k = cfg.data.num_keypoints
    local model = models.new(cfg)
    model:train()
    local optimizer = lpose.optim.Adam(model:parameters(), { lr = 1e-3 })
    local run = { cfg = cfg, model = model, optimizer = optimizer, epoch = 0, step = 0, anneal = 1.0,
        loss_supervised = losses.supervised(cfg), losses_unsupervised = {}, frame_scale = { x = 1, y = 1 } }
    local hwm0, rss0 = status()
    local loss
    if what == 'train' then
        for _ = 1, steps do
            local images = model:is_mhcrnn() and lpose.randn(BATCH, 5, 3, SIZE, SIZE)
                or lpose.randn(BATCH, 3, SIZE, SIZE)
            local hm = lpose.rand(BATCH, k, SIZE / 4, SIZE / 4)
            local s = hm:sum({ 3, 4 }, true)
            local batch = { images = images, heatmaps = hm / s, keypoints = lpose.rand(BATCH, k, 2) * SIZE }
            hm:free(); s:free()
            local logs = step.train_step(run, batch, nil, nil)
            loss = logs.train_supervised_loss
            step.free_all(batch) -- the single-frame step already freed batch.heatmaps (its target); free is idempotent
            collectgarbage()
        end
    end
    local hwm, rss = status()
    io.write(('RESULT %s hwm_kb=%d rss_kb=%d hwm_before_kb=%d rss_before_kb=%d loss=%s images=%s\n'):format(
        kind, hwm, rss, hwm0, rss0, tostring(loss), model:is_mhcrnn() and '8x5x3x128x128' or '8x3x128x128'))
end

if args[1] == '--child' then
    child(args[2], tonumber(args[3] or 3), tonumber(args[4] or 2))
    return
end

local steps = tonumber(args[1] or 3)
local threads = tonumber(args[2] or 2)
local bin = os.getenv('LPOSE_BIN') or 'build/lpose'
local res = {}
for _, kind in ipairs({ 'baseline-tcn', 'train-tcn', 'baseline-heatmap', 'train-heatmap' }) do
    local cmd = ('%s run bench/bench_train_memory.lua --child %s %d %d 2>&1'):format(bin, kind, steps, threads)
    local p = io.popen(cmd)
    local out = p:read('*a')
    p:close()
    local hwm, rss = out:match('RESULT %S+ hwm_kb=(%d+) rss_kb=(%d+)')
    if not hwm then error(kind .. ' child failed:\n' .. out, 0) end
    res[kind] = { hwm = tonumber(hwm) / 1024, rss = tonumber(rss) / 1024, line = out:match('RESULT[^\n]*') }
end

print(('Peak RSS (VmHWM, fresh process each), resnet18, labeled batch %d at %dx%d, supervised heatmap_mse, '
    .. '%d train steps (forward+backward+Adam), %d threads'):format(BATCH, SIZE, SIZE, steps, threads))
print(('%-10s %14s %14s %16s'):format('model', 'baseline MiB', 'peak MiB', 'peak-baseline MiB'))
local function row(name, key)
    local b, t = res['baseline-' .. key].hwm, res['train-' .. key].hwm
    print(('%-10s %14.1f %14.1f %16.1f'):format(name, b, t, t - b))
    return b, t
end
local bt, pt = row('TCN', 'tcn')
local bh, ph = row('heatmap', 'heatmap')
print(('peak ratio TCN/heatmap: %.2f'):format(pt / ph))
print(('(peak - baseline) ratio TCN/heatmap: %.2f'):format((pt - bt) / (ph - bh)))
for _, kind in ipairs({ 'baseline-tcn', 'train-tcn', 'baseline-heatmap', 'train-heatmap' }) do
    print(res[kind].line)
end
