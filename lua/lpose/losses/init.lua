-- lpose.losses: LP's loss registry and factory keyed by LP's loss names
-- (heatmap_mse, heatmap_kl, heatmap_js, temporal, pca_singleview,
-- pca_multiview), user-registered losses, and the combiner that forms the
-- semi-supervised objective (docs/spec/lp-model.md §4.1, §4.9, §7.4). Lua holds the
-- hyperparameters; the math is in the C core (engine/src/loss/).
--
--   local losses = require('lpose.losses')
--   local sup = losses.supervised(cfg)                 -- heatmap_<type>, weight 0.5
--   local unsup = losses.unsupervised(cfg, train_kp)   -- cfg.model.losses_to_use
--   local total, logs = losses.combine(ctx, sup, unsup)
--
-- Docs: docs/reference/lua/losses.md, docs/guides/write-a-loss.md.
local lp = require('lpose.C')
local class = require('lpose.class')
local builtin = require('lpose.losses.builtin')
local config = require('lpose.config')

local C, argerror = lp.lib, lp.argerror

local M = {}

M.pca = require('lpose.losses.pca')

local registry = {}
for name, def in pairs(builtin) do registry[name] = def end

-- LP's null (lpose.config.null) reads as "unset"
local ok_tree, tree = pcall(require, 'lpose.config.tree')
local NULL = ok_tree and tree.NULL or {}
local function value(v) if v == NULL then return nil end return v end

--- losses.weight_from_log(log_weight) -> 1 / (2 exp(log_weight))  (0 -> 0.5, 11 -> 8.35e-6)
function M.weight_from_log(log_weight) return C.lp_loss_weight_from_log(log_weight) end

--- losses.anneal_weight(epoch [, cfg]) -> LP's total_unsupervised_importance
-- for a 0-based epoch, from cfg.callbacks.anneal_weight (config_default.yaml's
-- values when absent). The value changes only at epoch starts, so it needs no step.
function M.anneal_weight(epoch, cfg)
    local a = (cfg and cfg.callbacks and cfg.callbacks.anneal_weight) or {}
    local function get(k)
        local v = value(a[k])
        if v == nil then return config.default('callbacks.anneal_weight.' .. k) end
        return v
    end
    return C.lp_loss_anneal_weight(epoch, get('init_val'), get('increase_factor'), get('final_val'),
        get('freeze_until_epoch'))
end

--- losses.register(name, fn [, defaults]) adds a loss usable in cfg.model.losses_to_use.
-- fn(ctx, loss) -> 0-d tensor, or nil to skip this step. defaults: its
-- hyperparameters (log_weight defaults to 0.0), overridden by cfg.losses[name].
-- Registering a taken name replaces it (a built-in included).
function M.register(name, fn, defaults)
    if type(name) ~= 'string' or name == '' then argerror('losses.register', 'name must be a non-empty string') end
    if type(fn) ~= 'function' then argerror('losses.register', 'fn must be a function(ctx, loss)') end
    if defaults ~= nil and type(defaults) ~= 'table' then argerror('losses.register', 'defaults must be a table') end
    local d = {}
    for k, v in pairs(defaults or {}) do d[k] = v end
    if d.log_weight == nil then d.log_weight = 0.0 end
    registry[name] = { kind = 'unsupervised', defaults = d, compute = fn }
end

--- losses.unregister(name): remove a registered loss (built-ins come back only by reloading)
function M.unregister(name) registry[name] = nil end

--- losses.load_file(path) -> true | nil, err
-- Run a Lua file that registers losses (lpose.losses.register), as
-- `lpose train --loss FILE` and the config key model.loss_files do. A file
-- that is missing, does not compile or raises is an error naming it.
function M.load_file(path)
    if type(path) ~= 'string' then argerror('losses.load_file', 'expected a path') end
    local f, oerr = io.open(path, 'r')
    if not f then return nil, ('cannot open loss file %s'):format(oerr) end
    f:close()
    local chunk, err = loadfile(path)
    if not chunk then return nil, ('loss file does not compile: %s'):format(err) end
    local ok, res = pcall(chunk)
    if not ok then return nil, ('loss file %s failed: %s'):format(path, tostring(res)) end
    return true
end

