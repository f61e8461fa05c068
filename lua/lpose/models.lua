-- lpose.models: Lightning Pose's heatmap trackers (model_type 'heatmap' and
-- the Temporal Context Network 'heatmap_mhcrnn') over the engine's C models.
-- Lua holds the config; C holds the weights and the math.
--
--   local models = require('lpose.models')
--   local model = models.new(cfg)             -- cfg: an LP config table
--   local sf, mf = model:forward(images)     -- heatmaps of both heads
--   local kp, conf = model:eval():predict(images)
--   model:save('model.lpt'); local m2 = models.load('model.lpt')
--
-- Docs: docs/reference/lua/models.md.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local dtypes = require('lpose.dtypes')
local class = require('lpose.class')
local boxes = require('lpose.box')

local C, check, argerror = lp.lib, lp.check, lp.argerror

local M = {}

-- The owning box of an lp_model* (docs/design/memory.md): idempotent free and __gc;
-- internal (a HeatmapTracker holds it), so it has no name.
local Box = boxes.define({ handle = 'lp_model', free = C.lp_model_free })

local out1 = ffi.new('lp_tensor*[1]')
local out2 = ffi.new('lp_tensor*[1]')
local model_out = ffi.new('lp_model*[1]')
local int64_out = ffi.new('int64_t[1]')
local report_out = ffi.new('lp_load_report[1]')

-- LP backbone names -> architecture. The MMPose-pretrained resnet50_* are
-- architecturally plain torchvision resnet50 (docs/spec/lp-model.md §1.2).
M.backbones = {
    resnet18 = C.LP_BACKBONE_RESNET18, resnet34 = C.LP_BACKBONE_RESNET34,
    resnet50 = C.LP_BACKBONE_RESNET50, resnet101 = C.LP_BACKBONE_RESNET101,
    resnet152 = C.LP_BACKBONE_RESNET152,
    resnet50_animal_apose = C.LP_BACKBONE_RESNET50, resnet50_animal_ap10k = C.LP_BACKBONE_RESNET50,
    resnet50_human_jhmdb = C.LP_BACKBONE_RESNET50, resnet50_human_res_rle = C.LP_BACKBONE_RESNET50,
    resnet50_human_top_res = C.LP_BACKBONE_RESNET50, resnet50_human_hand = C.LP_BACKBONE_RESNET50,
}
M.model_types = { heatmap = C.LP_MODEL_TYPE_HEATMAP, heatmap_mhcrnn = C.LP_MODEL_TYPE_HEATMAP_MHCRNN }
local formats = {
    lpose = C.LP_WEIGHTS_LPOSE, backbone = C.LP_WEIGHTS_BACKBONE, lightning = C.LP_WEIGHTS_LIGHTNING,
}

local HeatmapTracker = class('lpose.models.HeatmapTracker')
M.HeatmapTracker = HeatmapTracker

