-- lpose.train.checks: what train.setup verifies before it builds the model
-- or creates the model directory, so that a config that does not fit its
-- data stops with a message naming the config key (and where it was set)
-- and the data file, instead of failing inside a loss or training something
-- other than what the config asks for. Errors raise a plain message;
-- warnings are returned as strings, which setup prints and keeps in
-- run.warnings. docs/reference/lua/train.md#setup-checks
local config = require('lpose.config')
local files = require('lpose.files')

local M = {}

local function null(v) return v == nil or v == config.null end

-- ' (FILE:LINE)' or '' for a key of cfg (lpose.config.origin)
local function origin(cfg, key)
    local o = config.origin(cfg, key)
    return o and (' (' .. o .. ')') or ''
end

local function some(list, n)
    n = n or 6
    local shown = table.concat(list, ', ', 1, math.min(#list, n))
    return #list > n and shown .. ', ...' or shown
end

-- ---------------------------------------------------------------- backbone

--- checks.pretrained_sources: backbone name -> the weights LP starts it from
-- when model.backbone_pretrained is true (names only: lpose never downloads).
M.pretrained_sources = {
    resnet18 = 'torchvision ResNet18_Weights.IMAGENET1K_V1',
    resnet34 = 'torchvision ResNet34_Weights.IMAGENET1K_V1',
    resnet50 = 'torchvision ResNet50_Weights.IMAGENET1K_V2',
    resnet101 = 'torchvision ResNet101_Weights.IMAGENET1K_V2',
    resnet152 = 'torchvision ResNet152_Weights.IMAGENET1K_V2',
    resnet50_animal_apose = 'the MMPose checkpoint res50_animalpose_256x256-e1f30bff_20210426.pth',
    resnet50_animal_ap10k = 'the MMPose checkpoint res50_ap10k_256x256-35760eb8_20211029.pth',
    resnet50_human_jhmdb = 'the MMPose checkpoint res50_jhmdb_sub3_256x256-c4ec1a0b_20201122.pth',
    resnet50_human_res_rle = 'the MMPose checkpoint deeppose_res50_mpii_256x256_rle-5f92a619_20220504.pth',
    resnet50_human_top_res = 'the MMPose checkpoint res50_mpii_256x256-418ffc88_20200812.pth',
    resnet50_human_hand = 'the MMPose checkpoint res50_onehand10k_256x256-739c8639_20210330.pth',
}

--- checks.backbone(cfg): raises when model.backbone_pretrained is true and
-- model.backbone_weights is not set. LP downloads pretrained weights there;
-- lpose never downloads, and would otherwise train a random backbone.
function M.backbone(cfg)
    local m = cfg.model or {}
    if m.backbone_pretrained ~= true then return end
    if not null(m.backbone_weights) and m.backbone_weights ~= '' then return end
    local bb = m.backbone or 'resnet50_animal_ap10k'
    local src = M.pretrained_sources[bb]
    error(('model.backbone_pretrained is true%s but model.backbone_weights is not set: lpose never downloads '
        .. 'weights, so it would train a randomly initialised %s backbone. Download the pretrained weights once%s '
        .. 'and set model.backbone_weights=/path/to/file (a torchvision or MMPose checkpoint file), or set '
        .. 'model.backbone_pretrained=false to train from random initialisation (expect lower accuracy). '
        .. 'See docs/guides/pretrained-backbones.md'):format(origin(cfg, 'model.backbone_pretrained'), bb,
        src and (' (' .. src .. ')') or ''), 0)
end

--- checks.weights(report, path) -> message, warning | nil
-- The load report of model.backbone_weights (model:load_weights) as a line
-- for the log; warning when backbone tensors were missing from the file.
-- Raises when no tensor of the file matched the backbone.
function M.weights(report, path)
    local unexpected = report.unexpected or {}
    local missing = report.missing or {}
    if report.loaded == 0 then
        error(('model.backbone_weights: no tensor of %s matched the backbone (%d unexpected keys%s): '
            .. 'expected a torchvision ResNet state dict or an MMPose ResNet checkpoint for model.backbone '
            .. '(docs/guides/pretrained-backbones.md)'):format(path, #unexpected,
            #unexpected > 0 and (', e.g. ' .. some(unexpected, 3)) or ''), 0)
    end
    local msg = ('model.backbone_weights: loaded %d tensors from %s (%d missing, %d unexpected%s)'):format(
        report.loaded, path, #missing, #unexpected, #unexpected > 0 and (': ' .. some(unexpected, 4)) or '')
    local warning
    if #missing > 0 then
        warning = ('warning: model.backbone_weights: %d backbone tensors are not in %s and keep their random '
            .. 'initialisation: %s'):format(#missing, path, some(missing, 4))
    end
    return msg, warning
end

-- ---------------------------------------------------------------- losses

--- checks.losses(cfg): raises unless every model.losses_to_use name is a
-- registered unsupervised loss (config validation also accepts a name that
-- has a losses.<name> section, for custom losses a script registers later).
function M.losses(cfg)
    local losses = require('lpose.losses')
    local known = {}
    local names = losses.names('unsupervised')
    for _, n in ipairs(names) do known[n] = true end
    for _, name in ipairs(losses.names_to_use(cfg)) do
        if not known[name] then
            error(("model.losses_to_use%s: no loss named '%s' is registered (registered: %s); a custom loss "
                .. "must be registered with lpose.losses.register('%s', fn) before lpose.train.setup "
                .. '(docs/guides/write-a-loss.md)'):format(origin(cfg, 'model.losses_to_use'), tostring(name),
                table.concat(names, ', '), tostring(name)), 0)
        end
    end
end

-- ---------------------------------------------------------------- paths and videos

local function labels_csv(cfg)
    local d = cfg.data
    return files.join(d.data_dir, d.csv_file)
end

-- The video folders the run reads, as {key=, why=}: data.video_dir when
-- semi-supervised, eval.test_videos_directory when videos are predicted after
-- training.
local function video_dirs(cfg)
    local dirs = {}
    if require('lpose.losses').is_semi_supervised(cfg) then
        dirs[#dirs + 1] = { key = 'data.video_dir', why = ' (semi-supervised training reads its unlabeled videos)' }
    end
    local e = cfg.eval or {}
    if e.predict_vids_after_training == true and not null(e.test_videos_directory) then
        dirs[#dirs + 1] = { key = 'eval.test_videos_directory', why = ' (eval.predict_vids_after_training is '
            .. 'true; set it to false or point this key at your videos)' }
    end
    return dirs
end

--- checks.paths(cfg): data.data_dir, data.video_dir (when the run reads
-- unlabeled video) and eval.test_videos_directory (when it predicts videos
-- after training) exist; the labels CSV exists. Raises naming the key.
function M.paths(cfg)
    local d = cfg.data
    local function need_dir(key, path, why)
        if not files.is_dir(path) then
            error(("%s%s: '%s' is not a directory%s"):format(key, origin(cfg, key), tostring(path), why or ''), 0)
        end
    end
    need_dir('data.data_dir', d.data_dir)
    if type(d.csv_file) == 'string' and not files.exists(labels_csv(cfg)) then
        error(("data.csv_file%s: no file '%s' in data.data_dir"):format(origin(cfg, 'data.csv_file'), d.csv_file), 0)
    end
    for _, dir in ipairs(video_dirs(cfg)) do need_dir(dir.key, config.get(cfg, dir.key), dir.why) end
end

--- checks.dims(cfg): data.image_resize_dims.height and .width are set (LP's
-- default config leaves them null: the model's input size must be chosen)
function M.dims(cfg)
    local dims = cfg.data.image_resize_dims
    for _, k in ipairs({ 'height', 'width' }) do
        local v = type(dims) == 'table' and dims[k] or nil
        if type(v) ~= 'number' then
            local key = 'data.image_resize_dims.' .. k
            error(('%s is not set%s: choose the model input size, a multiple of 32 (e.g. 256; LP\'s example '
                .. 'configs use 256 x 256)'):format(key, origin(cfg, key)), 0)
        end
    end
end

--- checks.videos(cfg): lpose.video.check for every video the run will read
-- (data.video_dir when semi-supervised, eval.test_videos_directory when
-- videos are predicted after training). Raises at the first bad one, naming
-- the config key that leads to it.
function M.videos(cfg)
    local unlabeled = require('lpose.train.unlabeled')
    for _, d in ipairs(video_dirs(cfg)) do
        local key = d.key
        local list, lerr = unlabeled.list_videos(config.get(cfg, key))
        if not list then error(('%s%s: %s'):format(key, origin(cfg, key), lerr), 0) end
        for _, path in ipairs(list) do
            local ok, err = require('lpose.video').check(path)
            if not ok then error(('%s%s: %s'):format(key, origin(cfg, key), err), 0) end
        end
    end
end

-- ---------------------------------------------------------------- keypoints

--- checks.keypoints(cfg) -> {warning, ...}
-- The labels CSV (data.data_dir/data.csv_file) against the config: its
-- keypoint count must equal data.num_keypoints, and its bodyparts must be
-- data.keypoint_names, in order, when the config lists names (unless
-- data.allow_keypoint_name_mismatch is true: then a warning). Raises naming
-- both counts or the differing names, the CSV and the config key.
function M.keypoints(cfg)
    local d = cfg.data
    if type(d.csv_file) ~= 'string' then return {} end -- multiview: refused by check_supported
    local csv = labels_csv(cfg)
    local labels, err = require('lpose.data').read_labels(csv, { data_dir = d.data_dir })
    if not labels then error(err, 0) end
    local names, n_frames = labels:keypoint_names(), labels.n_frames
    labels:free()
    if n_frames == 0 then
        error(('the labels CSV %s has no labeled frames (only its header rows)'):format(csv), 0)
    end
    local nk = d.num_keypoints
    if null(nk) then
        error(('data.num_keypoints is not set%s: the labels CSV %s has %d keypoints (%s); set '
            .. 'data.num_keypoints: %d'):format(origin(cfg, 'data.num_keypoints'), csv, #names, some(names),
            #names), 0)
    end
    if nk ~= #names then
        error(('data.num_keypoints is %d%s but the labels CSV %s has %d keypoints (%s): set data.num_keypoints '
            .. '(and data.keypoint_names) to match the CSV, or point data.data_dir / data.csv_file at the labels '
            .. 'of this config'):format(nk, origin(cfg, 'data.num_keypoints'), csv, #names, some(names)), 0)
    end
    local want = d.keypoint_names
    if null(want) then return {} end
    local diffs = {}
    for i = 1, #names do
        if want[i] ~= names[i] then
            diffs[#diffs + 1] = ("#%d config '%s', CSV '%s'"):format(i - 1, tostring(want[i]), names[i])
        end
    end
    if #diffs == 0 then return {} end
    local what = ('data.keypoint_names%s differ from the bodyparts of the labels CSV %s at %d of %d positions '
        .. '(%s)'):format(origin(cfg, 'data.keypoint_names'), csv, #diffs, #names, some(diffs, 3))
    if d.allow_keypoint_name_mismatch == true then
        return { 'warning: ' .. what .. '; training anyway (data.allow_keypoint_name_mismatch: true): the '
            .. "CSV's columns are used in their order and the config's names label the outputs" }
    end
    error(what .. ': keypoints are matched by column position, so the outputs would carry the wrong names. '
        .. 'Fix data.keypoint_names (or the CSV), or set data.allow_keypoint_name_mismatch: true (an lpose key) '
        .. 'to train anyway', 0)
end

-- ---------------------------------------------------------------- context frames

-- video stem -> path, and the only video when there is exactly one
local function videos_of(dir)
    if not files.is_dir(dir) then return nil end
    local list = require('lpose.train.unlabeled').list_videos(dir)
    if not list then return nil end
    local by_stem = {}
    for _, p in ipairs(list) do by_stem[files.basename(p):gsub('%.[^.]*$', '')] = p end
    return by_stem, #list == 1 and list[1] or nil
end

-- up to n row indices (1-based) spread evenly over 1..total
local function spread(total, n)
    local out = {}
    if total <= n then
        for i = 1, total do out[i] = i end
        return out
    end
    if n < 1 then return {} end
    if n == 1 then return { 1 } end
    for i = 0, n - 1 do out[#out + 1] = 1 + math.floor(i * (total - 1) / (n - 1) + 0.5) end
    return out
end

--- checks.context_frames(cfg [, {max_frames = 8}]) -> warning | nil, info
-- For a TCN (model.model_type heatmap_mhcrnn), whose context frames t-2..t+2
-- are read from labeled-data/ by file name: compares up to max_frames
-- labeled images, spread over the CSV, with the frames of their videos, as
-- `lpose check-frames` does (lpose.frames.compare, images only).
-- An image's video is data.video_dir/<its folder>.<ext> (LP's
-- labeled-data/<session>/ layout), else the only video of data.video_dir.
-- Returns a warning when some do not match; nil (quietly) for other model
-- types, absent videos, or images no video pairs with. info = {checked =,
-- failed =, skipped = reason}.
function M.context_frames(cfg, opts)
    local info = { checked = 0, failed = 0 }
    if (cfg.model or {}).model_type ~= 'heatmap_mhcrnn' then
        info.skipped = 'not a heatmap_mhcrnn model'
        return nil, info
    end
    local d = cfg.data
    if type(d.csv_file) ~= 'string' then
        info.skipped = 'multiview'
        return nil, info
    end
    local by_stem, only = videos_of(d.video_dir)
    if not by_stem then
        info.skipped = 'no videos in data.video_dir'
        return nil, info
    end
    local csv = labels_csv(cfg)
    local labels = require('lpose.data').read_labels(csv)
    if not labels then
        info.skipped = 'labels unreadable'
        return nil, info
    end
    local paths = labels:image_paths()
    labels:free()
    -- group the sample by video and by lossy (JPEG) or lossless images
    local groups, order = {}, {}
    for _, row in ipairs(spread(#paths, (opts and opts.max_frames) or 8)) do
        local rel = paths[row]
        local session = rel:match('([^/]+)/[^/]+$')
        local video = (session and by_stem[session]) or only
        if video then
            local lossy = rel:lower():match('%.jpe?g$') ~= nil
            local key = video .. (lossy and '|lossy' or '')
            if not groups[key] then
                groups[key] = { video = video, lossy = lossy, images = {} }
                order[#order + 1] = key
            end
            table.insert(groups[key].images, rel)
        end
    end
    if #order == 0 then
        info.skipped = 'no labeled image pairs with a video'
        return nil, info
    end
    local compare = require('lpose.frames').compare
    local example
    for _, key in ipairs(order) do
        local g = groups[key]
        local entries = compare({ images = g.images, data_dir = d.data_dir, video = g.video, context = false,
            nearest = false, lossy = g.lossy, tolerance = g.lossy and 255 or 2, mean_tolerance = g.lossy and 4 or nil })
        if entries then
            for _, e in ipairs(entries) do
                info.checked = info.checked + 1
                if e.problem then
                    info.failed = info.failed + 1
                    example = example or { csv = csv, video = g.video }
                end
            end
        end
    end
    if info.failed == 0 then return nil, info end
    return ('warning: %d of %d sampled labeled frames do not match their video frames: the TCN reads its context '
        .. 'frames t-2..t+2 from labeled-data/ by file name, and they may not be temporal neighbours '
        .. '(see: lpose check-frames %s %s)'):format(info.failed, info.checked, example.csv, example.video), info
end

-- ---------------------------------------------------------------- all

--- checks.run(cfg [, {frames = true}]) -> {warning, ...}
-- Every check, in order: config.check_supported, backbone, losses, dims, paths,
-- keypoints, videos, then (frames ~= false) context_frames. Raises at the
-- first error.
function M.run(cfg, opts)
    config.check_supported(cfg)
    M.backbone(cfg)
    M.losses(cfg)
    M.dims(cfg)
    M.paths(cfg)
    local warnings = M.keypoints(cfg)
    M.videos(cfg)
    if not (opts and opts.frames == false) then
        local w = M.context_frames(cfg)
        if w then warnings[#warnings + 1] = w end
    end
    return warnings
end

return M
