-- lpose.losses.builtin: LP's loss names (docs/spec/lp-model.md §4) as loss
-- definitions for the registry in lpose.losses: defaults (only what
-- configs/config_default.yaml has no key for: lpose.losses.new reads the
-- loss's section there first), an optional setup(loss, cfg, fit_data) run once at
-- construction, and compute(ctx) -> 0-d tensor (or nil to skip this step).
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local pca = require('lpose.losses.pca')
local config = require('lpose.config')

local C, check = lp.lib, lp.check
local ffi = require('ffi')
local out1 = ffi.new('lp_tensor*[1]')

local M = {}

local function heatmap(cfn, name)
    return {
        kind = 'supervised',
        defaults = { log_weight = 0.0 },
        -- labeled heatmaps: batch num_keypoints heatmap_height heatmap_width
        compute = function(ctx)
            local l = ctx.labeled
            if not l or not l.heatmaps_pred or not l.heatmaps_targ then
                error(name .. ': ctx.labeled.heatmaps_pred and heatmaps_targ are required', 0)
            end
            check(cfn(tensor.handle(l.heatmaps_pred, name), tensor.handle(l.heatmaps_targ, name), out1))
            return tensor.wrap(out1[0])
        end,
    }
end

M.heatmap_mse = heatmap(C.lp_loss_heatmap_mse, 'heatmap_mse')
M.heatmap_kl = heatmap(C.lp_loss_heatmap_kl, 'heatmap_kl')
M.heatmap_js = heatmap(C.lp_loss_heatmap_js, 'heatmap_js')

M.temporal = {
    kind = 'unsupervised',
    defaults = {}, -- all in losses.temporal of config_default.yaml
    setup = function(loss)
        local eps = loss.params.epsilon
        if type(eps) == 'table' then
            loss.epsilon = tensor.new(eps, { dtype = 'f64' })
        elseif type(eps) == 'number' then
            loss.epsilon = tensor.new(eps, { dtype = 'f64' })
        else
            error('temporal: losses.temporal.epsilon must be a number or a per-keypoint list', 0)
        end
    end,
    -- unlabeled keypoints: frames num_keypoints 2 (frame pixels); confidences: frames num_keypoints.
    -- LP applies it to the [sf; mf] concatenation, seam pair included (docs/spec/lp-model.md §4.4);
    -- split_heads = true (an lpose extension) averages the loss of each half instead.
    compute = function(ctx, loss)
        local u = ctx.unlabeled
        if not u or not u.keypoints_pred then return nil end
        local function one(kp, conf)
            check(C.lp_loss_temporal(tensor.handle(kp, 'temporal'), conf and tensor.handle(conf, 'temporal') or nil,
                tensor.handle(loss.epsilon, 'temporal'), loss.params.prob_threshold, out1))
            return tensor.wrap(out1[0])
        end
        if not loss.params.split_heads then return one(u.keypoints_pred, u.confidences) end
        local m = u.keypoints_pred:size(1)
        if m % 2 ~= 0 then error('temporal: split_heads needs an even number of rows ([sf; mf])', 0) end
        local h = m / 2
        local c1 = u.confidences and u.confidences:narrow(1, 1, h)
        local c2 = u.confidences and u.confidences:narrow(1, h + 1, h)
        return (one(u.keypoints_pred:narrow(1, 1, h), c1) + one(u.keypoints_pred:narrow(1, h + 1, h), c2)) * 0.5
    end,
}

-- Both PCA losses: fit on fit_data (labeled train keypoints), pick epsilon,
-- then penalise formatted unlabeled predictions.
local function pca_loss(multiview)
    local name = multiview and 'pca_multiview' or 'pca_singleview'
    local function format(loss, kp)
        if multiview then return pca.format_multiview(kp, loss.mirrored_column_matches) end
        return pca.format_singleview(kp, loss.columns, loss.params.centering_method)
    end
    return {
        kind = 'unsupervised',
        -- LP's optional extras, which its config_default.yaml does not list
        defaults = { empirical_epsilon_percentile = 99.0, empirical_epsilon_multiplier = 1.0 },
        setup = function(loss, cfg, fit_data)
            if fit_data == nil then error(name .. ': needs fit_data (labeled train keypoints)', 0) end
            local data = cfg and cfg.data or {}
            if multiview then
                loss.mirrored_column_matches = data.mirrored_column_matches
                if not loss.mirrored_column_matches then
                    error('pca_multiview: data.mirrored_column_matches is not set', 0)
                end
            else
                loss.columns = data.columns_for_singleview_pca
            end
            local keep = loss.params.components_to_keep
            if multiview and keep ~= 3 then
                io.stderr:write(('lpose: pca_multiview keeps 3 components, not %s (as LP)\n'):format(tostring(keep)))
                keep = 3
            end
            local rows = format(loss, fit_data:double())
            loss.pca = pca.fit(rows, keep)
            local eps = loss.params.epsilon
            if type(eps) == 'number' then
                loss.epsilon = eps
            else
                loss.epsilon = loss.pca:empirical_epsilon(rows, loss.params.empirical_epsilon_percentile,
                    loss.params.empirical_epsilon_multiplier)
            end
        end,
        compute = function(ctx, loss)
            local u = ctx.unlabeled
            if not u or not u.keypoints_pred then return nil end
            return loss.pca:loss(format(loss, u.keypoints_pred), loss.epsilon)
        end,
    }
end

M.pca_singleview = pca_loss(false)
M.pca_multiview = pca_loss(true)

-- unimodal_mse / unimodal_kl: LP's definition from before their removal
-- upstream (docs/spec/lp-model.md §4.7; the issue asks for them): ideal Gaussian
-- heatmaps (sigma 1.25) rendered at the predicted keypoints, detached, in
-- model-input pixels; (row, keypoint) pairs whose confidence is below
-- prob_threshold are dropped; then MSE without LP's area factor, or
-- KL(ideal || predicted), against the predicted heatmaps.
local function unimodal(kind)
    local name = 'unimodal_' .. kind
    return {
        kind = 'unsupervised',
        defaults = { log_weight = 5.0, prob_threshold = 0.0 },
        compute = function(ctx, loss)
            local u = ctx.unlabeled
            if not u or not u.keypoints_pred_model or not u.heatmaps_pred then return nil end
            local data = ctx.cfg and ctx.cfg.data or {}
            local dims = data.image_resize_dims or {}
            local pred = u.heatmaps_pred
            local kp = u.keypoints_pred_model:detach():to('f32', 'cpu'):contiguous()
            local ideal = require('lpose.dataset').heatmaps(kp, { height = dims.height, width = dims.width,
                downsample_factor = config.get_or_default(ctx.cfg, 'data.downsample_factor') })
            local target = ideal:to(pred:dtype(), pred:device())
            if u.confidences then -- zero targets are the pairs the loss ignores
                local keep = u.confidences:detach():ge(loss.params.prob_threshold):to(pred:dtype())
                target = target * keep:unsqueeze(3):unsqueeze(4)
            end
            if kind == 'kl' then
                check(C.lp_loss_heatmap_kl(tensor.handle(pred, name), tensor.handle(target, name), out1))
                return tensor.wrap(out1[0])
            end
            local valid = target:sum({ 3, 4 }):gt(0):to(pred:dtype())      -- rows num_keypoints
            local per_pair = (target - pred):square():mean({ 3, 4 })       -- rows num_keypoints
            return (per_pair * valid):sum() / math.max(valid:sum():item(), 1)
        end,
    }
end

M.unimodal_mse = unimodal('mse')
M.unimodal_kl = unimodal('kl')

return M