local function keys_of(t)
    local ks = {}
    for k in pairs(t) do ks[#ks + 1] = k end
    table.sort(ks)
    return table.concat(ks, ', ')
end

-- LP config table -> lp_model_params (raises naming the bad key).
local function params_from_cfg(cfg, fname)
    if type(cfg) ~= 'table' or type(cfg.model) ~= 'table' or type(cfg.data) ~= 'table' then
        argerror(fname, 'expected an LP config table with model and data sections')
    end
    local m, d = cfg.model, cfg.data
    local p = C.lp_model_default_params()
    local mt = m.model_type or 'heatmap'
    if M.model_types[mt] == nil then
        argerror(fname, ("model.model_type '%s' is not supported (%s)"):format(tostring(mt), keys_of(M.model_types)))
    end
    local bb = m.backbone or 'resnet50_animal_ap10k'
    if M.backbones[bb] == nil then
        argerror(fname, ("model.backbone '%s' is not supported (%s)"):format(tostring(bb), keys_of(M.backbones)))
    end
    if type(d.num_keypoints) ~= 'number' then argerror(fname, 'data.num_keypoints must be a number') end
    local dims = d.image_resize_dims or {}
    if type(dims.height) ~= 'number' or type(dims.width) ~= 'number' then
        argerror(fname, 'data.image_resize_dims.height and .width must be numbers')
    end
    p.model_type = M.model_types[mt]
    p.backbone = M.backbones[bb]
    p.num_keypoints = d.num_keypoints
    p.downsample_factor = m.downsample_factor or 2
    p.image_height, p.image_width = dims.height, dims.width
    local seed = cfg.training and cfg.training.rng_seed_model_pt
    p.seed = seed == nil and 0 or seed
    return p
end

local function handle(self, fname)
    local box = rawget(self, 'box')
    if box == nil or box.h == nil then argerror(fname, 'model used after free()') end
    return box.h
end

local function wrap_model(h, cfg)
    local self = setmetatable({}, HeatmapTracker)
    self.box = Box(h)
    self.cfg = cfg
    return self
end

--- lpose.models.new(cfg) -> HeatmapTracker
-- cfg: an LP config table. Reads model.model_type ('heatmap' | 'heatmap_mhcrnn'),
-- model.backbone, model.downsample_factor (2), model.backbone_weights (optional
-- path: torchvision or MMPose state dict; its load report is kept in
-- model.backbone_weights_report; every backbone tensor must be in the file
-- unless model.backbone_weights_strict is false), data.num_keypoints,
-- data.image_resize_dims.{height,width}, training.rng_seed_model_pt (0).
function M.new(cfg)
    local fname = 'lpose.models.new'
    local p = params_from_cfg(cfg, fname)
    check(C.lp_model_init(ffi.new('lp_model_params[1]', p), model_out))
    local self = wrap_model(model_out[0], cfg)
    local weights = cfg.model.backbone_weights
    if weights ~= nil and weights ~= '' then
        local strict = cfg.model.backbone_weights_strict ~= false
        local rep, err = self:load_weights(weights, 'backbone', { strict = strict })
        if not rep then
            self:free()
            error(fname .. ': model.backbone_weights: ' .. err, lp.user_level())
        end
        self.backbone_weights_report = rep
    end
    return self
end

--- model:free(): release the C model now (idempotent)
function HeatmapTracker:free() if rawget(self, 'box') then self.box:free() end end

--- model:config() -> the engine's config as a table (architecture, K, sizes)
function HeatmapTracker:config()
    local buf = ffi.new('char[1024]')
    check(C.lp_model_config_json(handle(self, 'model:config'), 1024, buf))
    return require('cjson').decode(ffi.string(buf))
end

--- model:is_mhcrnn() -> true for the Temporal Context Network
function HeatmapTracker:is_mhcrnn()
    local p = ffi.new('lp_model_params[1]')
    check(C.lp_model_get_params(handle(self, 'model:is_mhcrnn'), p))
    return p[0].model_type == C.LP_MODEL_TYPE_HEATMAP_MHCRNN
end

local function two(f, ...)
    out1[0], out2[0] = nil, nil
    check(f(...))
    local a, b = tensor.wrap(out1[0]), tensor.wrap(out2[0])
    return a, b
end

--- model:quantize_int8(images) -> model
-- The backbone in int8 from now on (CPU, eval mode, grad off; the heads stay
-- f32): calibrated on images (N 3 H W, normalised as the model's input, e.g. a
-- few dozen frames of the videos to predict). docs/reference/int8.md.
-- model:drop_int8() goes back to f32; model:is_int8() says which. Changing the
-- weights afterwards makes the forwards raise until it is calibrated again.
function HeatmapTracker:quantize_int8(images)
    local f = 'model:quantize_int8'
    check(C.lp_model_quantize_int8(handle(self, f), tensor.handle(images, f)))
    return self
end

function HeatmapTracker:drop_int8() C.lp_model_drop_int8(handle(self, 'model:drop_int8')) end

function HeatmapTracker:is_int8() return C.lp_model_is_int8(handle(self, 'model:is_int8')) == 1 end

--- model:forward(images) -> heatmaps_sf, heatmaps_mf (nil for 'heatmap')
-- images: heatmap: batch 3 image_height image_width; heatmap_mhcrnn: batch 5 3 H W
-- (frames t-2..t+2) or a contiguous window T 3 H W (T >= 5, giving T-4 outputs).
-- -> heatmaps: batch num_keypoints heatmap_height heatmap_width (softmaxed).
function HeatmapTracker:forward(images)
    local f = 'model:forward'
    local h, x = handle(self, f), tensor.handle(images, f)
    if self:is_mhcrnn() and C.lp_tensor_dim(x) == 4 then
        return two(C.lp_model_forward_window, h, x, out1, out2)
    end
    return two(C.lp_model_forward, h, x, out1, out2)
end
HeatmapTracker.__call = HeatmapTracker.forward

--- model:forward_backbone(images) -> features: N C H/32 W/32
function HeatmapTracker:forward_backbone(images)
    local f = 'model:forward_backbone'
    check(C.lp_model_forward_backbone(handle(self, f), tensor.handle(images, f), out1))
    return tensor.wrap(out1[0])
end

--- model:forward_heads(features) -> heatmaps_sf, heatmaps_mf
-- features: N C h w ('heatmap') or context stacks N 5 C h w ('heatmap_mhcrnn').
function HeatmapTracker:forward_heads(features)
    local f = 'model:forward_heads'
    return two(C.lp_model_forward_heads, handle(self, f), tensor.handle(features, f), out1, out2)
end

--- lpose.models.context_stack(features) -> T-4 5 C h w from window features T C h w
function M.context_stack(features)
    check(C.lp_model_context_stack(tensor.handle(features, 'models.context_stack'), out1))
    return tensor.wrap(out1[0])
end

--- lpose.models.decode(heatmaps [, downsample_factor=2]) -> keypoints N K 2, confidences N K
-- LP's subpixel soft-argmax; keypoints in model-input pixels.
function M.decode(heatmaps, ds)
    return two(C.lp_heatmaps_decode, tensor.handle(heatmaps, 'models.decode'),
        ds or 2, out1, out2)
end

--- lpose.models.choose(kp_sf, conf_sf, kp_mf, conf_mf) -> keypoints, confidences
-- The TCN's merge: MF where its confidence is strictly greater, else SF.
function M.choose(kp_sf, conf_sf, kp_mf, conf_mf)
    local f = 'models.choose'
    return two(C.lp_keypoints_choose, tensor.handle(kp_sf, f), tensor.handle(conf_sf, f),
        tensor.handle(kp_mf, f), tensor.handle(conf_mf, f), out1, out2)
end

--- model:predict(images [, opts]) -> keypoints batch K 2 (x, y), confidences batch K
-- Inference, in eval mode and without grad whatever the model's mode (the mode
-- is restored afterwards): forward, decode both heads, merge (TCN), scale to the
-- original frame when opts.frame_height / opts.frame_width are given. For
-- heatmap_mhcrnn a 4-D window T 3 H W gives T-4 rows (centre frames 3..T-2).
function HeatmapTracker:predict(images, opts)
    local f = 'model:predict'
    opts = opts or {}
    local x = tensor.handle(images, f)
    local window = (self:is_mhcrnn() and C.lp_tensor_dim(x) == 4) and 1 or 0
    return two(C.lp_model_predict, handle(self, f), x, window, opts.frame_height or 0,
        opts.frame_width or 0, out1, out2)
