-- lpose.train.step: one optimisation step and one validation pass, the
-- pieces experiment scripts compose (docs/guides/training.md).
--
-- A step is LP's (docs/spec/lp-model.md §4.9): the supervised heatmap loss on a
-- labeled batch (both TCN heads, weight 0.5) plus, when semi-supervised,
-- the annealed, weighted unsupervised losses on a contiguous unlabeled
-- window; the labeled and unlabeled frames go through the model in two
-- forward passes, each with its own batch-norm statistics, and one
-- optimizer step follows.
local lpose = require('lpose')
local config = require('lpose.config')
local models = require('lpose.models')
local losses = require('lpose.losses')

local M = {}

-- Free every tensor in a (possibly nested) table.
local function free_all(t)
    for _, v in pairs(t) do
        if lpose.is_tensor(v) then v:free() elseif type(v) == 'table' then free_all(v) end
    end
end
M.free_all = free_all

-- heatmaps of both heads as one (2B, K, h, w) tensor ([sf; mf], LP's order)
local function both_heads(sf, mf)
    if mf == nil then return sf end
    return lpose.cat({ sf, mf }, 1)
end

-- Decode heatmaps to keypoints in frame pixels: model-input pixels scaled by
-- frame size / input size (x by width, y by height).
local function to_frame_pixels(keypoints, scale_x, scale_y)
    local scale = lpose.tensor({ scale_x, scale_y }, { device = keypoints:device() })
    local r = keypoints * scale
    scale:free()
    return r
end

--- step.labeled_forward(run, batch) -> ctx.labeled (docs/guides/write-a-loss.md)
-- heatmaps_pred/targ: M K h w with M = 2B rows [sf; mf] for the TCN (B otherwise);
-- keypoints_targ: M K 2 in frame pixels; keypoints_pred and confidences
-- (M K 2, M K; frame pixels, differentiable) are decoded on first use only,
-- since the built-in supervised losses never need them.
function M.labeled_forward(run, batch)
    local sf, mf = run.model:forward(batch.images)
    local heatmaps_pred = both_heads(sf, mf)
    local heatmaps_targ = mf and lpose.cat({ batch.heatmaps, batch.heatmaps }, 1) or batch.heatmaps
    local targ = to_frame_pixels(batch.keypoints, run.frame_scale.x, run.frame_scale.y) -- B K 2
    local labeled = { heatmaps_pred = heatmaps_pred, heatmaps_targ = heatmaps_targ,
        keypoints_targ = mf and lpose.cat({ targ, targ }, 1) or targ,
        heatmaps_sf = sf, heatmaps_mf = mf, keypoints_targ_b = targ }
    return setmetatable(labeled, { __index = function(t, key)
        if key ~= 'keypoints_pred' and key ~= 'confidences' then return nil end
        local kp, conf = models.decode(t.heatmaps_pred, config.get_or_default(run.cfg, 'data.downsample_factor'))
        rawset(t, 'keypoints_pred', to_frame_pixels(kp, run.frame_scale.x, run.frame_scale.y))
        rawset(t, 'confidences', conf)
        kp:free()
        return rawget(t, key)
    end })
end

--- step.unlabeled_forward(run, frames, info) -> ctx.unlabeled table
-- frames: T 3 H W, a contiguous window; info.width/height: the video frame size.
-- keypoints_pred: 2(T-4) K 2 in frame pixels ([sf; mf]) for the TCN, T K 2 otherwise.
function M.unlabeled_forward(run, frames, info)
    local sf, mf = run.model:forward(frames)
    local ds = config.get_or_default(run.cfg, 'data.downsample_factor')
    local kp_sf, conf_sf = models.decode(sf, ds)
    local kp, conf = kp_sf, conf_sf
    if mf then
        local kp_mf, conf_mf = models.decode(mf, ds)
        kp, conf = lpose.cat({ kp_sf, kp_mf }, 1), lpose.cat({ conf_sf, conf_mf }, 1)
        free_all({ kp_sf, conf_sf, kp_mf, conf_mf })
    end
    local dims = run.cfg.data.image_resize_dims
    local kp_frame = to_frame_pixels(kp, info.width / dims.width, info.height / dims.height)
    return { keypoints_pred = kp_frame, confidences = conf, heatmaps_pred = both_heads(sf, mf),
             keypoints_pred_model = kp, heatmaps_sf = sf, heatmaps_mf = mf, video = info.path, start = info.start }
end

-- Keypoint RMSE in original pixels (LP's *_supervised_rmse: ||Δ||/√2 averaged
-- over labeled keypoints), from the labeled heatmaps without gradients.
local function supervised_rmse(run, labeled)
    return lpose.no_grad(function()
        local ds = config.get_or_default(run.cfg, 'data.downsample_factor')
        local kp, conf = models.decode(labeled.heatmaps_sf:detach(), ds)
        if labeled.heatmaps_mf then
            local kp_mf, conf_mf = models.decode(labeled.heatmaps_mf:detach(), ds)
            local k2, c2 = models.choose(kp, conf, kp_mf, conf_mf)
            free_all({ kp, conf, kp_mf, conf_mf })
            kp, conf = k2, c2
        end
        local kp_frame = to_frame_pixels(kp, run.frame_scale.x, run.frame_scale.y)
        local err = (kp_frame - labeled.keypoints_targ_b):square():mean(3):sqrt() -- (B, K)
        local valid = err:isnan():logical_not()
        local n = valid:sum():item()
        local value = n > 0 and err:nansum():item() / n or 0 / 0
        free_all({ kp, conf, kp_frame, err, valid })
        return value
    end)
end

--- step.train_step(run, batch [, unlabeled_frames, info]) -> logs (numbers by LP's names)
function M.train_step(run, batch, frames, info)
    local ctx = { cfg = run.cfg, stage = 'train', epoch = run.epoch, step = run.step,
                  anneal = run.anneal }
    ctx.labeled = M.labeled_forward(run, batch)
    if frames then ctx.unlabeled = M.unlabeled_forward(run, frames, info) end
    local total, logs = losses.combine(ctx, run.loss_supervised, run.losses_unsupervised)
    run.optimizer:zero_grad()
    total:backward()
    require('lpose.train.parallel').average_gradients(run.model) -- no-op in a single process
    run.optimizer:step()
    logs.train_supervised_rmse = supervised_rmse(run, ctx.labeled)
    total:free()
    free_all(ctx.labeled)
    if ctx.unlabeled then free_all(ctx.unlabeled) end
    return logs
end

--- step.train_mode(run): the model in training mode: batch statistics in
-- batch norm, or the running ones with training.freeze_batchnorm
function M.train_mode(run)
    if run.cfg.training.freeze_batchnorm then run.model:eval() else run.model:train() end
end

--- step.validate(run) -> logs: val_supervised_loss (mean over batches), val_supervised_rmse, ...
-- The model is put in eval mode (running batch-norm statistics) and back.
function M.validate(run)
    if not run.val_loader then return {} end
    run.model:eval()
    local sums, counts = {}, {}
    lpose.no_grad(function()
        for batch in run.val_loader:batches() do
            local ctx = { cfg = run.cfg, stage = 'val', epoch = run.epoch, step = run.step }
            ctx.labeled = M.labeled_forward(run, batch)
            local total, logs = losses.combine(ctx, run.loss_supervised, nil)
            logs.val_supervised_rmse = supervised_rmse(run, ctx.labeled)
            for k, v in pairs(logs) do
                if v == v then
                    sums[k] = (sums[k] or 0) + v
                    counts[k] = (counts[k] or 0) + 1
                end
            end
            total:free()
            free_all(ctx.labeled)
            free_all(batch)
        end
    end)
    M.train_mode(run)
    local logs = {}
    for k, v in pairs(sums) do logs[k] = v / counts[k] end
    return logs
end

return M