--- losses.names([kind]) -> sorted list of registered loss names
-- kind: 'supervised' (heatmap_mse, heatmap_kl, heatmap_js) or 'unsupervised'
-- (what model.losses_to_use may list: the built-ins and every registered
-- loss); nil for all. Config validation asks this list (one source of truth).
function M.names(kind)
    if kind ~= nil and kind ~= 'supervised' and kind ~= 'unsupervised' then
        argerror('losses.names', "kind must be 'supervised', 'unsupervised' or nil")
    end
    local t = {}
    for k, def in pairs(registry) do
        if kind == nil or def.kind == kind then t[#t + 1] = k end
    end
    table.sort(t)
    return t
end

local Loss = class('lpose.losses.Loss')
M.Loss = Loss

--- losses.new(name [, cfg [, fit_data [, overrides]]]) -> Loss
-- Hyperparameters: losses.<name> of config_default.yaml <- the registered
-- defaults <- cfg.losses[name] <- overrides.
-- loss.weight = 1 / (2 exp(loss.log_weight)).
function M.new(name, cfg, fit_data, overrides)
    local def = registry[name]
    if def == nil then
        argerror('losses.new', ("unknown loss '%s' (registered: %s)"):format(tostring(name),
            table.concat(M.names(), ', ')))
    end
    local params = {}
    local section = config.default('losses.' .. name)
    if type(section) == 'table' then
        for k, v in pairs(section) do params[k] = value(v) end
    end
    for k, v in pairs(def.defaults) do params[k] = v end
    local from_cfg = cfg and cfg.losses and cfg.losses[name] or {}
    for k, v in pairs(from_cfg) do params[k] = value(v) end
    for k, v in pairs(overrides or {}) do params[k] = v end
    if type(params.log_weight) ~= 'number' then
        argerror('losses.new', ('losses.%s.log_weight must be a number'):format(name))
    end
    local self = setmetatable({}, Loss)
    self.name, self.kind, self.params, self.def = name, def.kind, params, def
    self.log_weight = params.log_weight
    self.weight = M.weight_from_log(params.log_weight)
    if def.setup then def.setup(self, cfg, fit_data) end
    return self
end

--- loss:compute(ctx) -> 0-d tensor (unweighted) or nil; also loss(ctx)
-- ctx.loss and ctx.params are set to this loss and its hyperparameters
-- during the call.
function Loss:compute(ctx)
    local saved_loss, saved_params = ctx.loss, ctx.params
    ctx.loss, ctx.params = self, self.params
    local ok, res = pcall(self.def.compute, ctx, self)
    ctx.loss, ctx.params = saved_loss, saved_params
    if not ok then error(('In loss %s: %s'):format(self.name, tostring(res)), 0) end
    return res
end
Loss.__call = Loss.compute
function Loss:__tostring() return ('lpose.losses.Loss(%s, weight=%.4g)'):format(self.name, self.weight) end

--- losses.supervised(cfg) -> Loss: 'heatmap_' .. cfg.model.heatmap_loss_type
-- (mse, kl or js; default mse), log_weight fixed at 0 (weight 0.5) as in LP.
function M.supervised(cfg)
    local t = value(cfg and cfg.model and cfg.model.heatmap_loss_type) or config.default('model.heatmap_loss_type')
    if t ~= 'mse' and t ~= 'kl' and t ~= 'js' then
        argerror('losses.supervised', ("model.heatmap_loss_type '%s' must be mse, kl or js"):format(tostring(t)))
    end
    return M.new('heatmap_' .. t, cfg, nil, { log_weight = 0.0 })
end

--- losses.names_to_use(cfg) -> list of cfg.model.losses_to_use (LP: nil, [] and [''] mean none)
function M.names_to_use(cfg)
    local use = value(cfg and cfg.model and cfg.model.losses_to_use)
    local names = {}
    if type(use) == 'string' then use = { use } end
    for _, n in ipairs(use or {}) do
        if n ~= '' then names[#names + 1] = n end
    end
    return names
end

--- losses.is_semi_supervised(cfg) -> true when losses_to_use names a loss
function M.is_semi_supervised(cfg) return #M.names_to_use(cfg) > 0 end

--- losses.unsupervised(cfg [, fit_data]) -> list of Loss, one per losses_to_use name.
-- fit_data: labeled train keypoints (N, K, 2) or (N, 2K) for the PCA fits,
-- in the coordinates the predictions will have (see docs: LP's quirk).
function M.unsupervised(cfg, fit_data)
    local list = {}
    for _, name in ipairs(M.names_to_use(cfg)) do list[#list + 1] = M.new(name, cfg, fit_data) end
    return list
end

local function is_heatmap(name) return name:sub(1, 8) == 'heatmap_' end

--- losses.combine(ctx, supervised, unsupervised) -> total (0-d tensor), logs
-- total = supervised.weight * L_sup (never annealed) + sum over unsupervised
-- of anneal * weight * L, with anneal = ctx.anneal or
-- losses.anneal_weight(ctx.epoch, ctx.cfg). Unsupervised losses run only when
-- ctx.stage is 'train' (LP validates the supervised loss only). logs has
-- LP's TensorBoard names, as numbers: <stage>_<name>_loss, <name>_weight,
-- <stage>_<name>_loss_weighted (the term added to total), <stage>_supervised_loss,
-- total_unsupervised_importance and total_loss (semi-supervised only).
function M.combine(ctx, supervised, unsupervised)
    if type(ctx) ~= 'table' then argerror('losses.combine', 'ctx must be a table') end
    local stage = ctx.stage or 'train'
    local logs, total = {}, nil
    local function add(loss, l, factor)
        logs[('%s_%s_loss'):format(stage, loss.name)] = l:item()
        logs[loss.name .. '_weight'] = loss.weight
        local term = l * (loss.weight * factor)
        logs[('%s_%s_loss_weighted'):format(stage, loss.name)] = term:item()
        total = total and total + term or term
        return term
    end
    if supervised then
        local l = supervised:compute(ctx)
        if l == nil then error('losses.combine: the supervised loss returned nil', 2) end
        logs[stage .. '_supervised_loss'] = add(supervised, l, 1.0):item()
    end
    if stage == 'train' and unsupervised and #unsupervised > 0 then
        local anneal = ctx.anneal or M.anneal_weight(ctx.epoch or 0, ctx.cfg)
        logs.total_unsupervised_importance = anneal
        for _, loss in ipairs(unsupervised) do
            local l = loss:compute(ctx)
            if l ~= nil then add(loss, l, is_heatmap(loss.name) and 1.0 or anneal) end
        end
        if total then logs.total_loss = total:item() end
    end
    return total, logs
end

return M
