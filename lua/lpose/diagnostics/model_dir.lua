-- lpose.diagnostics.model_dir: what the report reads from one model
-- directory (a training run's output): config.yaml, metrics.csv, the labeled
-- frames' predictions.csv / predictions_pixel_error.csv and video_preds/.
-- Every failure names the directory or file (and line) at fault.
local files = require('lpose.files')
local yaml = require('lpose.config.yaml')

local M = {}

local function read(path)
    local f, err = io.open(path, 'rb')
    if not f then return nil, err end
    local text = f:read('*a')
    f:close()
    return text
end

--- model_dir.read_metrics(path) -> {names = {...}, series = {[name] = {stage=, steps=, epochs=, values=}}} | nil, err
-- metrics.csv as the logger writes it (step,epoch,stage,name,value), one
-- series per (stage, name), in the order the names first appear.
function M.read_metrics(path)
    local text, err = read(path)
    if not text then return nil, ('%s: %s'):format(path, err) end
    local out = { names = {}, series = {} }
    local line_no = 0
    if text:sub(-1) ~= '\n' then text = text .. '\n' end
    for line in text:gmatch('(.-)\n') do -- ('[^\n]*' would also yield an empty match after each line)
        line_no = line_no + 1
        line = line:gsub('\r$', '')
        if line_no == 1 then
            if line ~= 'step,epoch,stage,name,value' then
                return nil, ('%s:1: expected the header step,epoch,stage,name,value, got %q'):format(path, line)
            end
        elseif line ~= '' then
            local step, epoch, stage, name, value = line:match('^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$')
            step, epoch = tonumber(step), tonumber(epoch)
            local v = value == '' and 0 / 0 or tonumber(value)
            if not (step and epoch and v and name ~= '') then
                return nil, ('%s:%d: expected step,epoch,stage,name,value, got %q'):format(path, line_no, line)
            end
            local key = stage .. '/' .. name
            local s = out.series[key]
            if not s then
                s = { stage = stage, name = name, steps = {}, epochs = {}, values = {} }
                out.series[key] = s
                out.names[#out.names + 1] = key
            end
            s.steps[#s.steps + 1], s.epochs[#s.epochs + 1], s.values[#s.values + 1] = step, epoch, v
        end
    end
    return out
end

-- {a = {b = 1}} -> {['a.b'] = '1'}; a list becomes its JSON text, a scalar its tostring.
local function flatten(node, prefix, out)
    local cjson = require('cjson')
    if type(node) == 'table' and next(node) ~= nil and node[1] == nil then
        for k, v in pairs(node) do
            flatten(v, prefix == '' and tostring(k) or prefix .. '.' .. tostring(k), out)
        end
    elseif type(node) == 'table' then
        local ok, text = pcall(cjson.encode, node)
        out[prefix] = ok and text or tostring(node)
    else
        out[prefix] = tostring(node) -- strings as written, numbers, booleans
    end
    return out
end
M.flatten = flatten

--- model_dir.open(dir) -> model | nil, err
-- model = {dir=, name=, cfg=, flat_config=, metrics=, labeled_csv=, pixel_error_csv=}
-- (the last two nil when the run did not predict its labeled frames).
function M.open(dir)
    dir = dir:gsub('(.)/+$', '%1')
    if not files.is_dir(dir) then return nil, ("model directory '%s' does not exist"):format(dir) end
    local cfg_path = dir .. '/config.yaml'
    local text = read(cfg_path)
    if not text then return nil, ("%s: no config.yaml (not a model directory?)"):format(dir) end
    local ok, cfg = pcall(yaml.decode, text, cfg_path)
    if not ok then return nil, ('%s: %s'):format(cfg_path, tostring(cfg)) end
    if type(cfg) ~= 'table' then return nil, ('%s: not a YAML mapping'):format(cfg_path) end
    local metrics_path = dir .. '/metrics.csv'
    if not files.exists(metrics_path) then
        return nil, ("%s: no metrics.csv (lpose train writes it; was this run trained by lpose?)"):format(dir)
    end
    local metrics, err = M.read_metrics(metrics_path)
    if not metrics then return nil, err end
    local model = { dir = dir, cfg = cfg, flat_config = flatten(cfg, '', {}), metrics = metrics }
    local names = (cfg.data or {}).keypoint_names
    if type(names) == 'table' and #names > 0 then model.keypoint_names = names end
    if files.exists(dir .. '/predictions.csv') and files.exists(dir .. '/predictions_pixel_error.csv') then
        model.labeled_csv = dir .. '/predictions.csv'
        model.pixel_error_csv = dir .. '/predictions_pixel_error.csv'
    end
    return model
end

--- model_dir.video_csv(model, stem) -> MODEL_DIR/video_preds/<stem>.csv, or nil when absent
function M.video_csv(model, stem)
    local path = model.dir .. '/video_preds/' .. stem .. '.csv'
    return files.exists(path) and path or nil
end

--- model_dir.video_stems(model) -> sorted stems of MODEL_DIR/video_preds/<stem>.csv
-- (the metric CSVs predict writes beside them, <stem>_temporal_norm.csv and
-- <stem>_pca_*_error.csv, are not videos)
function M.video_stems(model)
    local out = {}
    local p = io.popen("ls -1 '" .. (model.dir .. '/video_preds'):gsub("'", "'\\''") .. "' 2>/dev/null")
    if not p then return out end
    for name in p:lines() do
        local stem = name:match('^(.*)%.csv$')
        if stem and not stem:match('_temporal_norm$') and not stem:match('_pca_%w+_error$') then
            out[#out + 1] = stem
        end
    end
    p:close()
    table.sort(out)
    return out
end

--- model_dir.labels(cfg) -> path of the labeled frames' CSV, data_dir (nil when the config names none)
function M.labels(cfg)
    local d = cfg.data or {}
    if type(d.data_dir) ~= 'string' or type(d.csv_file) ~= 'string' then return nil end
    return files.join(d.data_dir, d.csv_file), d.data_dir
end

--- model_dir.names(dirs) -> short distinct labels: the folder name, with as
-- many parent folders as it takes to tell the models apart
function M.names(dirs)
    local parts = {}
    for i, d in ipairs(dirs) do
        parts[i] = {}
        for p in d:gsub('/+$', ''):gmatch('[^/]+') do table.insert(parts[i], 1, p) end
    end
    for depth = 1, 8 do
        local seen, clash, names = {}, false, {}
        for i, p in ipairs(parts) do
            local take = {}
            for j = math.min(depth, #p), 1, -1 do take[#take + 1] = p[j] end
            names[i] = table.concat(take, '/')
            if seen[names[i]] then clash = true end
            seen[names[i]] = true
        end
        if not clash or depth == 8 then return names end
    end
end

return M
