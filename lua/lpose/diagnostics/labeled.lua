-- lpose.diagnostics.labeled: the labeled frames' section of the report:
-- pixel error per keypoint and split (LP's diagnostics: predictions_pixel_error.csv
-- of each model) and a gallery of the worst held-out frames with the image,
-- the ground truth and every model's prediction.
local metrics = require('lpose.metrics')
local files = require('lpose.files')
local model_dir = require('lpose.diagnostics.model_dir')
local base64 = require('lpose.diagnostics.base64')

local M = {}

local SPLITS = { 'train', 'validation', 'test' }

local function quantile(sorted, q)
    local n = #sorted
    if n == 0 then return 0 / 0 end
    local pos = 1 + (n - 1) * q -- linear interpolation, numpy's default
    local lo = math.floor(pos)
    local hi = math.min(lo + 1, n)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
end

--- labeled.summary(values) -> {n=, mean=, median=, q1=, q3=, p5=, p95=} over the finite values
function M.summary(values)
    local s, sum = {}, 0
    for _, v in ipairs(values) do
        if v == v then s[#s + 1], sum = v, sum + v end
    end
    table.sort(s)
    return { n = #s, mean = #s > 0 and sum / #s or 0 / 0, median = quantile(s, 0.5), q1 = quantile(s, 0.25),
             q3 = quantile(s, 0.75), p5 = quantile(s, 0.05), p95 = quantile(s, 0.95) }
end

-- predictions_pixel_error.csv of one model -> table with .set, checked against the keypoints
local function read_errors(model, keypoints)
    local t, err = metrics.read_csv(model.pixel_error_csv)
    if not t then return nil, err end
    if not t.set then return nil, model.pixel_error_csv .. ": no 'set' column (train/validation/test)" end
    local same = #t.keypoint_names == #keypoints
    for k = 1, #keypoints do same = same and t.keypoint_names[k] == keypoints[k] end
    if not same then
        return nil, ('%s: keypoints %s, expected %s'):format(model.pixel_error_csv,
            table.concat(t.keypoint_names, ','), table.concat(keypoints, ','))
    end
    return t
end

--- labeled.errors(models, keypoints) -> section | nil, err
-- section = {splits = {...}, models = {{name=, stats = {[split] = {keypoints = {summary, ...}, all = summary}}}}}
-- (one summary per keypoint, and one over all keypoints)
-- for the models that predicted their labeled frames; section.missing names the others.
function M.errors(models, keypoints)
    local out = { splits = SPLITS, keypoints = keypoints, models = {}, missing = {} }
    for _, m in ipairs(models) do
        if not m.pixel_error_csv then
            out.missing[#out.missing + 1] = m.name .. ' (no predictions_pixel_error.csv in ' .. m.dir .. ')'
        else
            local t, err = read_errors(m, keypoints)
            if not t then return nil, err end
            m.pixel_errors = t
            local stats = {}
            for _, split in ipairs(SPLITS) do
                local per_k, all = {}, {}
                for k = 1, #keypoints do
                    local col = {}
                    for i, row in ipairs(t.values) do
                        if t.set[i] == split then
                            col[#col + 1] = row[k]
                            all[#all + 1] = row[k]
                        end
                    end
                    per_k[k] = M.summary(col)
                end
                stats[split] = { keypoints = per_k, all = M.summary(all) }
            end
            out.models[#out.models + 1] = { name = m.name, stats = stats }
        end
    end
    return out
end

local MIME = { png = 'image/png', jpg = 'image/jpeg', jpeg = 'image/jpeg', bmp = 'image/bmp', gif = 'image/gif' }

local function data_uri(path)
    local ext = (path:match('%.(%w+)$') or ''):lower()
    local mime = MIME[ext]
    if not mime then return nil end
    local f = io.open(path, 'rb')
    if not f then return nil end
    local bytes = f:read('*a')
    f:close()
    return 'data:' .. mime .. ';base64,' .. base64.encode(bytes)
end

-- image path -> {{x, y}, ...} ground truth from the labels CSV the first model names
local function ground_truth(models)
    for _, m in ipairs(models) do
        local csv, data_dir = model_dir.labels(m.cfg)
        if csv and files.exists(csv) then
            local labels = require('lpose.data').read_labels(csv)
            if labels then
                local paths, kp = labels:image_paths(), labels:keypoints():totable()
                labels:free()
                local by_path = {}
                for i, p in ipairs(paths) do by_path[p] = kp[i] end
                return by_path, data_dir, csv
            end
        end
    end
    return nil
end

local function nan_to_false(v) return v == v and v or false end

--- labeled.gallery(models, keypoints, {size=}) -> gallery
-- The `size` labeled frames of the validation and test splits (train when
-- there are none) with the largest mean pixel error averaged over the models,
-- each with its image as a data: URI, ground truth and every model's
-- prediction. gallery = {frames = {{path=, set=, image=, truth=, preds = {...}, errors = {...}}}, note=}
function M.gallery(models, keypoints, opts)
    local size = opts and opts.size or 12
    local with = {}
    for _, m in ipairs(models) do
        if m.pixel_errors then with[#with + 1] = m end
    end
    if #with == 0 then return { frames = {}, note = 'no model predicted its labeled frames' } end
    local preds = {}
    for i, m in ipairs(with) do
        local t, err = metrics.read_csv(m.labeled_csv)
        if not t then return nil, err end
        preds[i] = {}
        for r, path in ipairs(t.index) do preds[i][path] = { t.keypoints[r], t.likelihoods[r] } end
    end
    -- score every frame every model predicted: mean over keypoints, then over models
    local rows = {}
    local first = with[1].pixel_errors
    for r, path in ipairs(first.index) do
        local total, n, ok = 0, 0, true
        local errs = {}
        for i, m in ipairs(with) do
            local t = m.pixel_errors
            local row = t.index[r] == path and t.values[r] or nil
            if not row then
                for rr, p in ipairs(t.index) do if p == path then row = t.values[rr] break end end
            end
            if not row or not preds[i][path] then ok = false break end
            local s, c = 0, 0
            for _, v in ipairs(row) do if v == v then s, c = s + v, c + 1 end end
            errs[i] = c > 0 and s / c or 0 / 0
            if c > 0 then total, n = total + errs[i], n + 1 end
        end
        if ok and n > 0 then rows[#rows + 1] = { path = path, set = first.set[r], score = total / n, errs = errs } end
    end
    local held_out = {}
    for _, row in ipairs(rows) do
        if row.set == 'validation' or row.set == 'test' then held_out[#held_out + 1] = row end
    end
    local note = 'the worst validation and test frames by mean pixel error over the models'
    if #held_out == 0 then held_out, note = rows, 'no validation or test frames: the worst train frames' end
    table.sort(held_out, function(a, b) return a.score > b.score end)

    local truth, data_dir = ground_truth(with)
    local gallery = { frames = {}, note = note, n_candidates = #held_out }
    for j = 1, math.min(size, #held_out) do
        local row = held_out[j]
        local frame = { path = row.path, set = row.set, score = row.score, preds = {}, errors = {} }
        if data_dir then frame.image = data_uri(files.join(data_dir, row.path)) end
        if truth and truth[row.path] then
            frame.truth = {}
            for k, xy in ipairs(truth[row.path]) do frame.truth[k] = { nan_to_false(xy[1]), nan_to_false(xy[2]) } end
        end
        for i, m in ipairs(with) do
            local kp, lik = preds[i][row.path][1], preds[i][row.path][2]
            local p = {}
            for k = 1, #keypoints do p[k] = { nan_to_false(kp[k][1]), nan_to_false(kp[k][2]), nan_to_false(lik[k]) } end
            frame.preds[i] = { model = m.name, keypoints = p, mean_error = row.errs[i] }
        end
        gallery.frames[#gallery.frames + 1] = frame
    end
    if not data_dir then gallery.note = note .. ' (no image: the config names no data.data_dir)' end
    return gallery
end

return M
