-- lpose.train.schedule: learning rates per epoch, as Lightning Pose sets
-- them (docs/spec/lp-model.md §7.2-7.3), as pure functions so they can be tested and
-- resumed: MultiStepLR on every group, and the backbone "frozen" at lr 0
-- until training.unfreezing_epoch, then warmed up by x1.5 per epoch from
-- 0.1 x the head's lr until it reaches the head's lr.
--
-- "Frozen" is LP's meaning: lr 0 only. Gradients, Adam moments and batch-norm
-- statistics of the backbone keep updating (a port that set requires_grad
-- false or eval-mode BN would train differently).
local M = {}

local function cfg_value(cfg, path, default)
    local node = cfg
    for key in path:gmatch('[^.]+') do
        if type(node) ~= 'table' then return default end
        node = node[key]
    end
    if node == nil then return default end
    return node
end

--- schedule.from_config(cfg) -> {lr, milestones, gamma, unfreeze_epoch}
function M.from_config(cfg)
    return {
        lr = cfg_value(cfg, 'training.optimizer_params.learning_rate', 1e-3),
        milestones = cfg_value(cfg, 'training.lr_scheduler_params.multisteplr.milestones', { 150, 200, 250 }),
        gamma = cfg_value(cfg, 'training.lr_scheduler_params.multisteplr.gamma', 0.5),
        unfreeze_epoch = cfg_value(cfg, 'training.unfreezing_epoch', 20),
    }
end

--- schedule.head_lr(s, epoch) -> lr of the head group in 0-based `epoch`
function M.head_lr(s, epoch)
    local lr = s.lr
    for _, m in ipairs(s.milestones) do
        if epoch >= m then lr = lr * s.gamma end
    end
    return lr
end

--- schedule.backbone_lr(s, epoch) -> lr of the backbone group in `epoch`
function M.backbone_lr(s, epoch)
    local u = s.unfreeze_epoch
    if epoch < u then return 0 end
    local start = 0.1 * M.head_lr(s, u)
    -- warming: x1.5 per epoch, capped by the head's lr; once it reaches the
    -- head's lr it stays there (MultiStepLR then decays both together)
    for e = u, epoch do
        local warm = start * 1.5 ^ (e - u)
        if warm >= M.head_lr(s, e) then return M.head_lr(s, epoch) end
    end
    return start * 1.5 ^ (epoch - u)
end

return M
