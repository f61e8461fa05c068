-- lpose.report_frames: pictures of labeled frames with the ground truth and
-- the model's prediction drawn (lpose.plot.image), for the frames where the
-- model is worst: what a person looks at first after training. Written by
-- lpose.report.after_training into MODEL_DIR/worst_frames/.
local config = require('lpose.config')
local data = require('lpose.data')
local metrics = require('lpose.metrics')
local plot = require('lpose.plot')
local files = require('lpose.files')

local M = {}

local function mean_finite(row)
    local sum, n = 0, 0
    for _, v in ipairs(row) do if v == v then sum, n = sum + v, n + 1 end end
    return n > 0 and sum / n or nil
end

--- report_frames.worst(o) -> {paths} | nil, err
-- o = {labels_csv=, data_dir=, predictions_csv=, pixel_error_csv=, out_dir=, n=3,
--      set='test' (the `set` column's value to pick from; 'validation', then any
--      when it has no rows), skeleton=, confidence_thresh=0.9}
-- One PNG per frame, named <rank>_<folder>_<image stem>.png, titled with the image, its
-- set and its mean pixel error.
function M.worst(o)
    local labels, err = data.read_labels(o.labels_csv, { data_dir = o.data_dir })
    if not labels then return nil, err end
    local pred, perr = metrics.read_csv(o.predictions_csv)
    if not pred then return nil, perr end
    local pe, eerr = metrics.read_csv(o.pixel_error_csv)
    if not pe then return nil, eerr end
    local paths, names = labels:image_paths(), labels:keypoint_names()
    local truth = labels:keypoints():totable()
    labels:free()
    if #pred.keypoints ~= #paths or #pe.values ~= #paths then
        return nil, ('%s, %s and %s have different row counts'):format(o.labels_csv, o.predictions_csv,
            o.pixel_error_csv)
    end
    local function rows_of(set)
        local rows = {}
        for i = 1, #paths do
            local e = mean_finite(pe.values[i])
            if e and (set == nil or (pe.set and pe.set[i] == set)) then rows[#rows + 1] = { i = i, e = e } end
        end
        return rows
    end
    local rows = rows_of(o.set or 'test')
    if #rows == 0 then rows = rows_of('validation') end
    if #rows == 0 then rows = rows_of(nil) end
    table.sort(rows, function(a, b) return a.e > b.e end)
    local ok, derr = pcall(files.mkdir_p, o.out_dir)
    if not ok then return nil, derr end
    local written = {}
    for rank = 1, math.min(o.n or 3, #rows) do
        local i = rows[rank].i
        -- the image's path without labeled-data/ and its extension: names stay unique
        local stem = paths[i]:gsub('^labeled%-data/', ''):gsub('%.%w+$', ''):gsub('[/\\]', '_')
        local out = ('%s/%d_%s.png'):format(o.out_dir, rank, stem)
        local res, werr = plot.image{
            path = out, image = files.join(o.data_dir, paths[i]), names = names, skeleton = o.skeleton,
            confidence_thresh = o.confidence_thresh or config.default('eval.confidence_thresh_for_vid'),
            title = ('%s (%s): mean pixel error %.1f px'):format(paths[i], pe.set and pe.set[i] or 'all',
                rows[rank].e),
            keypoints = {
                { label = 'ground truth', xy = truth[i] },
                { label = 'prediction', xy = pred.keypoints[i], confidence = pred.likelihoods[i] },
            },
        }
        if not res then return nil, werr end
        written[#written + 1] = res
    end
    return written
end

return M
