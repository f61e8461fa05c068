-- lpose.metrics: Lightning Pose's metrics on predictions in original-frame
-- pixels (docs/spec/lp-model.md §6), and a reader for lpose/LP output CSVs.
--
--   local metrics = require('lpose.metrics')
--   local t = assert(metrics.read_csv('video_preds/test.csv'))
--   local tn = metrics.temporal_norm(t.keypoints)   -- tn[1][k] is NaN
--
-- PCA reprojection metrics use lpose.losses.pca (LP's NaNPCA).
-- Docs: docs/reference/lua/predict.md.
local ffi = require('ffi')
local lp = require('lpose.C')

local C = lp.lib
local M = {}
local nan = 0 / 0

--- lpose.metrics.distance(x, y, tx, ty) -> Euclidean distance (NaN if any is NaN)
function M.distance(x, y, tx, ty)
    local dx, dy = x - tx, y - ty
    return math.sqrt(dx * dx + dy * dy)
end

--- lpose.metrics.pixel_error(pred, truth) -> {{e_k, ...}, ...}
-- pred, truth: frames num_keypoints 2 as nested Lua tables {{{x, y}, ...}, ...}.
-- LP's pixel_error: ||p - t||_2 per (frame, keypoint), NaN where the label is NaN.
function M.pixel_error(pred, truth)
    local out = {}
    for i = 1, #pred do
        local r = {}
        for k = 1, #pred[i] do
            r[k] = M.distance(pred[i][k][1], pred[i][k][2], truth[i][k][1], truth[i][k][2])
        end
        out[i] = r
    end
    return out
end

--- lpose.metrics.temporal_norm(pred) -> {{NaN, ...}, {d_k, ...}, ...}
-- LP's temporal_norm: ||p_t - p_{t-1}||_2 per keypoint, row 1 (frame 0) NaN.
function M.temporal_norm(pred)
    local out = {}
    for i = 1, #pred do
        local r = {}
        for k = 1, #pred[i] do
            if i == 1 then
                r[k] = nan
            else
                r[k] = M.distance(pred[i][k][1], pred[i][k][2], pred[i - 1][k][1], pred[i - 1][k][2])
            end
        end
        out[i] = r
    end
    return out
end

--- lpose.metrics.read_csv(path) -> table | nil, err
-- Reads a predictions CSV (3-row header) or a metric CSV (one-row header) written
-- by lpose or LP. table = {kind = 'predictions' | 'metric', scorer =, keypoint_names =,
-- index = {...}, set = {...} | nil, keypoints = {{{x, y}, ...}, ...} and
-- likelihoods = {{l, ...}, ...} (predictions) or values = {{v, ...}, ...} (metric)}.
-- Empty fields are NaN.
function M.read_csv(path)
    if type(path) ~= 'string' then lp.argerror('lpose.metrics.read_csv', 'expected a path') end
    local out = ffi.new('lp_csv_table*[1]')
    if C.lp_csv_table_read(path, out) ~= 0 then return nil, lp.last_error() end
    local t = ffi.gc(out[0], C.lp_csv_table_free)
    local kind = C.lp_csv_table_kind(t) == C.LP_CSV_PREDICTIONS and 'predictions' or 'metric'
    local K = C.lp_csv_table_n_keypoints(t)
    local n = tonumber(C.lp_csv_table_n_rows(t))
    local res = { kind = kind, scorer = ffi.string(C.lp_csv_table_scorer(t)), keypoint_names = {}, index = {} }
    for k = 1, K do res.keypoint_names[k] = ffi.string(C.lp_csv_table_keypoint_name(t, k - 1)) end
    local has_set = C.lp_csv_table_has_set(t) == 1
    if has_set then res.set = {} end
    local v = C.lp_csv_table_values(t)
    local nv = kind == 'predictions' and 3 * K or K
    if kind == 'predictions' then res.keypoints, res.likelihoods = {}, {} else res.values = {} end
    for i = 1, n do
        res.index[i] = ffi.string(C.lp_csv_table_index(t, i - 1))
        if has_set then res.set[i] = ffi.string(C.lp_csv_table_set(t, i - 1)) end
        local base = (i - 1) * nv
        if kind == 'predictions' then
            local kp, l = {}, {}
            for k = 1, K do
                kp[k] = { v[base + 3 * (k - 1)], v[base + 3 * (k - 1) + 1] }
                l[k] = v[base + 3 * (k - 1) + 2]
            end
            res.keypoints[i], res.likelihoods[i] = kp, l
        else
            local r = {}
            for k = 1, K do r[k] = v[base + k - 1] end
            res.values[i] = r
        end
    end
    C.lp_csv_table_free(ffi.gc(t, nil))
    return res
end


---------------------------------------------------------------------------- PCA

local function kp_tensor(kp)
    local tensor = require('lpose.tensor')
    if tensor.is_tensor(kp) then return kp:double() end
    return tensor.new(kp, { dtype = 'f64' })
end

local function nan_table(n, K)
    local out = {}
    for i = 1, n do
        local r = {}
        for k = 1, K do r[k] = nan end
        out[i] = r
    end
    return out
end

--- lpose.metrics.pca_singleview_error(keypoints, pca, columns [, centering_method]) -> frames K
-- LP's pca_singleview_reprojection_error: keypoints (frames K 2, tensor or nested
-- tables, original pixels) formatted over the 0-based `columns`, reprojected with the
-- fitted PCA (lpose.losses.pca), ||x - r||_2 per keypoint; NaN for other keypoints.
function M.pca_singleview_error(keypoints, pca_obj, columns, centering_method)
    local pca = require('lpose.losses.pca')
    local kp = kp_tensor(keypoints)
    local n, K = kp:size(1), kp:size(2)
    local e = pca_obj:reprojection_error(pca.format_singleview(kp, columns, centering_method)):totable()
    local out = nan_table(n, K)
    local cols = columns
    if cols == nil or #cols == 0 then
        cols = {}
        for k = 1, K do cols[k] = k - 1 end
    end
    for i = 1, n do
        for j, c in ipairs(cols) do out[i][c + 1] = e[i][j] end
    end
    return out
