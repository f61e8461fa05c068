-- lpose.diagnostics.videos: the per-video section of the report. For one
-- video it reads every model's prediction CSV (and a given prediction CSV),
-- the synthetic generator's ground truth when there is one, and computes on
-- every frame: temporal norm, error against ground truth, occluded spans and
-- where the predictions disagree most. Only the drawn traces are thinned
-- (lpose.diagnostics.downsample); every number in a table uses all frames.
local config = require('lpose.config')
local metrics = require('lpose.metrics')
local files = require('lpose.files')
local stem_of = require('lpose.predict').stem
local model_dir = require('lpose.diagnostics.model_dir')
local downsample = require('lpose.diagnostics.downsample')

local M = {}

local nan = 0 / 0
local sqrt = math.sqrt

local function dirname(path) return path:match('^(.*)/[^/]*$') or '.' end

local function same_keypoints(names, keypoints)
    if #names ~= #keypoints then return false end
    for k = 1, #keypoints do if names[k] ~= keypoints[k] then return false end end
    return true
end

-- A prediction CSV as flat per-keypoint arrays: {x = {[k] = {...}}, y =, lik =, n =}
local function read_predictions(path, keypoints)
    local t, err = metrics.read_csv(path)
    if not t then return nil, err end
    if t.kind ~= 'predictions' then
        return nil, ('%s: not a prediction CSV (expected the scorer/bodyparts/coords header rows)'):format(path)
    end
    if not same_keypoints(t.keypoint_names, keypoints) then
        return nil, ('%s: keypoints %s differ from the models\' %s'):format(path,
            table.concat(t.keypoint_names, ','), table.concat(keypoints, ','))
    end
    local out = { n = #t.keypoints, x = {}, y = {}, lik = {} }
    for k = 1, #keypoints do
        local x, y, l = {}, {}, {}
        for f, row in ipairs(t.keypoints) do
            x[f], y[f], l[f] = row[k][1], row[k][2], t.likelihoods[f][k]
        end
        out.x[k], out.y[k], out.lik[k] = x, y, l
    end
    return out
end

local function mean(values)
    local s, n = 0, 0
    for _, v in ipairs(values) do if v == v then s, n = s + v, n + 1 end end
    return n > 0 and s / n or nan
end

-- Runs of frames where flags[f] == 1 -> {{first, last}, ...} (0-based frames)
local function spans(flags)
    local out, start = {}, nil
    for f = 1, #flags + 1 do
        local on = flags[f] == 1
        if on and not start then start = f end
        if not on and start then
            out[#out + 1] = { start - 1, f - 2 }
            start = nil
        end
    end
    return out
end

-- Where to look for videos_gt/<stem>.csv: beside the video's folder, then each model's data_dir.
local function find_truth(stem, video_path, models)
    local candidates = {}
    if video_path then candidates[#candidates + 1] = dirname(dirname(video_path)) .. '/videos_gt' end
    for _, m in ipairs(models) do
        local d = (m.cfg.data or {}).data_dir
        if type(d) == 'string' then candidates[#candidates + 1] = d .. '/videos_gt' end
    end
    for _, dir in ipairs(candidates) do
        local csv = dir .. '/' .. stem .. '.csv'
        if files.exists(csv) then
            local occ = dir .. '/' .. stem .. '_occluded.csv'
            return csv, files.exists(occ) and occ or nil
        end
    end
    return nil
end

--- videos.sources(spec, models) -> stem, sources, missing, video_path | nil, err
-- spec: a video file (each model's video_preds/<stem>.csv), a prediction CSV
-- (drawn as one more source beside the models' own CSVs of that stem, unless
-- it is one of them) or {stem=} (the models' CSVs of that stem).
-- missing: one line per model that has no prediction of the video.
function M.sources(spec, models)
    local stem, csv_spec, video_path
    if type(spec) == 'table' then
        stem = spec.stem
    else
        if not files.exists(spec) then return nil, ("--video '%s' does not exist"):format(spec) end
        stem = stem_of(spec)
        if spec:lower():match('%.csv$') then csv_spec = spec else video_path = spec end
    end
    local sources, missing = {}, {}
    for _, m in ipairs(models) do
        local csv = model_dir.video_csv(m, stem)
        if csv then
            sources[#sources + 1] = { label = m.name, csv = csv }
            if csv == csv_spec then csv_spec = nil end
        else
            missing[#missing + 1] = ('%s has no video_preds/%s.csv (run: lpose predict %s %s)'):format(
                m.name, stem, m.dir, video_path or ('<the video of ' .. stem .. '>'))
        end
    end
    if csv_spec then table.insert(sources, 1, { label = files.basename(csv_spec), csv = csv_spec }) end
    if #sources == 0 then
        return nil, ("no predictions of video '%s': %s"):format(video_path or stem, table.concat(missing, '; '))
    end
    return stem, sources, missing, video_path
end

-- Per frame: the mean over keypoints of the largest distance between two sources.
local function disagreement(preds, K, n)
    local per_frame, worst_k = {}, {}
    for f = 1, n do
        local sum, cnt, wk, wd = 0, 0, nil, -1
        for k = 1, K do
            local d = nan
            for a = 1, #preds do
                for b = a + 1, #preds do
                    local dx = preds[a].x[k][f] - preds[b].x[k][f]
                    local dy = preds[a].y[k][f] - preds[b].y[k][f]
                    local dd = sqrt(dx * dx + dy * dy)
                    if dd == dd and (d ~= d or dd > d) then d = dd end
                end
            end
            if d == d then
                sum, cnt = sum + d, cnt + 1
                if d > wd then wk, wd = k, d end
            end
        end
        per_frame[f] = cnt > 0 and sum / cnt or nan
        worst_k[f] = wk
    end
    return per_frame, worst_k
end

-- The `count` largest values, at least `gap` frames apart (a burst is one entry).
local function top_frames(values, count, gap)
    local order = {}
    for f, v in ipairs(values) do if v == v then order[#order + 1] = f end end
    table.sort(order, function(a, b) return values[a] > values[b] end)
    local picked = {}
    for _, f in ipairs(order) do
        local near = false
        for _, p in ipairs(picked) do if math.abs(p - f) < gap then near = true break end end
        if not near then picked[#picked + 1] = f end
        if #picked >= count then break end
    end
    return picked
end

--- videos.section(spec, models, keypoints, opts) -> section | nil, err
-- opts: buckets (drawn points per trace = 2 * buckets at most), top (disagreement
-- frames listed), threshold (likelihood threshold for the "low confidence" share).
function M.section(spec, models, keypoints, opts)
    local buckets, top, threshold = opts.buckets or 1500, opts.top or 10, opts.threshold
        or config.default('eval.confidence_thresh_for_vid')
    local stem, sources, missing, video_path = M.sources(spec, models)
    if not stem then return nil, sources end
    local K = #keypoints
    local preds, n = {}, nil
    for i, s in ipairs(sources) do
        local p, err = read_predictions(s.csv, keypoints)
        if not p then return nil, err end
        if n and p.n ~= n then
            return nil, ('%s has %d frames, %s has %d: not predictions of the same video'):format(
                s.csv, p.n, sources[1].csv, n)
        end
        n, preds[i] = p.n, p
    end
    local xs, bounds = downsample.grid(n, buckets)
    local section = { name = stem, video = video_path, n_frames = n, n_drawn = #xs, frames = xs,
                      missing = missing, threshold = threshold, sources = {} }

    local truth_csv, occluded_csv = find_truth(stem, video_path, models)
    local truth, occluded
    if truth_csv then
        local t, err = read_predictions(truth_csv, keypoints)
        if not t then return nil, err end
        if t.n ~= n then
            return nil, ('%s has %d frames, the predictions %d (%s)'):format(truth_csv, t.n, n, sources[1].csv)
        end
        truth = t
        section.truth = { csv = truth_csv, x = {}, y = {} }
        for k = 1, K do
            section.truth.x[k] = downsample.minmax(t.x[k], bounds)
            section.truth.y[k] = downsample.minmax(t.y[k], bounds)
        end
        if occluded_csv then
            local o, oerr = metrics.read_csv(occluded_csv)
            if not o then return nil, oerr end
            if #o.values ~= n then
                return nil, ('%s has %d frames, the predictions %d'):format(occluded_csv, #o.values, n)
            end
            occluded = {}
            section.occluded = { csv = occluded_csv, spans = {}, n = {} }
            for k = 1, K do
                local flags = {}
                for f = 1, n do flags[f] = o.values[f][k] end
                occluded[k] = flags
                section.occluded.spans[k] = spans(flags)
                local c = 0
                for f = 1, n do if flags[f] == 1 then c = c + 1 end end
                section.occluded.n[k] = c
            end
        end
    end

    for i, s in ipairs(sources) do
        local p = preds[i]
        local src = { label = s.label, csv = s.csv, traces = {}, stats = {} }
        for k = 1, K do
            local x, y, l = p.x[k], p.y[k], p.lik[k]
            local tn = { nan }
            for f = 2, n do
                local dx, dy = x[f] - x[f - 1], y[f] - y[f - 1]
                tn[f] = sqrt(dx * dx + dy * dy)
            end
            local low = 0
            for f = 1, n do
                local v = l[f]
                if v ~= v or v < threshold then low = low + 1 end -- a missing likelihood is low too
            end
            local st = { temporal_norm = mean(tn), likelihood = mean(l), low_share = n > 0 and low / n or nan }
            local tr = { x = downsample.minmax(x, bounds), y = downsample.minmax(y, bounds),
                         likelihood = downsample.minmax(l, bounds), temporal_norm = downsample.minmax(tn, bounds) }
            if truth then
                local err = {}
                local sum_o, n_o, sum_v, n_v = 0, 0, 0, 0
                for f = 1, n do
                    local dx, dy = x[f] - truth.x[k][f], y[f] - truth.y[k][f]
                    local e = sqrt(dx * dx + dy * dy)
                    err[f] = e
                    if e == e then
                        if occluded and occluded[k][f] == 1 then sum_o, n_o = sum_o + e, n_o + 1
                        else sum_v, n_v = sum_v + e, n_v + 1 end
                    end
                end
                st.error = mean(err)
                st.error_visible = n_v > 0 and sum_v / n_v or nan
                if occluded then st.error_occluded = n_o > 0 and sum_o / n_o or nan end
                tr.error = downsample.minmax(err, bounds)
            end
            src.traces[k], src.stats[k] = tr, st
        end
        section.sources[i] = src
    end

    if #preds >= 2 then
        local per_frame, worst_k = disagreement(preds, K, n)
        local d = { trace = downsample.minmax(per_frame, bounds), mean = mean(per_frame), top = {} }
        for _, f in ipairs(top_frames(per_frame, top, 10)) do
            local k = worst_k[f]
            local row = { frame = f - 1, value = per_frame[f], keypoint = keypoints[k], sources = {} }
            for i, p in ipairs(preds) do
                local e = false
                if truth then
                    local dx, dy = p.x[k][f] - truth.x[k][f], p.y[k][f] - truth.y[k][f]
                    e = sqrt(dx * dx + dy * dy)
                end
                row.sources[i] = { x = p.x[k][f], y = p.y[k][f], likelihood = p.lik[k][f], error = e,
                                   occluded = occluded and occluded[k][f] == 1 or false }
            end
            d.top[#d.top + 1] = row
        end
        section.disagreement = d
    end
    return section
end

--- videos.default_specs(models) -> {{stem=}, ...}: every video any model has in video_preds/
function M.default_specs(models)
    local seen, out = {}, {}
    for _, m in ipairs(models) do
        for _, stem in ipairs(model_dir.video_stems(m)) do
            if not seen[stem] then
                seen[stem] = true
                out[#out + 1] = { stem = stem }
            end
        end
    end
    return out
end

return M
