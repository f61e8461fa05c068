-- experiments/custom_loss.lua: a loss written in Lua, used in training like
-- a built-in one. It registers 'bone_length', a prior that keeps the
-- predicted distance between connected keypoints near the length measured
-- on the labeled frames (the synthetic animal's segments have fixed
-- lengths), and trains a semi-supervised TCN with [temporal, bone_length].
-- The guide is docs/guides/write-a-loss.md.
--
-- Run:    build/lpose run experiments/custom_loss.lua [config=PATH] [key=value ...]
--         (config=PATH: your LP config; bones default to a chain 0-1-2-...)
-- Writes: a model directory outputs/YYYY-MM-DD/HH-MM-SS/ (see tcn_semi.lua);
--         metrics.csv has train_bone_length_loss and its weighted term.
local lpose = require('lpose')
local losses = require('lpose.losses')
local experiment = require('lpose.experiment')
local report = require('lpose.report')

-- The prior: mean over bones of relu(|length - expected| - epsilon), on the
-- unlabeled clip's predictions (frame pixels), both heads.
losses.register('bone_length', function(ctx, loss)
    local u = ctx.unlabeled
    if u == nil then return nil end
    local kp, p = u.keypoints_pred, loss.params
    local total
    for i, bone in ipairs(p.bones) do
        local a = kp:select(2, bone[1] + 1)           -- LP's 0-based keypoints -> Lua's 1-based
        local b = kp:select(2, bone[2] + 1)
        local term = (((a - b):norm(2, 2) - p.lengths[i]):abs() - p.epsilon):relu():mean()
        total = total and total + term or term
    end
    return total / #p.bones
end, { log_weight = 5.0, epsilon = 3.0, bones = {}, lengths = {} })

local cfg = experiment.config({ ... }, {
    overrides = { 'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[temporal,bone_length]' },
})

-- Bones: a chain over the keypoints unless the config lists them; expected
-- lengths: the median over the labeled frames (in frame pixels).
local params = cfg.losses.bone_length or {}
cfg.losses.bone_length = params
if not params.bones or #params.bones == 0 then
    params.bones = {}
    for k = 0, cfg.data.num_keypoints - 2 do params.bones[#params.bones + 1] = { k, k + 1 } end
end
local labels = assert(lpose.data.read_labels(cfg.data.data_dir .. '/' .. cfg.data.csv_file,
    { data_dir = cfg.data.data_dir }))
local kp = labels:keypoints()                         -- frames K 2, NaN where unlabeled
params.lengths = {}
for i, bone in ipairs(params.bones) do
    local d = (kp:select(2, bone[1] + 1) - kp:select(2, bone[2] + 1)):norm(2, 2)
    params.lengths[i] = d:masked_select(d:isnan():logical_not()):quantile(0.5):item()
    print(('bone %d-%d: expected length %.1f px'):format(bone[1], bone[2], params.lengths[i]))
end

local run = lpose.train.run(cfg)
report.after_training(run)
