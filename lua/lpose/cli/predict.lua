-- lpose.cli.predict: `lpose predict MODEL_DIR VIDEO_OR_DIR...`, Lightning
-- Pose's `litpose predict` (docs/reference/cli/predict.md).
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Predict keypoints for videos (and labeled frames) with a trained model.

usage: lpose predict MODEL_DIR VIDEO_OR_DIR... [--output DIR] [--label-video]
                     [--device DEVICE] [--frames CSV] [--data-dir DIR]
                     [--edge lp|pad] [--sequence-length T] [--no-metrics]
                     [--precision f32|int8] [--profile]

MODEL_DIR holds config.yaml and a checkpoint: checkpoints/best.lpt of a
training run, else model.lpt written by model:save (another single *.lpt
file is accepted), or it is an ensemble directory (ensemble.json, from
lpose train --members N): every member predicts each video, which is decoded
once for all of them, into MEMBER/video_preds/ (with --output:
OUTPUT/member_<i>/), and the Ensemble Kalman Smoother fuses them into
OUTPUT/<stem>.csv (lpose eks; OUTPUT defaults to ENSEMBLE_DIR/video_preds).
Each video (a folder
means every .mp4/.avi/.mov in it) is written, as Lightning Pose does, to
OUTPUT/<stem>.csv with OUTPUT/<stem>_temporal_norm.csv, and with
--label-video OUTPUT/<stem>_labeled.mp4. OUTPUT defaults to
MODEL_DIR/video_preds.

  --output DIR         where the files go
  --label-video        also render <stem>_labeled.mp4
  --device DEVICE      auto (default), cpu, cuda, cuda:N
  --frames CSV         also predict the labeled frames of CSV (paths relative to
                       --data-dir, default cfg data.data_dir or the CSV's folder)
                       into MODEL_DIR/image_preds/<CSV name>/predictions.csv
                       and predictions_pixel_error.csv
  --edge lp|pad        first/last two frames: LP's rule (copy frame 2 / N-3;
                       default) or predictions from replicate-padded stacks
  --sequence-length T  frames per window (default: the model config's
                       dali.context.predict.sequence_length)
  --no-metrics         skip <stem>_temporal_norm.csv and the PCA metrics
                       (<stem>_pca_singleview_error.csv, _pca_multiview_error.csv,
                       written when data.columns_for_singleview_pca /
                       data.mirrored_column_matches are set: the PCA is fitted on
                       the train split of data.csv_file, as LP)
  --precision P        f32 (default) or int8: the backbone in int8 on the CPU,
                       calibrated on each video's first window; faster where
                       the CPU has int8 instructions, keypoints within a few
                       pixels of f32 (docs/reference/int8.md)
  --profile            after each video, where its time went: waiting for
                       decoded frames, the backbone, the heads, the heatmap
                       decode, the TCN's windows, and the rest (opening the
                       video, writing the CSVs)

Videos of any size are resized to the model input size, as LP does; a warning
is printed when the aspect ratio differs from the model's by more than 10 %.

Ctrl-C (or SIGTERM) stops within about one window: the video being predicted
keeps no output file, the finished and unfinished videos are listed and the
exit status is 130. A second Ctrl-C ends the process at once (temporary files
are removed, finished files are complete).]]

local exists, is_dir = require('lpose.files').exists, require('lpose.files').is_dir

local list_dir = require('lpose.files').list

local options = { ['label-video'] = 'flag', ['no-metrics'] = 'flag', output = 'value', device = 'value',
                  frames = 'value', ['data-dir'] = 'value', edge = 'value', ['sequence-length'] = 'value',
                  profile = 'flag', precision = 'value' }