end

--- lpose.metrics.pca_multiview_error(keypoints, pca, mirrored_column_matches) -> frames K
-- LP's pca_multiview_reprojection_error: one row per (frame, body part) with every
-- view's x, y; the per-view errors are scattered back to (frame, keypoint).
function M.pca_multiview_error(keypoints, pca_obj, matches)
    local pca = require('lpose.losses.pca')
    local kp = kp_tensor(keypoints)
    local n, K = kp:size(1), kp:size(2)
    local e = pca_obj:reprojection_error(pca.format_multiview(kp, matches)):totable()
    local out = nan_table(n, K)
    local nsel = #matches[1]
    for i = 1, n do
        for j = 1, nsel do
            local r = e[(i - 1) * nsel + j]
            for v, cols in ipairs(matches) do out[i][cols[j] + 1] = r[v] end
        end
    end
    return out
end

--- lpose.metrics.fit_pca(cfg, train_keypoints) -> {singleview=, multiview=}
-- Fits the PCA metrics LP computes for this config: singleview when
-- data.columns_for_singleview_pca is non-empty (losses.pca_singleview.components_to_keep,
-- default 0.99), multiview when data.mirrored_column_matches is non-empty (3
-- components, as LP). train_keypoints: frames K 2 of the train split (LP fits in
-- resized model-input coordinates). Either entry may be nil.
function M.fit_pca(cfg, train_keypoints)
    local pca = require('lpose.losses.pca')
    local data = cfg and cfg.data or {}
    local losses = cfg and cfg.losses or {}
    local kp = kp_tensor(train_keypoints)
    local out = {}
    local cols = data.columns_for_singleview_pca
    if type(cols) == 'table' and #cols > 0 then
        local sv = losses.pca_singleview or {}
        local centering = sv.centering_method
        if type(centering) ~= 'string' then centering = nil end
        local keep = type(sv.components_to_keep) == 'number' and sv.components_to_keep
            or require('lpose.config').default('losses.pca_singleview.components_to_keep')
        out.singleview = { pca = pca.fit(pca.format_singleview(kp, cols, centering), keep),
                           columns = cols, centering_method = centering }
    end
    local matches = data.mirrored_column_matches
    if type(matches) == 'table' and #matches > 0 then
        out.multiview = { pca = pca.fit(pca.format_multiview(kp, matches), 3), mirrored_column_matches = matches }
    end
    return out
end

--- lpose.metrics.write_csv(path, keypoint_names, values [, index [, sets]]) -> true | nil, err
-- A metric CSV as LP writes it: one header row (empty cell, names[, set]), then the
-- index (default 0, 1, ...) and one value per keypoint (NaN -> empty), atomically.
function M.write_csv(path, names, values, index, sets)
    local K = #names
    local arr = ffi.new('const char*[?]', K)
    for k = 1, K do arr[k - 1] = names[k] end
    local w = ffi.new('lp_csv_writer*[1]')
    if C.lp_csv_writer_open(path, C.LP_CSV_METRIC, nil, K, arr, sets and 1 or 0, w) ~= 0 then
        return nil, lp.last_error()
    end
    local wr = ffi.gc(w[0], C.lp_csv_writer_free)
    local row = ffi.new('float[?]', K)
    for i = 1, #values do
        for k = 1, K do row[k - 1] = values[i][k] end
        if C.lp_csv_writer_write_row(wr, index and index[i] or nil, row, sets and sets[i] or nil) ~= 0 then
            return nil, lp.last_error()
        end
    end
    local st = C.lp_csv_writer_close(wr)
    if st ~= 0 then return nil, lp.last_error() end
    return true
end

--- lpose.metrics.pca_csvs(pred_csv, pcas, prefix) -> {singleview=path, multiview=path} | nil, err
-- For a predictions CSV, writes <prefix>_pca_singleview_error.csv and/or
-- <prefix>_pca_multiview_error.csv for the entries of pcas (from fit_pca).
-- Reads the whole CSV (frames x K numbers).
function M.pca_csvs(pred_csv, pcas, prefix)
    local t, err = M.read_csv(pred_csv)
    if not t then return nil, err end
    local out = {}
    local index = t.index
    local sets = t.set
    if pcas.singleview then
        local p = pcas.singleview
        local v = M.pca_singleview_error(t.keypoints, p.pca, p.columns, p.centering_method)
        out.singleview = prefix .. '_pca_singleview_error.csv'
        local ok, e = M.write_csv(out.singleview, t.keypoint_names, v, index, sets)
        if not ok then return nil, e end
    end
    if pcas.multiview then
        local p = pcas.multiview
        local v = M.pca_multiview_error(t.keypoints, p.pca, p.mirrored_column_matches)
        out.multiview = prefix .. '_pca_multiview_error.csv'
        local ok, e = M.write_csv(out.multiview, t.keypoint_names, v, index, sets)
        if not ok then return nil, e end
    end
    return out
end

return M
