-- lpose.predict: video and labeled-frame prediction in Lightning Pose's output
-- formats (docs/spec/lp-data-train.md §3.4-3.7). The work is done in C: a background
-- thread decodes windows of T frames, the backbone runs once per frame (the
-- TCN carries the last 4 frames' features into the next window) and CSV rows
-- are written as they come, so memory does not grow with the video length.
--
--   local predict = require('lpose.predict')
--   local res = assert(predict.video(model, 'videos/test.mp4', {output_dir = 'video_preds'}))
--   print(res.csv, res.n_frames, res.fps_model)
--
-- Docs: docs/reference/lua/predict.md, docs/guides/prediction.md.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local config = require('lpose.config')

local C, argerror = lp.lib, lp.argerror

local M = {}

local out1 = ffi.new('lp_tensor*[1]')
local out2 = ffi.new('lp_tensor*[1]')

M.edges = { lp = C.LP_PREDICT_EDGE_LP, pad = C.LP_PREDICT_EDGE_PAD }

---------------------------------------------------------------------------- helpers

--- lpose.predict.stem(path) -> file name without folder and extension
function M.stem(path)
    local base = path:match('([^/]+)$') or path
    return (base:gsub('%.[^.]*$', ''))
end

--- lpose.predict.mkdir(path) -> true | nil, err (mkdir -p): lpose.files.try_mkdir_p, kept by this name
M.mkdir = require('lpose.files').try_mkdir_p

local function model_handle(model, fname)
    local box = type(model) == 'table' and rawget(model, 'box')
    if not box or box.h == nil then argerror(fname, 'expected an lpose model (lpose.models.new / load)') end
    return box.h
end

local function cfg_get(cfg, ...)
    local t = cfg
    for i = 1, select('#', ...) do
        if type(t) ~= 'table' then return nil end
        t = t[select(i, ...)]
    end
    return t
end

-- K names as a const char*[] (kept alive by the returned anchor table).
local function names_array(names, K, fname)
    if names == nil then return nil, nil end
    if type(names) ~= 'table' or #names ~= K then
        argerror(fname, ('keypoint_names must be a list of %d names'):format(K))
    end
    local arr = ffi.new('const char*[?]', K)
    for i = 1, K do arr[i - 1] = names[i] end
    return arr, names
end

local function device_of(opts, model, fname)
    if opts.device == nil or opts.device == 'auto' then return end
    local ok, err = pcall(model.to, model, opts.device)
    if not ok then argerror(fname, 'device: ' .. tostring(err)) end
end

local file_exists = require('lpose.files').exists

---------------------------------------------------------------------------- video

-- The body of predict.video and predict.video_ensemble: the models on one
-- video (one decode for all), then each model's metrics and labeled video.
--- lpose.predict.precisions: the names opts.precision takes
M.precisions = { f32 = C.LP_PREDICT_F32, int8 = C.LP_PREDICT_INT8 }

local function precision_of(opts, fname)
    local v = M.precisions[opts.precision or 'f32']
    if v == nil then argerror(fname, "precision must be 'f32' or 'int8'") end
    return v
end

local function predict_videos(fname, models, video_path, opts, dirs)
    if type(video_path) ~= 'string' then argerror(fname, 'expected a video path') end
    local model = models[1]
    local handles = ffi.new('lp_model*[?]', #models)
    for i, m in ipairs(models) do
        handles[i - 1] = model_handle(m, fname)
        device_of(opts, m, fname)
    end
    local cfg = model.cfg
    local conf = model:config()
    local K = conf.num_keypoints
    local names_c, anchor = names_array(opts.keypoint_names or cfg_get(cfg, 'data', 'keypoint_names'), K, fname)
    local p = ffi.new('lp_predict_params[1]', C.lp_predict_default_params())
    local T = opts.sequence_length or config.get_or_default(cfg, 'dali.context.predict.sequence_length')
    if type(T) ~= 'number' or T % 1 ~= 0 then argerror(fname, 'sequence_length must be an integer') end
    p[0].sequence_length = T
    local edge = opts.edge or 'lp'
    if M.edges[edge] == nil then argerror(fname, "edge must be 'lp' or 'pad'") end
    p[0].edge = M.edges[edge]
    p[0].prefetch = opts.prefetch == false and 0 or 1
    p[0].precision = precision_of(opts, fname)
    local thresh = opts.confidence_thresh or config.get_or_default(cfg, 'eval.confidence_thresh_for_vid')
    if type(thresh) ~= 'number' then argerror(fname, 'confidence_thresh must be a number') end
    local skeleton = opts.skeleton or cfg_get(cfg, 'data', 'skeleton')

    if not file_exists(video_path) then
        return nil, ("%s: cannot open video '%s': no such file"):format(fname, video_path)
    end
    local written = opts.written
    if written ~= nil and type(written) ~= 'table' then argerror(fname, 'written must be a table') end
    written = written or {}
    local stem = M.stem(video_path)
    local results = {}
    local csvs, norms = ffi.new('const char*[?]', #models), ffi.new('const char*[?]', #models)
    for i, dir in ipairs(dirs) do
        local ok, err = M.mkdir(dir)
        if not ok then return nil, fname .. ': ' .. err end
        results[i] = {
            csv = dir .. '/' .. stem .. '.csv',
            temporal_norm = opts.metrics ~= false and (dir .. '/' .. stem .. '_temporal_norm.csv') or nil,
            warnings = {},
        }
        csvs[i - 1], norms[i - 1] = results[i].csv, results[i].temporal_norm
    end
    local stats = ffi.new('lp_predict_stats[?]', #models)
    local st = C.lp_predict_video_ensemble(handles, #models, video_path, p, names_c, nil, csvs,
        opts.metrics ~= false and norms or nil, stats)
    local _ = { anchor, results }
    if st == C.LP_STATUS_INTERRUPTED then lp.check(st) end
    if st ~= 0 then return nil, lp.last_error() end
    for i, res in ipairs(results) do
        written[#written + 1] = res.csv
        written[#written + 1] = res.temporal_norm
        local s = stats[i - 1]
        res.n_frames = tonumber(s.n_frames)
        res.n_backbone_frames = tonumber(s.n_backbone_frames)
        res.seconds, res.seconds_model, res.seconds_wait = s.seconds_total, s.seconds_model, s.seconds_wait
        res.seconds_backbone, res.seconds_heads, res.seconds_decode = s.seconds_backbone, s.seconds_heads,
            s.seconds_decode
        res.fps_model = res.seconds_model > 0 and res.n_frames / res.seconds_model or math.huge
        res.fps_total = res.seconds > 0 and res.n_frames / res.seconds or math.huge
        res.width, res.height, res.fps = s.width, s.height, s.fps
        local ar_video = s.width / s.height
        local ar_model = conf.image_width / conf.image_height
        if math.abs(ar_video / ar_model - 1) > 0.1 then
            res.warnings[#res.warnings + 1] = ("%s is %dx%d (aspect %.3f) but the model input is %dx%d (aspect %.3f): "
                .. "frames were resized, keypoints may be less accurate"):format(video_path, s.width, s.height,
                ar_video, conf.image_width, conf.image_height, ar_model)
        end
        local base = dirs[i] .. '/' .. stem
        if opts.pca and (opts.pca.singleview or opts.pca.multiview) then
            local files, perr = require('lpose.metrics').pca_csvs(res.csv, opts.pca, base)
            if not files then return nil, perr end
            res.pca_singleview, res.pca_multiview = files.singleview, files.multiview
            written[#written + 1] = files.singleview
            written[#written + 1] = files.multiview
        end
        if opts.label_video then
            res.labeled_video = base .. '_labeled.mp4'
            local drawn, derr = M.draw_video(video_path, res.csv, res.labeled_video, thresh, skeleton)
            if not drawn then return nil, derr end
            written[#written + 1] = res.labeled_video
        end
    end
    return results
end

--- lpose.predict.video(model, video_path, opts) -> result | nil, err
-- Predict every frame of a video and write LP's files into opts.output_dir
-- (default 'video_preds'): <stem>.csv (3-row header, one row per frame),
-- <stem>_temporal_norm.csv (unless opts.metrics == false) and, with
-- opts.label_video, <stem>_labeled.mp4.
-- opts: output_dir, sequence_length (T; default cfg.dali.context.predict.sequence_length,
-- else config_default.yaml's), edge ('lp': frame i gets clamp(i, 2, N-3), LP's rule; 'pad': replicate the
-- first/last frame), label_video, confidence_thresh (cfg.eval.confidence_thresh_for_vid
-- or 0.9), skeleton ({{name, name}, ...}: lines on the labeled video; cfg.data.skeleton),
-- keypoint_names (cfg.data.keypoint_names), device, prefetch (true), precision ('f32', or
-- 'int8': the backbone in int8 on the CPU, calibrated on the video's first window;
-- docs/reference/int8.md),
-- metrics (true), pca (from lpose.metrics.fit_pca: also write
-- <stem>_pca_singleview_error.csv / <stem>_pca_multiview_error.csv).
-- result = {csv=, temporal_norm=, pca_singleview=, pca_multiview=, labeled_video=, n_frames=, n_backbone_frames=,
-- fps_model= (frames per second in the model), fps_total=, seconds=, seconds_model=,
-- seconds_wait=, seconds_backbone=, seconds_heads=, seconds_decode= (the parts of seconds_model;
-- see profile_text), width=, height=, fps= (the video's), warnings = {...}}.
-- Videos of any size are resized to the model input; a warning is added when the
-- aspect ratio differs by more than 10 %. Videos shorter than 5 frames are
-- predicted with edge = 'pad' (LP cannot predict them).
-- opts.written: a list that receives each output path once that file is complete
-- under its final name, so that a caller interrupted half-way can remove them.
-- An interrupt (Ctrl-C or SIGTERM in the lpose executable, lp_interrupt_request)
-- raises "...: interrupted!"; the file being written is removed, never left
-- half-written under its final name.
function M.video(model, video_path, opts)
    opts = opts or {}
    if type(opts) ~= 'table' then argerror('lpose.predict.video', 'opts must be a table') end
    local res, err = predict_videos('lpose.predict.video', { model }, video_path, opts,
        { opts.output_dir or 'video_preds' })
    return res and res[1], err
end

--- lpose.predict.video_ensemble(models, video_path, opts) -> {result per model} | nil, err
-- The members of an ensemble on one video, each frame decoded once for all of
-- them: each window is decoded once and run through every model in turn, so the
-- cost is the models' and one decode. opts as lpose.predict.video, with
-- opts.output_dirs (one folder per model) instead of output_dir; sequence_length,
-- edge, confidence_thresh and keypoint_names come from the first model's config.
-- The models must share the input size, as they cut the same windows (TCN and
-- single-frame models may be mixed); else: predict them one by one.
function M.video_ensemble(models, video_path, opts)
    local fname = 'lpose.predict.video_ensemble'
    opts = opts or {}
    if type(models) ~= 'table' or #models < 1 then argerror(fname, 'expected a list of models') end
    if type(opts) ~= 'table' then argerror(fname, 'opts must be a table') end
    if type(opts.output_dirs) ~= 'table' or #opts.output_dirs ~= #models then
        argerror(fname, ('opts.output_dirs must list one folder per model (%d)'):format(#models))
    end
    return predict_videos(fname, models, video_path, opts, opts.output_dirs)
end

--- lpose.predict.profile_text(result) -> string
-- Where a video's prediction time went (lpose predict --profile): the wall time
-- split into waiting for decoded and resized frames, the model (backbone, heads,
-- heatmap decode, and the TCN's window bookkeeping), and the rest (opening the
-- video, writing the CSVs). Each part is a share of the total, so a slow step
-- shows at once.
function M.profile_text(res)
    local total = res.seconds
    local function part(name, sec)
        return ('%s %.2f s (%.0f %%)'):format(name, sec, total > 0 and 100 * sec / total or 0)
    end
    local windows = res.seconds_model - res.seconds_backbone - res.seconds_heads - res.seconds_decode
    return ('time %.2f s: %s, %s, %s, %s, %s, %s'):format(total, part('waiting for frames', res.seconds_wait),
        part('backbone', res.seconds_backbone), part('heads', res.seconds_heads),
        part('heatmap decode', res.seconds_decode), part('windows', windows),
        part('other', total - res.seconds_wait - res.seconds_model))
end

--- lpose.predict.draw_video(video_path, csv_path, out_path [, confidence_thresh [, skeleton]]) -> true | nil, err
-- LP's labeled video, explained: keypoints as circles of radius 4, one colour each,
-- hollow below the threshold (0.9; LP hides them); skeleton {{name, name}, ...}
-- (names of the CSV header) as lines; a legend panel at the right with the keypoint
-- names and the threshold; the frame number. Small videos are upsampled x2.5 / x2.
-- An unknown skeleton name returns nil, err naming it and the CSV's keypoints.
function M.draw_video(video_path, csv_path, out_path, thresh, skeleton)
    local fname = 'lpose.predict.draw_video'
    for _, a in ipairs({ video_path, csv_path, out_path }) do
        if type(a) ~= 'string' then argerror(fname, 'expected paths') end
    end
    local o = ffi.new('lp_label_video_options[1]')
    o[0].confidence_thresh = thresh or config.default('eval.confidence_thresh_for_vid')
    local names
    if skeleton ~= nil then
        if type(skeleton) ~= 'table' then argerror(fname, 'skeleton must be a list of {name, name} pairs') end
        names = ffi.new('const char*[?]', math.max(2 * #skeleton, 1))
        for i, pair in ipairs(skeleton) do
            if type(pair) ~= 'table' or type(pair[1]) ~= 'string' or type(pair[2]) ~= 'string' or #pair ~= 2 then
                argerror(fname, ('skeleton[%d] must be {name, name}'):format(i))
            end
            names[2 * i - 2], names[2 * i - 1] = pair[1], pair[2]
        end
        o[0].skeleton, o[0].n_edges = names, #skeleton
    end
    local st = C.lp_predict_draw_video_opts(video_path, csv_path, out_path, o)
    if st == C.LP_STATUS_INTERRUPTED then lp.check(st) end
    if st ~= 0 then return nil, lp.last_error() end
    return true
end

---------------------------------------------------------------------------- streaming

--- lpose.predict.stream(model, video_path_or_images, opts) -> iterator | nil, err
-- `for start, keypoints, confidences in predict.stream(model, path, {sequence_length = 96}) do`
-- keypoints: n K 2 (frame pixels), confidences: n K, for frames start .. start+n-1
-- (0-based frame indices, every frame once and in order). images: N 3 H W (already
-- resized and normalised), with opts.frame_height / frame_width. The iterator
-- raises on a decode error in the middle of the video.
function M.stream(model, src, opts)
    local fname = 'lpose.predict.stream'
    opts = opts or {}
    local h = model_handle(model, fname)
    local p = ffi.new('lp_predict_params[1]', C.lp_predict_default_params())
    p[0].sequence_length = opts.sequence_length or config.default('dali.context.predict.sequence_length')
    p[0].edge = M.edges[opts.edge or 'lp'] or argerror(fname, "edge must be 'lp' or 'pad'")
    p[0].prefetch = opts.prefetch == false and 0 or 1
    p[0].precision = precision_of(opts, fname)
    local sout = ffi.new('lp_predict_stream*[1]')
    local st
    if type(src) == 'string' then
        st = C.lp_predict_stream_open(h, src, p, sout)
    else
        st = C.lp_predict_stream_open_frames(h, tensor.handle(src, fname), opts.frame_height or 0,
            opts.frame_width or 0, p, sout)
    end
    if st ~= 0 then return nil, lp.last_error() end
    local s = ffi.gc(sout[0], C.lp_predict_stream_free)
    local start = ffi.new('int64_t[1]')
    local iter = {}
    function iter.n_backbone_frames() return tonumber(C.lp_predict_stream_n_backbone_frames(s)) end
    function iter.n_frames() return tonumber(C.lp_predict_stream_n_frames(s)) end
    return setmetatable(iter, { __call = function()
        local r = C.lp_predict_stream_next(s, start, out1, out2)
        if r == C.LP_STATUS_EOF then return nil end
        lp.check(r)
        return tonumber(start[0]), tensor.wrap(out1[0]), tensor.wrap(out2[0])
    end })
end

---------------------------------------------------------------------------- labeled frames

local function writer_open(path, kind, scorer, names_c, K, with_set)
    local w = ffi.new('lp_csv_writer*[1]')
    if C.lp_csv_writer_open(path, kind, scorer, K, names_c, with_set and 1 or 0, w) ~= 0 then
        return nil, lp.last_error()
    end
    return ffi.gc(w[0], C.lp_csv_writer_free)
end

local function writer_close(w)
    local st = C.lp_csv_writer_close(w)
    ffi.gc(w, nil)
    C.lp_csv_writer_free(w)
    if st ~= 0 then return nil, lp.last_error() end
    return true
end

--- lpose.predict.labeled(model, csv_path, data_dir, opts) -> result | nil, err
-- Predict every image of a labeled CSV (TCN: its 5-frame context stack from disk,
-- LP §1.3) and write opts.output_dir/predictions.csv (LP's header, the image path as
-- index, a final `set` column) and predictions_pixel_error.csv (Euclidean distance to
-- the label in original pixels, NaN where the label is missing).
-- opts: output_dir (default '.'), sets (a list with one of 'train', 'validation',
-- 'test', 'unused' per row; default empty), batch_size (8), device, keypoint_names
-- (default: the CSV's), name ('predictions.csv'), pca (as predict.video), written
-- (as predict.video).
-- result = {csv=, pixel_error_csv=, n_frames=, mean_pixel_error=}
function M.labeled(model, csv_path, data_dir, opts)
    local fname = 'lpose.predict.labeled'
    opts = opts or {}
    if type(csv_path) ~= 'string' then argerror(fname, 'expected a CSV path') end
    if data_dir ~= nil and type(data_dir) ~= 'string' then argerror(fname, 'data_dir must be a string') end
    model_handle(model, fname)
    device_of(opts, model, fname)
    local data = require('lpose.data')
    local metrics = require('lpose.metrics')
    local labels, err = data.read_labels(csv_path, { data_dir = data_dir })
    if not labels then return nil, err end
    local conf = model:config()
    local K = conf.num_keypoints
    if labels.n_keypoints ~= K then
        return nil, ('%s: %s has %d keypoints, the model %d'):format(fname, csv_path, labels.n_keypoints, K)
    end
    local names = opts.keypoint_names or labels:keypoint_names()
    local names_c, anchor = names_array(names, K, fname)
    local paths = labels:image_paths()
    local truth = C.lp_labels_keypoints_data(labels.h)
    local n = #paths
    if opts.written ~= nil and type(opts.written) ~= 'table' then argerror(fname, 'written must be a table') end
    local sets = opts.sets
    if sets ~= nil and (type(sets) ~= 'table' or #sets ~= n) then
        argerror(fname, ('sets must be a list of %d set names'):format(n))
    end
    local dir = opts.output_dir or '.'
    local ok, merr = M.mkdir(dir)
    if not ok then return nil, fname .. ': ' .. merr end
    local name = opts.name or 'predictions.csv'
    local res = { csv = dir .. '/' .. name,
                  pixel_error_csv = dir .. '/' .. name:gsub('%.csv$', '') .. '_pixel_error.csv' }
    local scorer = conf.model_type .. '_tracker'
    local wp, e1 = writer_open(res.csv, C.LP_CSV_PREDICTIONS, scorer, names_c, K, true)
    if not wp then return nil, e1 end
    local we, e2 = writer_open(res.pixel_error_csv, C.LP_CSV_METRIC, nil, names_c, K, true)
    if not we then return nil, e2 end
    local tcn = model:is_mhcrnn()
    local H, W = conf.image_height, conf.image_width
    local bs = opts.batch_size or 8
    local row = ffi.new('float[?]', 3 * K)
    local perr = ffi.new('float[?]', K)
    local sum, cnt = 0, 0
    local base = (data_dir and data_dir ~= '') and (data_dir .. '/') or ''
    -- Batches of up to bs frames of one original size: the engine scales the
    -- keypoints to that size (lp_model_predict, in eval mode), the one place
    -- where model-input pixels become frame pixels.
    local i = 1
    while i <= n do
        local imgs, size = {}, nil
        while i + #imgs <= n and #imgs < bs do
            local path = base .. paths[i + #imgs]
            local img, orig
            if tcn then
                img, orig = data.load_context_stack(path, { height = H, width = W })
            else
                img, orig = data.load_image(path, { height = H, width = W })
            end
            if not img then return nil, orig end
            if size and (orig.width ~= size.width or orig.height ~= size.height) then
                img:free()
                break
            end
            size = size or orig
            imgs[#imgs + 1] = img
        end
        local batch = tensor.stack(imgs, 1)
        if model:device() ~= 'cpu' then batch = batch:to(model:device()) end
        local kp, cf = model:predict(batch, { frame_height = size.height, frame_width = size.width })
        kp, cf = kp:to('cpu'):totable(), cf:to('cpu'):totable()
        for j = 1, #imgs do
            for k = 1, K do
                local x, y = kp[j][k][1], kp[j][k][2]
                row[3 * (k - 1)], row[3 * (k - 1) + 1], row[3 * (k - 1) + 2] = x, y, cf[j][k]
                local t = ((i - 1) * K + (k - 1)) * 2
                local d = metrics.distance(x, y, truth[t], truth[t + 1])
                perr[k - 1] = d
                if d == d then sum, cnt = sum + d, cnt + 1 end
            end
            local set = sets and sets[i] or nil
            if C.lp_csv_writer_write_row(wp, paths[i], row, set) ~= 0 then return nil, lp.last_error() end
            if C.lp_csv_writer_write_row(we, paths[i], perr, set) ~= 0 then return nil, lp.last_error() end
            i = i + 1
        end
    end
    local _ = anchor
    local written = opts.written or {}
    local okc, ce = writer_close(wp)
    if not okc then return nil, ce end
    written[#written + 1] = res.csv
    okc, ce = writer_close(we)
    if not okc then return nil, ce end
    written[#written + 1] = res.pixel_error_csv
    if opts.pca and (opts.pca.singleview or opts.pca.multiview) then
        local files, pcerr = metrics.pca_csvs(res.csv, opts.pca, dir .. '/' .. name:gsub('%.csv$', ''))
        if not files then return nil, pcerr end
        res.pca_singleview, res.pca_multiview = files.singleview, files.multiview
        written[#written + 1] = files.singleview
        written[#written + 1] = files.multiview
    end
    res.n_frames = n
    res.mean_pixel_error = cnt > 0 and sum / cnt or 0 / 0
    labels:free()
    return res
end

return M