-- LP computes the PCA metrics whenever the config names PCA columns: fit them on
-- the train split of the training labels (as the losses do). nil when not configured.
function M.fit_pca(cfg)
    local d = cfg.data or {}
    local cols, matches = d.columns_for_singleview_pca, d.mirrored_column_matches
    local want = (type(cols) == 'table' and #cols > 0) or (type(matches) == 'table' and #matches > 0)
    if not want then return nil end
    local ok, res = pcall(function()
        -- single frames: only the keypoints are taken, and a TCN config would decode each
        -- row's 5 context frames for nothing (4x the time of the fit)
        local ds = assert(require('lpose.dataset').open(setmetatable({ context = false }, { __index = cfg })))
        local tr = cfg.training or {}
        local split = ds:split(tr.train_prob, tr.val_prob, tr.rng_seed_data_pt,
            type(tr.train_frames) == 'number' and tr.train_frames or nil)
        local rows = {}
        for i, row in ipairs(split.train) do rows[i] = ds:get(row).keypoints end
        ds:free()
        return require('lpose.metrics').fit_pca(cfg, require('lpose.tensor').stack(rows, 1))
    end)
    if not ok then return nil, 'PCA metrics skipped: ' .. tostring(res) end
    return res
end

-- The files predict.video / predict.labeled may write for one item.
local function video_outputs(out_dir, v)
    local base = out_dir .. '/' .. require('lpose.predict').stem(v)
    return { base .. '.csv', base .. '_temporal_norm.csv', base .. '_pca_singleview_error.csv',
             base .. '_pca_multiview_error.csv', base .. '_labeled.mp4' }
end

local function frames_outputs(dir)
    return { dir .. '/predictions.csv', dir .. '/predictions_pixel_error.csv',
             dir .. '/predictions_pca_singleview_error.csv', dir .. '/predictions_pca_multiview_error.csv' }
end

-- Predict every item of work.items in order, recording progress in work:
-- work.done[i] = result line, work.current = index being predicted,
-- work.written = its files complete so far, work.fresh = its outputs that
-- did not exist before it started (both removed if it is interrupted).
local function predict_all(work, model, pcas, o)
    local predict = require('lpose.predict')
    for i, item in ipairs(work.items) do
        work.current, work.written, work.fresh = i, {}, {}
        for _, path in ipairs(item.outputs) do
            if not exists(path) then work.fresh[#work.fresh + 1] = path end
        end
        if item.video and item.members then
            local v = item.video
            local res, err = require('lpose.ensemble').predict_video(item.members, v, {
                member_dirs = item.dirs, output_dir = work.out_dir, sequence_length = o.T, edge = o.edge,
                precision = o.precision,
                label_video = o['label-video'], metrics = not o['no-metrics'], pca = pcas,
                written = work.written,
            })
            if not res then return nil, 'predict: ' .. err end
            for m, r in ipairs(res.members) do
                for _, w in ipairs(r.warnings) do io.stderr:write('lpose: warning: ', w, '\n') end
                print(('%s [%s]: %d frames, model %.1f frames/s -> %s'):format(v, item.members[m].name, r.n_frames,
                    r.fps_model, r.csv))
            end
            for _, w in ipairs(res.eks.warnings) do io.stderr:write('lpose: warning: eks: ', w, '\n') end
            print(('%s [ensemble of %d, EKS]: -> %s'):format(v, #res.members, res.eks.csv))
            work.done[i] = v .. ' -> ' .. res.eks.csv
        elseif item.video then
            local v = item.video
            local res, err = predict.video(item.model or model, v, {
                output_dir = work.out_dir, sequence_length = o.T, edge = o.edge, precision = o.precision,
                label_video = o['label-video'], metrics = not o['no-metrics'], pca = pcas,
                written = work.written,
            })
            if not res then return nil, 'predict: ' .. err end
            for _, w in ipairs(res.warnings) do io.stderr:write('lpose: warning: ', w, '\n') end
            print(('%s: %d frames, %.1f frames/s (model %.1f) -> %s'):format(v, res.n_frames, res.fps_total,
                res.fps_model, res.csv))
            if res.labeled_video then print('  labeled video: ' .. res.labeled_video) end
            if o.profile then print('  ' .. predict.profile_text(res)) end
            work.done[i] = v .. ' -> ' .. res.csv
        else
            local res, err = predict.labeled(item.model or model, item.csv, item.data_dir, {
                output_dir = item.dir, pca = pcas, written = work.written,
            })
            if not res then return nil, 'predict: ' .. err end
            print(('%s: %d frames, mean pixel error %.3f -> %s'):format(item.csv, res.n_frames,
                res.mean_pixel_error, res.csv))
            work.done[i] = item.label .. ' -> ' .. res.csv
        end
        work.current = nil
    end
    return true
end

-- After Ctrl-C / SIGTERM: no output of the unfinished item stays under its
-- final name; say what was finished and what was not.
local function report_interrupt(work)
    collectgarbage() -- writers of an abandoned --frames run remove their temporary files
    local stopped = work.current
    if stopped then
        local gone = {}
        for _, list in ipairs({ work.written, work.fresh }) do
            for _, path in ipairs(list) do
                if not gone[path] then
                    gone[path] = true
                    os.remove(path)
                end
            end
        end
    end
    local n_done, n_videos = 0, 0
    for i, item in ipairs(work.items) do
        if item.video then n_videos = n_videos + 1 end
        if item.video and work.done[i] then n_done = n_done + 1 end
    end
    io.stdout:flush()
    local lines = { ('lpose: predict: interrupted; %d of %d videos finished'):format(n_done, n_videos) }
    for i, item in ipairs(work.items) do
        if work.done[i] then
            lines[#lines + 1] = '  finished: ' .. work.done[i]
        elseif i == stopped then
            lines[#lines + 1] = '  not finished: ' .. item.label .. ' (stopped; no output kept)'
        else
            lines[#lines + 1] = '  not finished: ' .. item.label .. ' (not started)'
        end
    end
    io.stderr:write(table.concat(lines, '\n'), '\n')
end

function M.command(args)
    local o, pos = cli_args.parse(args, options)
    if not o then return cli_args.usage_error('predict', pos) end
    if o.help then print(M.help) return true end
    if #pos < 1 then return nil, "predict: missing MODEL_DIR (see 'lpose help predict')" end
    if #pos < 2 and not o.frames then
        return nil, "predict: missing VIDEO_OR_DIR (see 'lpose help predict')"
    end
    if o['sequence-length'] then
        o.T = tonumber(o['sequence-length'])
        if not o.T or o.T % 1 ~= 0 or o.T < 1 then
            return nil, 'predict: --sequence-length must be a positive integer'
        end
    end
    local predict = require('lpose.predict') -- the values its options take
    if o.edge and predict.edges[o.edge] == nil then return nil, "predict: --edge must be 'lp' or 'pad'" end
    if o.precision and predict.precisions[o.precision] == nil then
        return nil, "predict: --precision must be 'f32' or 'int8'"
    end
    local model_dir = pos[1]:gsub('/+$', '')
    local members, model, cfg
    if require('lpose.ensemble').is_ensemble(model_dir) then
        local merr
        members, merr = require('lpose.ensemble').load_models(model_dir, o.device)
        if not members then return nil, 'predict: ' .. merr end
        model, cfg = members[1].model, members[1].model.cfg
    else
        model, cfg = require('lpose.models').load_dir(model_dir, o.device)
        if not model then return nil, 'predict: ' .. cfg end
    end

    local videos = {}
    for i = 2, #pos do
        if is_dir(pos[i]) then
            local found = list_dir(pos[i], '%.m[po][4v]$')
            for _, v in ipairs(list_dir(pos[i], '%.avi$')) do found[#found + 1] = v end
            if #found == 0 then return nil, ("predict: no videos in '%s'"):format(pos[i]) end
            for _, v in ipairs(found) do videos[#videos + 1] = v end
        elseif exists(pos[i]) then
            videos[#videos + 1] = pos[i]
        else
            return nil, ("predict: '%s' does not exist"):format(pos[i])
        end
    end
    -- every video decodes at its first and last frame before any is predicted:
    -- a file cut short is named now, not after the frames before its cut
    local video = require('lpose.video')
    for _, v in ipairs(videos) do
        local ok, err = video.check(v)
        if not ok then return nil, 'predict: ' .. err end
    end
    local out_dir = o.output or (model_dir .. '/video_preds')
    local work = { items = {}, done = {}, out_dir = out_dir }
    for _, v in ipairs(videos) do
        if members then
            local item = { video = v, label = v, members = members, dirs = {},
                           outputs = { out_dir .. '/' .. require('lpose.predict').stem(v) .. '.csv' } }
            for m, member in ipairs(members) do
                item.dirs[m] = o.output and (o.output .. '/' .. member.name) or (member.path .. '/video_preds')
                for _, path in ipairs(video_outputs(item.dirs[m], v)) do item.outputs[#item.outputs + 1] = path end
            end
            work.items[#work.items + 1] = item
        else
            work.items[#work.items + 1] = { video = v, label = v, outputs = video_outputs(out_dir, v) }
        end
    end
    if o.frames then
        local csv = o.frames
        local name = csv:match('([^/]+)$')
        local data_dir = o['data-dir'] or (cfg.data and cfg.data.data_dir) or csv:match('^(.*)/[^/]*$') or '.'
        for _, member in ipairs(members or { { path = model_dir, model = model } }) do
            local dir = member.path .. '/image_preds/' .. name
            if o.output then dir = o.output .. '/' .. (member.name and (member.name .. '/') or '') .. name end
            work.items[#work.items + 1] = {
                csv = csv, dir = dir, model = member.model, outputs = frames_outputs(dir), data_dir = data_dir,
                label = 'labeled frames ' .. csv .. (member.name and (' [' .. member.name .. ']') or ''),
            }
        end
    end
    -- Under lpose.cli.protect, as `lpose run` runs scripts: Ctrl-C is armed, an
    -- expected error is one line (exit 1), a bug keeps its traceback (exit 2).
    return require('lpose.cli.protect').command(function()
        local pcas
        if not o['no-metrics'] then
            local perr
            pcas, perr = M.fit_pca(cfg)
            if perr then io.stderr:write('lpose: warning: ', perr, '\n') end
        end
        return predict_all(work, model, pcas, o)
    end, function() report_interrupt(work) end) -- Ctrl-C, SIGTERM: the hook or a C call's status
end

return M
