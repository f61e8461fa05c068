-- lpose.diagnostics.losses: the report's training curves from each model's
-- metrics.csv: one chart per quantity (train_X and val_X share the chart of
-- X), every model's series on it, losses first, then the schedules (learning
-- rates, loss weights). The steps of all series are joined on one axis, as
-- uPlot wants; a series has no value (null) at the steps it was not logged.
local downsample = require('lpose.diagnostics.downsample')

local M = {}

local nan = 0 / 0

local function base_name(name) return (name:gsub('^train_', ''):gsub('^val_', '')) end

local function is_loss(name) return name:find('loss', 1, true) ~= nil or name:find('rmse', 1, true) ~= nil end

--- losses.charts(models, {buckets=}) -> {chart, ...}
-- chart = {title=, kind='loss'|'schedule', log=, steps=, n_steps=, series = {{label=, model=, stage=, values=}}}
function M.charts(models, opts)
    local buckets = opts and opts.buckets or 1500
    local order, groups = {}, {}
    for mi, m in ipairs(models) do
        for _, key in ipairs(m.metrics.names) do
            local s = m.metrics.series[key]
            local base = base_name(s.name)
            local g = groups[base]
            if not g then
                g = { title = base, kind = is_loss(base) and 'loss' or 'schedule', members = {} }
                groups[base] = g
                order[#order + 1] = base
            end
            -- a name without train_/val_ (total_loss, heatmap_mse_weight) says its stage in the label
            local label = s.name == base and (s.stage .. ' ' .. s.name) or s.name
            g.members[#g.members + 1] = { model = mi, label = m.name .. ' · ' .. label, stage = s.stage, s = s }
        end
    end
    local first = {}
    for i, base in ipairs(order) do first[base] = i end
    table.sort(order, function(a, b) -- losses first, then in the order they were logged
        local ka, kb = groups[a].kind, groups[b].kind
        if ka ~= kb then return ka == 'loss' end
        return first[a] < first[b]
    end)
    local charts = {}
    for _, base in ipairs(order) do
        local g = groups[base]
        -- the union of steps, then each series on it
        local seen, steps = {}, {}
        for _, mem in ipairs(g.members) do
            for _, st in ipairs(mem.s.steps) do
                if not seen[st] then seen[st] = true steps[#steps + 1] = st end
            end
        end
        table.sort(steps)
        local at = {}
        for i, st in ipairs(steps) do at[st] = i end
        local _, bounds = downsample.grid(#steps, buckets)
        local xs = bounds and {} or steps
        if bounds then
            for b, r in ipairs(bounds) do
                xs[2 * b - 1], xs[2 * b] = steps[r[1]], steps[r[1] + math.floor((r[2] - r[1] + 1) / 2)]
            end
        end
        local chart = { title = base, kind = g.kind, steps = xs, n_steps = #steps, series = {}, log = g.kind == 'loss' }
        for _, mem in ipairs(g.members) do
            local values = {}
            for i = 1, #steps do values[i] = nan end
            for i, st in ipairs(mem.s.steps) do
                local v = mem.s.values[i]
                values[at[st]] = v
                if v == v and v <= 0 then chart.log = false end -- a log axis needs positive values
            end
            chart.series[#chart.series + 1] = { label = mem.label, model = mem.model, stage = mem.stage,
                                                values = downsample.minmax(values, bounds) }
        end
        charts[#charts + 1] = chart
    end
    return charts
end

return M
