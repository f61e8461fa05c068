-- lpose.diagnostics: the model-comparison report that `lpose report` writes
-- (docs/reference/lua/diagnostics.md, docs/reference/cli/report.md): one
-- self-contained HTML page with the training curves, labeled-frame pixel
-- errors, video traces, a gallery of labeled frames and the config
-- differences of one or more model directories. Not to be confused with
-- lpose.report, the prediction step that runs after training.
--
--   local diagnostics = require('lpose.diagnostics')
--   assert(diagnostics.write('report.html', { 'outputs/a', 'outputs/b' }, { videos = { 'v.mp4' } }))
local model_dir = require('lpose.diagnostics.model_dir')
local losses = require('lpose.diagnostics.losses')
local labeled = require('lpose.diagnostics.labeled')
local videos = require('lpose.diagnostics.videos')
local page = require('lpose.diagnostics.page')

local M = {}

M.downsample = require('lpose.diagnostics.downsample')

-- The keys whose flattened values are not the same in every model (a key one
-- model lacks counts as different); {} with a single model.
local function config_differences(models)
    if #models < 2 then return {} end
    local keys, seen = {}, {}
    for _, m in ipairs(models) do
        for k in pairs(m.flat_config) do
            if not seen[k] then seen[k] = true keys[#keys + 1] = k end
        end
    end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do
        local values, differ = {}, false
        for i, m in ipairs(models) do
            values[i] = m.flat_config[k] or '(not set)'
            if values[i] ~= values[1] then differ = true end
        end
        if differ then out[#out + 1] = { key = k, values = values } end
    end
    return out
end

local function keypoints_of(models)
    local keypoints, from
    for _, m in ipairs(models) do
        if m.keypoint_names then
            if not keypoints then
                keypoints, from = m.keypoint_names, m
            elseif table.concat(m.keypoint_names, ',') ~= table.concat(keypoints, ',') then
                return nil, ('models have different keypoints: %s has %s, %s has %s'):format(from.dir,
                    table.concat(keypoints, ','), m.dir, table.concat(m.keypoint_names, ','))
            end
        end
    end
    if not keypoints then
        return nil, ('%s/config.yaml: no data.keypoint_names (needed to match the CSV columns)'):format(models[1].dir)
    end
    return keypoints
end

--- diagnostics.build(model_dirs [, opts]) -> report | nil, err
-- Reads the model directories and computes everything the page shows.
-- opts: videos = {video or prediction CSV, ...} (default: every video in the
-- models' video_preds/), gallery = frames in the gallery (12), buckets =
-- drawn points per trace / 2 (1500), top = disagreement frames listed (10),
-- names = a label per directory (default: the folder names, as short as stays distinct).
function M.build(dirs, opts)
    opts = opts or {}
    if type(dirs) ~= 'table' or #dirs == 0 then return nil, 'no model directory given' end
    local models, seen = {}, {}
    for i, d in ipairs(dirs) do
        if type(d) ~= 'string' then return nil, ('model directory %d is a %s, not a path'):format(i, type(d)) end
        local m, err = model_dir.open(d)
        if not m then return nil, err end
        if seen[m.dir] then return nil, ("model directory '%s' is given twice"):format(d) end
        seen[m.dir] = true
        models[i] = m
    end
    local names = opts.names or model_dir.names(dirs)
    if #names ~= #dirs then return nil, ('%d names for %d model directories'):format(#names, #dirs) end
    for i, m in ipairs(models) do m.name = names[i] end
    local keypoints, kerr = keypoints_of(models)
    if not keypoints then return nil, kerr end

    local report = { models = {}, keypoints = keypoints, warnings = {} }
    for i, m in ipairs(models) do
        local mc = type(m.cfg.model) == 'table' and m.cfg.model or {}
        local used = type(mc.losses_to_use) == 'table' and table.concat(mc.losses_to_use, ', ') or nil
        report.models[i] = { name = m.name, dir = m.dir, model_type = mc.model_type, backbone = mc.backbone,
                             losses = used ~= '' and used or 'none (supervised)' }
    end
    report.losses = losses.charts(models, { buckets = opts.buckets })
    local errors, err = labeled.errors(models, keypoints)
    if not errors then return nil, err end
    report.pixel_errors = errors
    local gallery, gerr = labeled.gallery(models, keypoints, { size = opts.gallery })
    if not gallery then return nil, gerr end
    report.gallery = gallery

    local threshold = tonumber(require('lpose.config').get_or_default(models[1].cfg, 'eval.confidence_thresh_for_vid'))
    local specs = opts.videos
    if not specs or #specs == 0 then specs = videos.default_specs(models) end
    report.videos = {}
    for _, spec in ipairs(specs) do
        local section, verr = videos.section(spec, models, keypoints, {
            buckets = opts.buckets, top = opts.top, threshold = threshold })
        if not section then return nil, verr end
        for _, line in ipairs(section.missing) do report.warnings[#report.warnings + 1] = line end
        report.videos[#report.videos + 1] = section
    end
    report.config_differences = config_differences(models)
    return report
end

--- diagnostics.write(path, model_dirs [, opts]) -> info | nil, err
-- diagnostics.build, then the page, written to a temporary file and renamed
-- to `path`. info = {path=, bytes=, warnings=, videos = {{name=, n_frames=, n_drawn=}}}.
function M.write(path, dirs, opts)
    if type(path) ~= 'string' or path == '' then return nil, 'no output path given' end
    local report, err = M.build(dirs, opts)
    if not report then return nil, err end
    local html, perr = page.render(report)
    if not html then return nil, perr end
    local ok, werr = pcall(require('lpose.files').write_atomic, path, html)
    if not ok then return nil, tostring(werr) end
    local info = { path = path, bytes = #html, warnings = report.warnings, videos = {} }
    for i, v in ipairs(report.videos) do
        info.videos[i] = { name = v.name, n_frames = v.n_frames, n_drawn = v.n_drawn }
    end
    return info
end

return M
