-- lpose.train.checkpoint: everything needed to continue training, in one
-- lpose tensor file written atomically (temp file + rename, so a crash or
-- Ctrl-C never leaves a half checkpoint under the final name):
--   model.<name>   every model tensor (parameters and batch-norm buffers)
--   optim.<name>   the optimizer's state (Adam moments, step counts)
--   meta (JSON)    {format, epoch, step, epoch_step, best_val, best_epoch, model_config}
-- The weights-only best model is written with model:save, so lpose.models.load
-- and `lpose predict` read it directly.
local cjson = require('cjson')
local serialize = require('lpose.serialize')

local M = {}

M.FORMAT = 'lpose-checkpoint-1'

--- checkpoint.save(path, model, optimizer, state) -> true | nil, err
-- state: {epoch = completed epochs, step = global step, epoch_step = steps done
-- in epoch `epoch` (0 at an epoch boundary), best_val =, best_epoch =}
function M.save(path, model, optimizer, state)
    local tensors, names = {}, {}
    local weights, weight_names = model:state_dict()
    for _, n in ipairs(weight_names) do
        tensors['model.' .. n] = weights[n]
        names[#names + 1] = 'model.' .. n
    end
    local optim_list = optimizer:state_dict()
    local optim_state, optim_names = optim_list:totable()
    optim_list:free()
    for _, n in ipairs(optim_names) do
        tensors['optim.' .. n] = optim_state[n]
        names[#names + 1] = 'optim.' .. n
    end
    local meta = cjson.encode({
        format = M.FORMAT, epoch = state.epoch, step = state.step, epoch_step = state.epoch_step or 0,
        best_val = state.best_val ~= state.best_val and cjson.null or state.best_val,
        best_epoch = state.best_epoch, model_config = model:config(),
    })
    local list = serialize.list(tensors, names, meta)
    local ok = require('lpose.C').lib.lp_tensor_list_save(list.h, path)
    list:free()
    for _, t in pairs(tensors) do t:free() end
    if ok ~= 0 then return nil, require('lpose.C').last_error() end
    return true
end

--- checkpoint.load(path, model, optimizer) -> state | nil, err
-- Copies the weights into `model` and the state into `optimizer` (both built
-- from the same config first); returns the saved training state.
function M.load(path, model, optimizer)
    local tensors, meta_json = serialize.load(path)
    if not tensors then return nil, meta_json end
    local ok, meta = pcall(cjson.decode, meta_json)
    if not ok or type(meta) ~= 'table' or meta.format ~= M.FORMAT then
        return nil, ("%s is not an lpose training checkpoint (checkpoints/last.lpt of a model directory)"):format(path)
    end
    -- the same architecture, or the tensors cannot fit: say what differs
    local saved, want = meta.model_config or {}, model:config()
    local diffs = {}
    for _, k in ipairs({ 'model_type', 'backbone', 'num_keypoints', 'downsample_factor', 'image_height',
        'image_width' }) do
        if saved[k] ~= nil and saved[k] ~= want[k] then
            diffs[#diffs + 1] = ('%s %s in the checkpoint, %s in this config'):format(k, tostring(saved[k]),
                tostring(want[k]))
        end
    end
    if #diffs > 0 then
        for _, t in pairs(tensors) do t:free() end
        return nil, ('%s was saved from another model: %s'):format(path, table.concat(diffs, '; '))
    end
    local weights = {}
    local optim_names, optim_tensors = {}, {}
    for name, t in pairs(tensors) do
        if name:sub(1, 6) == 'model.' then
            weights[name:sub(7)] = t
        elseif name:sub(1, 6) == 'optim.' then
            optim_tensors[name:sub(7)] = t
            optim_names[#optim_names + 1] = name:sub(7)
        end
    end
    local report = model:load_weights(weights, 'lpose', { strict = false }) -- checked just below
    if #report.missing > 0 or #report.unexpected > 0 then
        return nil, ('%s does not match this model: missing %s; unexpected %s'):format(path,
            table.concat(report.missing, ', '), table.concat(report.unexpected, ', '))
    end
    -- the optimizer expects its own fixed order: "group.param.buffer"
    table.sort(optim_names, function(a, b)
        local ga, pa, ba = a:match('^(%d+)%.(%d+)%.(.*)$')
        local gb, pb, bb = b:match('^(%d+)%.(%d+)%.(.*)$')
        if ga and gb then
            if tonumber(ga) ~= tonumber(gb) then return tonumber(ga) < tonumber(gb) end
            if tonumber(pa) ~= tonumber(pb) then return tonumber(pa) < tonumber(pb) end
            return ba < bb
        end
        return a < b
    end)
    local list = serialize.list(optim_tensors, optim_names)
    optimizer:load_state_dict(list)
    list:free()
    for _, t in pairs(tensors) do t:free() end
    if meta.best_val == cjson.null then meta.best_val = 0 / 0 end
    return meta
end

return M