end

--- model:named_parameters([prefix]) -> iterator of name, Tensor (trainable parameters only)
function HeatmapTracker:named_parameters(prefix)
    local h = handle(self, 'model:named_parameters')
    local n, i = C.lp_model_n_tensors(h), -1
    return function()
        while true do
            i = i + 1
            if i >= n then return nil end
            local name = ffi.string(C.lp_model_tensor_name(h, i))
            if C.lp_model_tensor_is_param(h, i) ~= 0 and (not prefix or name:sub(1, #prefix) == prefix) then
                check(C.lp_model_tensor(h, i, out1))
                return name, tensor.wrap(out1[0])
            end
        end
    end
end

--- model:parameters([prefix]) -> {Tensor, ...} (e.g. prefix 'backbone.' for LP's groups)
function HeatmapTracker:parameters(prefix)
    local list = {}
    for _, p in self:named_parameters(prefix) do list[#list + 1] = p end
    return list
end

--- model:n_parameters([prefix]) -> number of trainable parameter elements
function HeatmapTracker:n_parameters(prefix)
    check(C.lp_model_count_parameters(handle(self, 'model:n_parameters'), prefix, int64_out))
    return tonumber(int64_out[0])
end

--- model:state_dict() -> {name = Tensor (detached)}, {names in order}; buffers included
function HeatmapTracker:state_dict()
    local h = handle(self, 'model:state_dict')
    local map, names = {}, {}
    for i = 0, C.lp_model_n_tensors(h) - 1 do
        local name = ffi.string(C.lp_model_tensor_name(h, i))
        check(C.lp_model_tensor(h, i, out1))
        local t = tensor.wrap(out1[0])
        map[name] = t:detach()
        t:free()
        names[#names + 1] = name
    end
    return map, names
end

local function split_lines(s)
    local out = {}
    for line in s:gmatch('[^\n]+') do out[#out + 1] = line end
    return out
end

local function report(h)
    local r = report_out[0]
    return {
        loaded = r.n_loaded,
        missing = split_lines(ffi.string(C.lp_model_load_report_keys(h, 0))),
        unexpected = split_lines(ffi.string(C.lp_model_load_report_keys(h, 1))),
        skipped = split_lines(ffi.string(C.lp_model_load_report_keys(h, 2))),
    }
end

local function first(names, n)
    local shown = {}
    for i = 1, math.min(n, #names) do shown[i] = names[i] end
    return table.concat(shown, ', ') .. (#names > n and ', ...' or '')
end

--- model:load_weights(path_or_state_dict [, format] [, opts]) -> report | nil, err
-- format: 'lpose' (our names, default for tables), 'backbone' (torchvision or
-- MMPose file), 'lightning' (an LP .ckpt). A path is read as a torch.save zip
-- (docs/spec/checkpoint-files.md: data only, never code). opts.strict (default
-- true): every tensor the model needs (for 'backbone': the backbone's; never
-- BN's num_batches_tracked) must be in the weights, else nothing is loaded
-- and the error names how many are missing and the first ones; strict =
-- false loads what matches and prints the report to stderr when tensors are
-- missing. opts may also come second, with opts.format.
-- report = {loaded = n, missing = {names}, unexpected = {names},
-- skipped = {names of non-tensor values}}. A path that cannot be used
-- (missing, unreadable, refused, incomplete, shapes that do not fit) returns
-- nil, err; a table that does not fit raises.
function HeatmapTracker:load_weights(src, format, opts)
    local f = 'model:load_weights'
    local h = handle(self, f)
    if type(format) == 'table' and opts == nil then format, opts = format.format, format end
    opts = opts or {}
    if type(opts) ~= 'table' then argerror(f, 'opts must be a table, e.g. {strict = false}') end
    local strict = opts.strict ~= false
    local fmt = formats[format or (type(src) == 'table' and 'lpose' or 'lightning')]
    if fmt == nil then argerror(f, "format must be 'lpose', 'backbone' or 'lightning'") end
    if type(src) == 'string' then
        local st = C.lp_model_load_weights_file(h, src, fmt, strict and 1 or 0, report_out)
        if st ~= C.LP_STATUS_OK and st ~= C.LP_STATUS_OOM and st ~= C.LP_STATUS_INTERRUPTED then
            return nil, lp.last_error()
        end
        check(st)
    elseif type(src) == 'table' then
        local list = require('lpose.serialize').list(src)
        local st = C.lp_model_load_weights(h, list.h, fmt, strict and 1 or 0, report_out)
        list:free()
        check(st)
    else
        argerror(f, 'expected a path or a table of tensors')
    end
    local rep = report(h)
    if not strict and #rep.missing > 0 then
        io.stderr:write(('lpose: warning: partial load (strict = false) of %s: loaded %d tensors; %d missing '
            .. 'keep their current values (%s); %d unexpected%s; %d non-tensor values skipped%s\n'):format(
            type(src) == 'string' and src or 'a table', rep.loaded, #rep.missing, first(rep.missing, 5),
            #rep.unexpected, #rep.unexpected > 0 and (' (' .. first(rep.unexpected, 5) .. ')') or '',
            #rep.skipped, #rep.skipped > 0 and (' (' .. first(rep.skipped, 5) .. ')') or ''))
    end
    return rep
end

--- model:train([mode=true]) -> model (BN uses batch statistics)
function HeatmapTracker:train(mode)
    check(C.lp_model_set_training(handle(self, 'model:train'), (mode == nil or mode) and 1 or 0))
    return self
end

--- model:eval() -> model (BN uses running statistics)
function HeatmapTracker:eval() return self:train(false) end

--- model:set_fold_batch_norm(on) -> model
-- Inference (eval mode, grad off) folds each batch norm into the convolution
-- before it (default true): the same function within float rounding, faster.
-- false runs them separately (benchmarks, checks). Training is never folded.
function HeatmapTracker:set_fold_batch_norm(on)
    check(C.lp_model_set_fold_batch_norm(handle(self, 'model:set_fold_batch_norm'), on and 1 or 0))
    return self
end

--- model:set_sync_batchnorm(on) -> model
-- on = true: batch norm in training mode uses the statistics of the batches
-- of every process of the lpose.dist group together (LP's sync_batchnorm;
-- docs/guides/multi-gpu.md). Every process must then run the same forward
-- and backward passes. false: each process its own batch. No group: no-op.
function HeatmapTracker:set_sync_batchnorm(on)
    local group = on and require('lpose.dist')._group() or nil
    check(C.lp_model_set_sync_batchnorm(handle(self, 'model:set_sync_batchnorm'), group))
    rawset(self, '_sync_group', group) -- the model refers to the group: keep it alive
    return self
end

--- model:is_training() -> boolean
function HeatmapTracker:is_training() return C.lp_model_is_training(handle(self, 'model:is_training')) ~= 0 end

--- model:to(device) -> model (moved in place; 'cpu', 'cuda', 'cuda:N')
function HeatmapTracker:to(device)
    local f = 'model:to'
    check(C.lp_model_to(handle(self, f), dtypes.device(device, f)))
    return self
end

--- model:device() -> 'cpu' | 'cuda:N'
function HeatmapTracker:device() return dtypes.device_name(C.lp_model_device(handle(self, 'model:device'))) end

--- model:save(path) -> true | nil, err (weights, buffers and config in one .lpt, atomic)
function HeatmapTracker:save(path)
    if type(path) ~= 'string' then argerror('model:save', 'expected a path') end
    if C.lp_model_save(handle(self, 'model:save'), path) ~= 0 then return nil, lp.last_error() end
    return true
end

local function cfg_from_engine(conf)
    return {
        model = { model_type = conf.model_type, backbone = conf.backbone,
                  downsample_factor = conf.downsample_factor },
        data = { num_keypoints = conf.num_keypoints,
                 image_resize_dims = { height = conf.image_height, width = conf.image_width } },
        training = { rng_seed_model_pt = conf.seed },
    }
end

--- lpose.models.load_dir(dir [, device]) -> model, cfg | nil, err
-- A model directory as `lpose predict` takes it: config.yaml and a checkpoint
-- (checkpoints/best.lpt of a training run, else model.lpt, else the only .lpt
-- there). The model is in eval mode with model.cfg set; device 'auto' (the
-- default) moves it to CUDA when there is one.
function M.load_dir(dir, device)
    local files = require('lpose.files')
    if not files.is_dir(dir) then return nil, ("model directory '%s' does not exist"):format(dir) end
    local cfg_path = dir .. '/config.yaml'
    if not files.exists(cfg_path) then return nil, ("%s: no config.yaml"):format(dir) end
    local ok, cfg = pcall(require('lpose.config').load, { file = cfg_path })
    if not ok then return nil, ('%s: %s'):format(cfg_path, tostring(cfg)) end
    local ckpt = dir .. '/checkpoints/best.lpt'
    if not files.exists(ckpt) then ckpt = dir .. '/model.lpt' end
    if not files.exists(ckpt) then
        local found = files.list(dir, '%.lpt$')
        if #found == 0 then
            return nil, ("%s: no checkpoint (expected checkpoints/best.lpt or model.lpt)"):format(dir)
        end
        if #found > 1 then return nil, ("%s: several .lpt checkpoints, name one model.lpt"):format(dir) end
        ckpt = found[1]
    end
    local model, err = M.load(ckpt)
    if not model then return nil, ("cannot load checkpoint %s: %s"):format(ckpt, err) end
    local K = cfg.data and cfg.data.num_keypoints
    if K and K ~= model:config().num_keypoints then
        return nil, ('%s: config.yaml has %d keypoints, the checkpoint %d'):format(dir, K, model:config().num_keypoints)
    end
    model.cfg = cfg
    model:eval()
    if device and device ~= 'auto' then
        local okd, derr = pcall(model.to, model, device)
        if not okd then return nil, 'cannot use device ' .. device .. ': ' .. tostring(derr) end
    elseif require('lpose').cuda_device_count() > 0 then
        pcall(model.to, model, 'cuda')
    end
    return model, cfg
end

--- lpose.models.load(path) -> HeatmapTracker in eval mode | nil, err (saved by model:save)
-- A loaded model is for inference: call model:train() to train it further.
function M.load(path)
    if type(path) ~= 'string' then argerror('lpose.models.load', 'expected a path') end
    if C.lp_model_load(path, model_out) ~= 0 then return nil, lp.last_error() end
    local self = wrap_model(model_out[0], nil)
    self.cfg = cfg_from_engine(self:config())
    return self:eval()
end

local function commas(n)
    local s = tostring(n)
    while true do
        local r, k = s:gsub('^(-?%d+)(%d%d%d)', '%1,%2')
        s = r
        if k == 0 then return s end
    end
end

function HeatmapTracker:__tostring()
    local box = rawget(self, 'box')
    if box == nil or box.h == nil then return 'lpose.models.HeatmapTracker (freed)' end
    local c = self:config()
    local K, ch = c.num_keypoints, C.lp_backbone_channels(M.backbones[c.backbone])
    local lines = {
        ('lpose.models.HeatmapTracker(%s, %s, num_keypoints=%d, %dx%d, downsample_factor=%d, %s, %s)')
            :format(c.model_type, c.backbone, K, c.image_height, c.image_width, c.downsample_factor,
                self:device(), self:is_training() and 'train' or 'eval'),
        ('  backbone: %s conv1..layer4 -> %d channels at 1/32: %s parameters'):format(c.backbone, ch,
            commas(self:n_parameters('backbone.'))),
    }
    for _, part in ipairs({ 'conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'layer4' }) do
        lines[#lines + 1] = ('    %-7s %s'):format(part, commas(self:n_parameters('backbone.' .. part .. '.')))
    end
    local n_deconv = 4 - c.downsample_factor
    local sf = { 'PixelShuffle(2)' }
    for i = 1, n_deconv do
        sf[#sf + 1] = ('ConvTranspose2d(%d->%d, 3x3, s2)'):format(i == 1 and ch / 4 or K, K)
    end
    lines[#lines + 1] = ('  head_sf: %s, spatial softmax: %s parameters'):format(table.concat(sf, ', '),
        commas(self:n_parameters('head_sf.')))
    if c.model_type == 'heatmap_mhcrnn' then
        lines[#lines + 1] = ('  head_mf: PixelShuffle(2), W_pre ConvTranspose2d(%d->%d), '
            .. 'bidirectional conv-RNN over 5 frames: %s parameters')
            :format(ch / 4, K, commas(self:n_parameters('head_mf.')))
        for _, part in ipairs({ 'W_pre', 'W_f', 'H_f', 'W_b', 'H_b' }) do
            lines[#lines + 1] = ('    %-7s %s'):format(part, commas(self:n_parameters('head_mf.' .. part .. '.')))
        end
    end
    lines[#lines + 1] = ('  total: %s trainable parameters'):format(commas(self:n_parameters()))
    return table.concat(lines, '\n')
end

return M
