-- lpose.config.validate: the key/type walk over the schema, LP's own
-- cross-key checks (docs/spec/lp-data-train.md §4.10), and the list of what lpose does
-- not implement yet. Errors are collected so a user fixes them in one pass.
local tree = require('lpose.config.tree')
local schema = require('lpose.config.schema')
local types = require('lpose.config.types')

local M = {}
local NULL = tree.NULL
local show = types.show

-- Edit distance, for "did you mean".
local function distance(a, b)
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
        local cur = { [0] = i }
        for j = 1, #b do
            local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
            cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        end
        prev = cur
    end
    return prev[#b]
end
M.distance = distance

local function closest(word, candidates)
    local best, bd = nil, math.max(1, math.floor(#word / 3))
    for _, c in ipairs(candidates) do
        local d = distance(word, c)
        if d < bd or (d == bd and best == nil) then best, bd = c, d end
    end
    return best
end

-- " did you mean 'x'?" for an unknown key at `path` (dotted), or ''.
-- A sibling key is named by its own name; a key elsewhere by its full path.
function M.suggest(path)
    local parts = tree.split(path)
    local name = parts[#parts]
    local parent = #parts == 1 and schema.root or schema.node(table.concat(parts, '.', 1, #parts - 1))
    if parent then
        local s = closest(name, parent.order)
        if s then return (" did you mean '%s'?"):format(s) end
    end
    local all, by_name = {}, {}
    local function walk(n)
        if n.path ~= '' then
            all[#all + 1] = n.path
            by_name[n.path] = n.name
        end
        for _, k in ipairs(n.order) do walk(n.children[k]) end
    end
    walk(schema.root)
    for _, p in ipairs(all) do
        if by_name[p] == name then return (" did you mean '%s'?"):format(p) end
    end
    local s = closest(path, all)
    return s and (" did you mean '%s'?"):format(s) or ''
end

-- ---------------------------------------------------------------- schema walk

local function check_leaf(node, v, errs, where)
    local e = node.entry
    local t = e[2]
    if not types.check(t, v) then
        errs[#errs + 1] = ("%s: expected %s, got %s (%s)%s"):format(
            node.path, types.describe(t), show(v), types.name(v), where(node.path))
        return
    end
    if e.values and type(v) == 'string' then
        for _, ok in ipairs(e.values) do
            if v == ok then return end
        end
        local s = (e.aliases and e.aliases[v:lower()]) or closest(v, e.values)
        errs[#errs + 1] = ("%s: %s is not one of %s%s%s"):format(node.path, show(v),
            table.concat(e.values, ' | '), s and (" (did you mean '%s'?)"):format(s) or '', where(node.path))
    end
end

local function required(node)
    if node.entry and node.entry.opt then return false end
    if schema.is_leaf(node) then return true end
    for _, k in ipairs(node.order) do
        if required(node.children[k]) then return true end
    end
    return false
end

local function walk(t, node, errs, where, keys_only)
    for _, k in ipairs(tree.keys(t)) do
        local v = t[k]
        local path = node.path == '' and tostring(k) or node.path .. '.' .. tostring(k)
        local child = node.children[k]
        if child == nil then
            if node.entry and node.entry.open then
                if not tree.is_map(v) then -- a custom loss section, a hydra subtree
                    errs[#errs + 1] = ("%s: expected mapping, got %s%s"):format(path, show(v), where(path))
                end
            else
                errs[#errs + 1] = ("unknown key '%s':%s%s"):format(path, M.suggest(path), where(path))
            end
        elseif schema.is_leaf(child) then
            if not keys_only then check_leaf(child, v, errs, where) end
        elseif not tree.is_map(v) and not (keys_only and type(v) == 'string') then
            errs[#errs + 1] = ("%s: expected a section (mapping), got %s (%s)%s"):format(
                path, show(v), types.name(v), where(path))
        else
            walk(v, child, errs, where, keys_only)
        end
    end
    for _, k in ipairs(node.order) do
        if t[k] == nil and required(node.children[k]) then
            errs[#errs + 1] = ("missing key '%s'"):format(node.children[k].path)
        end
    end
end

-- ---------------------------------------------------------------- LP's checks

local function contains(list, x)
    for _, v in ipairs(list) do
        if v == x then return true end
    end
    return false
end

-- The loss registry (lpose.losses), the one list of loss names: {all = set,
-- unsupervised = sorted list}. nil where the engine cannot be loaded (plain
-- luajit without liblpose): names are then checked when training builds the
-- losses. Required here, not at the top, so that loading lpose.config needs
-- no FFI and lpose.losses may require config modules.
local function loss_registry()
    local ok, losses = pcall(require, 'lpose.losses')
    if not ok or type(losses) ~= 'table' or type(losses.names) ~= 'function' then return nil end
    local all = {}
    for _, n in ipairs(losses.names()) do all[n] = true end
    return { all = all, unsupervised = losses.names('unsupervised') }
end

local function val(cfg, path)
    local v = tree.get(cfg, path)
    if v == NULL then return nil end
    return v
end

local function lp_checks(cfg, errs)
    local function err(fmt, ...) errs[#errs + 1] = fmt:format(...) end
    -- data (model_config.py:127-180)
    local nk = val(cfg, 'data.num_keypoints')
    if type(nk) == 'number' and nk <= 0 then err('data.num_keypoints: must be > 0, got %s', show(nk)) end
    local names = val(cfg, 'data.keypoint_names')
    if type(nk) == 'number' and tree.is_list(names) and #names ~= nk then
        err('data.keypoint_names: %d names but data.num_keypoints is %d', #names, nk)
    end
    -- data.skeleton: [name, name] pairs of data.keypoint_names (drawn on labeled frames)
    local skeleton = val(cfg, 'data.skeleton')
    if tree.is_list(skeleton) then
        local known = {}
        if tree.is_list(names) then for _, n in ipairs(names) do known[n] = true end end
        for i, pair in ipairs(skeleton) do
            if not tree.is_list(pair) or #pair ~= 2 then
                err('data.skeleton[%d]: must be a pair [name, name], got %s', i, show(pair))
            elseif tree.is_list(names) then
                for _, n in ipairs(pair) do
                    if type(n) == 'string' and not known[n] then
                        err("data.skeleton[%d]: unknown keypoint '%s' (data.keypoint_names: %s)", i, n,
                            table.concat(names, ', '))
                    end
                end
            end
        end
    end
    -- LP asks for multiples of 128; lpose's models need only the backbone's
    -- stride of 32 (small inputs such as 64x64 make CPU experiments cheap).
    for _, d in ipairs({ 'height', 'width' }) do
        local v = val(cfg, 'data.image_resize_dims.' .. d)
        if type(v) == 'number' and (v <= 0 or v % 32 ~= 0) then
            err('data.image_resize_dims.%s: must be a positive multiple of 32 (64, 128, 256, ...), got %s',
                d, show(v))
        end
    end
    local cols = val(cfg, 'data.columns_for_singleview_pca')
    if type(nk) == 'number' and tree.is_list(cols) then
        for _, c in ipairs(cols) do
            if type(c) == 'number' and (c < 0 or c >= nk) then
                err('data.columns_for_singleview_pca: index %s is outside 0..%d (num_keypoints - 1)', show(c), nk - 1)
                break
            end
        end
    end
    local views = val(cfg, 'data.view_names')
    if tree.is_list(views) then
        local csv = val(cfg, 'data.csv_file')
        if #views == 1 then err('data.view_names: a single view must not set view_names (use null)') end
        if not tree.is_list(csv) or #csv ~= #views then
            err('data.csv_file: multiview needs one CSV per view (%d view_names, got %s)', #views, show(csv))
        end
        if val(cfg, 'training.imgaug_hflip') == true then
            err('training.imgaug_hflip: not supported for multiview models (data.view_names is set)')
        end
    end
    local ds = val(cfg, 'data.downsample_factor')
    if type(ds) == 'number' and ds < 1 then err('data.downsample_factor: must be >= 1, got %s', show(ds)) end
    if val(cfg, 'model.model_type') == 'heatmap_mhcrnn' and ds and ds ~= 2 then
        err('data.downsample_factor: heatmap_mhcrnn requires 2, got %s', show(ds))
    end
    -- training
    local tp, vp = val(cfg, 'training.train_prob'), val(cfg, 'training.val_prob')
    if type(tp) == 'number' and type(vp) == 'number' and tp + vp > 1 + 1e-9 then
        err('training.train_prob + training.val_prob must be <= 1, got %s + %s', show(tp), show(vp))
    end
    for _, k in ipairs({ 'train_batch_size', 'val_batch_size', 'test_batch_size' }) do
        local v = val(cfg, 'training.' .. k)
        if type(v) == 'number' and v < 1 then err('training.%s: must be >= 1, got %s', k, show(v)) end
    end
    local ck, cv = val(cfg, 'training.ckpt_every_n_epochs'), val(cfg, 'training.check_val_every_n_epoch') or 1
    if type(ck) == 'number' and type(cv) == 'number' and cv > 0 and ck % cv ~= 0 then
        err('training.ckpt_every_n_epochs (%s) must be divisible by training.check_val_every_n_epoch (%s)',
            show(ck), show(cv))
    end
    if val(cfg, 'training.early_stopping') == true and val(cfg, 'training.early_stop_patience') == nil then
        err('training.early_stop_patience: required when training.early_stopping is true')
    end
    -- epoch mode vs step mode (model_config.py:290-320, §4.3)
    local ep = { 'unfreezing_epoch', 'min_epochs', 'max_epochs' }
    local st = { 'unfreezing_step', 'min_steps', 'max_steps' }
    local function present(list)
        local out = {}
        for _, k in ipairs(list) do
            if val(cfg, 'training.' .. k) ~= nil then out[#out + 1] = 'training.' .. k end
        end
        return out
    end
    local pe, ps = present(ep), present(st)
    local ms = 'training.lr_scheduler_params.multisteplr.'
    if #pe > 0 and #ps > 0 then
        err('training: epoch-based keys (%s) and step-based keys (%s) cannot be mixed; delete one set, '
            .. 'e.g. ~training.min_epochs', table.concat(pe, ', '), table.concat(ps, ', '))
    elseif #ps > 0 then
        if #ps < 3 then
            err('training: step mode needs unfreezing_step, min_steps and max_steps (got %s)', table.concat(ps, ', '))
        end
        if val(cfg, ms .. 'milestones') ~= nil then err('%smilestones: use milestone_steps in step mode', ms) end
    elseif #pe > 0 then
        if #pe < 3 then
            err('training: epoch mode needs unfreezing_epoch, min_epochs and max_epochs (got %s)',
                table.concat(pe, ', '))
        end
        if val(cfg, ms .. 'milestone_steps') ~= nil then
            err('%smilestone_steps: only in step mode (use milestones)', ms)
        end
    else
        err('training: set either unfreezing_epoch, min_epochs, max_epochs (epoch mode) or '
            .. 'unfreezing_step, min_steps, max_steps (step mode)')
    end
    local function upto(list_key, max_key)
        local l, m = val(cfg, ms .. list_key), val(cfg, 'training.' .. max_key)
        if tree.is_list(l) and type(m) == 'number' then
            for _, x in ipairs(l) do
                if type(x) == 'number' and x > m then
                    err('%s%s: %s exceeds training.%s (%s)', ms, list_key, show(x), max_key, show(m))
                    break
                end
            end
        end
    end
    upto('milestones', 'max_epochs')
    upto('milestone_steps', 'max_steps')
    local imgaug = val(cfg, 'training.imgaug')
    if tree.is_map(imgaug) then -- {ImgaugClass: {p, args, kwargs}}
        for _, k in ipairs(tree.keys(imgaug)) do
            local spec = imgaug[k]
            if spec ~= NULL and not tree.is_map(spec) then
                err('training.imgaug.%s: expected a mapping with p, args, kwargs, got %s', k, show(spec))
            elseif tree.is_map(spec) then
                for _, kk in ipairs(tree.keys(spec)) do
                    if kk ~= 'p' and kk ~= 'args' and kk ~= 'kwargs' then
                        err("training.imgaug.%s: unknown key '%s' (p, args or kwargs)", k, kk)
                    end
                end
            end
        end
    end
    local dev = val(cfg, 'training.device')
    if type(dev) == 'string' and not (dev == 'auto' or dev == 'cpu' or dev == 'cuda' or dev:match('^cuda:%d+$')) then
        err('training.device: expected auto | cpu | cuda | cuda:N, got %s', show(dev))
    end
    -- losses: each listed loss must exist and have a numeric log_weight
    local use = val(cfg, 'model.losses_to_use')
    if tree.is_list(use) then
        local losses = val(cfg, 'losses') or {}
        local registry = loss_registry()
        for _, name in ipairs(use) do
            if name ~= '' and type(name) == 'string' then
                local sec = losses[name]
                if contains(schema.losses_not_implemented, name) then
                    err("model.losses_to_use: %s is a Lightning Pose loss that lpose does not implement "
                        .. "(lpose has: %s)", show(name), table.concat(registry and registry.unsupervised or {}, ', '))
                elseif registry and registry.all[name] and not contains(registry.unsupervised, name) then
                    err("model.losses_to_use: %s is a supervised loss: choose it with model.heatmap_loss_type "
                        .. "(losses_to_use lists unsupervised losses: %s)", show(name),
                        table.concat(registry.unsupervised, ', '))
                elseif registry and not contains(registry.unsupervised, name)
                    and not contains(schema.losses_multiview, name) and not tree.is_map(sec) then
                    local candidates = {}
                    for _, l in ipairs(registry.unsupervised) do candidates[#candidates + 1] = l end
                    for _, l in ipairs(schema.losses_multiview) do candidates[#candidates + 1] = l end
                    local s = closest(name, candidates)
                    err("model.losses_to_use: unknown loss %s%s (known: %s; a custom loss must be registered "
                        .. "with lpose.losses.register before the config is loaded, or have a losses.%s section)",
                        show(name), s and (" (did you mean '%s'?)"):format(s) or '',
                        table.concat(registry.unsupervised, ', '), name)
                elseif tree.is_map(sec) and sec.log_weight ~= nil and type(sec.log_weight) ~= 'number' then
                    err('losses.%s.log_weight: must be a number, got %s', name, show(sec.log_weight))
                end
            end
        end
    end
end

-- Validate an internal-form config; where(path) -> ' (file:line)' or ''.
-- keys_only: check key names and sections, not values (before ${} resolve).
-- Raises one error listing every problem.
function M.check(cfg, where, keys_only)
    where = where or function() return '' end
    local errs = {}
    if not tree.is_map(cfg) then
        error('lpose.config: a config must be a mapping of sections, got ' .. show(cfg), 0)
    end
    walk(cfg, schema.root, errs, where, keys_only)
    if #errs == 0 and not keys_only then lp_checks(cfg, errs) end
    if #errs > 0 then
        error('lpose.config: invalid config:\n  ' .. table.concat(errs, '\n  '), 0)
    end
    return cfg
end

-- ---------------------------------------------------------------- lpose support

local VIT = '^vit'
-- Messages for LP features that load fine but lpose does not implement yet.
function M.unsupported(cfg)
    local out = {}
    local function add(fmt, ...) out[#out + 1] = fmt:format(...) end
    local mt = val(cfg, 'model.model_type')
    if mt and mt ~= 'heatmap' and mt ~= 'heatmap_mhcrnn' then
        add('model.model_type %s: lpose implements heatmap and heatmap_mhcrnn only', show(mt))
    end
    local bb = val(cfg, 'model.backbone')
    if type(bb) == 'string' and bb:match(VIT) then
        add('model.backbone %s: transformer backbones are not supported yet (use resnet18..152 or resnet50_*)',
            show(bb))
    elseif type(bb) == 'string' and bb:match('^efficientnet') then
        add('model.backbone %s: EfficientNet backbones are not supported yet (use resnet18..152 or resnet50_*)',
            show(bb))
    end
    if val(cfg, 'data.view_names') ~= nil or tree.is_list(val(cfg, 'data.csv_file')) then
        add('data.view_names / list csv_file: multiview training is not supported yet')
    end
    if val(cfg, 'data.camera_params_file') ~= nil then
        add('data.camera_params_file: 3D multiview is not supported yet')
    end
    if val(cfg, 'training.imgaug_3d') == true then add('training.imgaug_3d: 3D augmentation is not supported yet') end
    if val(cfg, 'training.patch_mask') ~= nil then add('training.patch_mask: only for the multiview transformer') end
    if val(cfg, 'training.profiler') ~= nil then add('training.profiler: not supported (use bench/)') end
    if val(cfg, 'training.imgaug') == 'dlc-mv' then
        add("training.imgaug 'dlc-mv': multiview preset, not supported yet")
    end
    local use = val(cfg, 'model.losses_to_use')
    if tree.is_list(use) then
        for _, n in ipairs(use) do
            if n == 'supervised_pairwise_projections' or n == 'supervised_reprojection_heatmap_mse' then
                add('model.losses_to_use %s: multiview 3D losses are not supported yet', show(n))
            end
        end
    end
    return out
end

return M
