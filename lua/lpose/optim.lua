-- lpose.optim: Adam and SGD with torch.optim's update rules, run by the
-- engine. Parameter groups each have a learning rate that may change every
-- step (schedulers and the backbone unfreeze schedule set it).
--
--   local opt = lpose.optim.Adam(model:parameters(), {lr = 1e-3})
--   loss:backward(); opt:step(); opt:zero_grad()
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local serialize = require('lpose.serialize')
local box = require('lpose.box')

local C, check, argerror = lp.lib, lp.check, lp.argerror

local M = {}

local Optimizer = {}
local Box, handle = box.define({
    handle = 'lp_optim', free = C.lp_optim_free, what = 'optimizer',
    name = 'lpose.optim optimizer', module = 'lpose.optim', methods = Optimizer,
    tostring = function(self)
        return string.format('optimizer(groups=%d, lr=%g)', self:n_groups(),
            self:n_groups() > 0 and self:get_lr(1) or 0)
    end,
    freed = 'optimizer(freed)',
})
local group_out = ffi.new('int32_t[1]')
local double_out = ffi.new('double[1]')

--- opt:add_param_group(params [, lr]) -> 1-based group index
function Optimizer:add_param_group(params, lr)
    local f = 'optim:add_param_group'
    if type(params) ~= 'table' then argerror(f, 'expected a list of tensors') end
    local arr = ffi.new('const lp_tensor*[?]', math.max(#params, 1))
    for i = 1, #params do arr[i - 1] = tensor.handle(params[i], f) end
    check(C.lp_optim_add_group(handle(self, f), arr, #params, lr or -1, group_out))
    return group_out[0] + 1
end

function Optimizer:n_groups() return C.lp_optim_n_groups(handle(self, 'optim:n_groups')) end

--- opt:set_lr(lr [, group]): every group when group is nil
function Optimizer:set_lr(lr, group)
    local h = handle(self, 'optim:set_lr')
    if group then
        check(C.lp_optim_set_lr(h, group - 1, lr))
    else
        for g = 0, C.lp_optim_n_groups(h) - 1 do check(C.lp_optim_set_lr(h, g, lr)) end
    end
end

function Optimizer:get_lr(group)
    check(C.lp_optim_get_lr(handle(self, 'optim:get_lr'), (group or 1) - 1, double_out))
    return double_out[0]
end

function Optimizer:step() check(C.lp_optim_step(handle(self, 'optim:step'))) end

function Optimizer:zero_grad() check(C.lp_optim_zero_grad(handle(self, 'optim:zero_grad'))) end

--- opt:state_dict() -> lpose.serialize list of named state tensors
function Optimizer:state_dict()
    local out = ffi.new('lp_tensor_list*[1]')
    check(C.lp_optim_state(handle(self, 'optim:state_dict'), out))
    return serialize.wrap_list(out[0])
end

function Optimizer:load_state_dict(list)
    check(C.lp_optim_load_state(handle(self, 'optim:load_state_dict'), serialize.list_handle(list)))
end

-- opt:free() comes from box.define: releases the optimizer's state now (idempotent)

local function new(kind, params, o)
    o = o or {}
    local p = C.lp_optim_default_params(kind)
    for _, key in ipairs({ 'lr', 'eps', 'weight_decay', 'momentum', 'dampening' }) do
        if o[key] ~= nil then p[key] = o[key] end
    end
    if o.betas then p.beta1, p.beta2 = o.betas[1], o.betas[2] end
    if o.nesterov ~= nil then p.nesterov = o.nesterov and 1 or 0 end
    if o.amsgrad ~= nil then p.amsgrad = o.amsgrad and 1 or 0 end
    local out = ffi.new('lp_optim*[1]')
    check(C.lp_optim_init(p, out))
    local opt = Box(out[0])
    if params and #params > 0 then opt:add_param_group(params) end
    return opt
end

--- optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0, amsgrad=false}])
function M.Adam(params, o) return new(C.LP_OPTIM_ADAM, params, o) end

--- optim.SGD(params, {lr=..., momentum=0, dampening=0, weight_decay=0, nesterov=false})
function M.SGD(params, o) return new(C.LP_OPTIM_SGD, params, o) end

return M
