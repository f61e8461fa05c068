-- lpose.train.plot: loss_curves.png, written at the end of training in the
-- model directory. Every loss the run logged (metrics.csv: supervised and
-- unsupervised, raw and weighted, train and validation) against the step, with
-- the epochs on a second axis on top, drawn with lpose.plot.line. One panel per
-- family: total and supervised losses, unsupervised losses (when the run has
-- any), pixel RMSE. A panel whose values span a decade or more is log-scaled.
local plot = require('lpose.plot')

local M = {}

-- The family panel a metric name belongs to, or nil (learning rates, weights).
local function family(name)
    if name:find('rmse') then return 'rmse' end
    if not name:find('loss') then return nil end
    if name == 'total_loss' then return 'supervised' end
    if name:find('unsupervised') then return 'unsupervised' end
    if name:find('heatmap') or name:find('supervised') then return 'supervised' end
    return 'unsupervised'
end

local PANELS = {
    { key = 'supervised', title = 'Total and supervised losses', ylabel = 'loss (heatmap MSE units)' },
    { key = 'unsupervised', title = 'Unsupervised losses (raw and weighted)',
      ylabel = 'loss (temporal, PCA: pixels)' },
    { key = 'rmse', title = 'Supervised pixel error', ylabel = 'RMSE (pixels)' },
}

--- plot.read_metrics(csv_path) -> {name = {steps, values, stage}}, epoch_starts | nil, err
-- epoch_starts: {{epoch=, step=}, ...}, the first step logged in each epoch.
function M.read_metrics(csv_path)
    local f, err = io.open(csv_path, 'r')
    if not f then return nil, err end
    local series, first = {}, {}
    local lineno = 0
    for line in f:lines() do
        lineno = lineno + 1
        if lineno > 1 then
            local step, epoch, stage, name, value = line:match('^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$')
            step, epoch, value = tonumber(step), tonumber(epoch), tonumber(value)
            if step and epoch and name then
                local s = series[name]
                if not s then
                    s = { steps = {}, values = {}, stage = stage }
                    series[name] = s
                end
                s.steps[#s.steps + 1] = step
                s.values[#s.values + 1] = value or 0 / 0
                if not first[epoch] or step < first[epoch] then first[epoch] = step end
            end
        end
    end
    f:close()
    local starts = {}
    for epoch, step in pairs(first) do starts[#starts + 1] = { epoch = epoch, step = step } end
    table.sort(starts, function(a, b) return a.epoch < b.epoch end)
    return series, starts
end

-- The colour a train/val pair shares: the name without its stage prefix.
local function base_name(name) return (name:gsub('^train_', ''):gsub('^val_', '')) end

local function positive_span(list)
    local lo, hi = math.huge, -math.huge
    for _, s in ipairs(list) do
        for _, v in ipairs(s.y) do
            if v == v then
                if v <= 0 then return nil end
                lo, hi = math.min(lo, v), math.max(hi, v)
            end
        end
    end
    if lo == math.huge then return nil end
    return hi / lo
end

local TAB10 = { 0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf }

--- plot.loss_curves_from_csv(csv_path, png_path [, title]) -> png_path | nil, err
function M.loss_curves_from_csv(csv_path, png_path, title)
    local series, starts = M.read_metrics(csv_path)
    if not series then return nil, starts end
    local names = {}
    for name in pairs(series) do if family(name) then names[#names + 1] = name end end
    if #names == 0 then return nil, csv_path .. ': no losses logged' end
    table.sort(names)
    local colors, n_colors = {}, 0
    local panels = {}
    -- epochs on top: at most ~40 tick marks (labels that would overlap are dropped)
    local top
    if #starts > 1 then
        local every = math.max(1, math.ceil(#starts / 40))
        top = { label = 'epoch', x = {}, labels = {} }
        for i = 1, #starts, every do
            top.x[#top.x + 1] = starts[i].step
            top.labels[#top.labels + 1] = tostring(starts[i].epoch)
        end
    end
    for _, def in ipairs(PANELS) do
        local list = {}
        for _, name in ipairs(names) do
            if family(name) == def.key then
                local s = series[name]
                local base = base_name(name)
                if not colors[base] then
                    n_colors = n_colors + 1
                    colors[base] = TAB10[(n_colors - 1) % #TAB10 + 1]
                end
                local val = s.stage == 'val'
                list[#list + 1] = {
                    label = name .. (val and ' (per validation)' or ''), x = s.steps, y = s.values,
                    style = (val or #s.steps < 30) and 'line+markers' or 'line', color = colors[base],
                }
            end
        end
        if #list > 0 then
            local span = positive_span(list)
            panels[#panels + 1] = {
                title = def.title, xlabel = 'training step', ylabel = def.ylabel,
                log_y = span ~= nil and span >= 10, series = list, top_axis = top,
            }
        end
    end
    return plot.line{ path = png_path, title = title or 'Training losses', panels = panels, width = 1100,
        height = 40 + 340 * #panels }
end

--- plot.loss_curves(logger, path) -> path | nil, err
-- Reads the logger's metrics.csv, so a resumed run's curves include the steps
-- logged before the resume.
function M.loss_curves(logger, path)
    if not logger.dir then return nil, 'the logger writes no metrics.csv' end
    return M.loss_curves_from_csv(logger.dir .. '/metrics.csv', path)
end

return M
