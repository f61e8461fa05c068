-- lpose.report: what a training script does after training, as Lightning
-- Pose does (docs/spec/lp-data-train.md §4.8): predict the labeled frames with the
-- best model (predictions.csv with the `set` column, and
-- predictions_pixel_error.csv), predict the videos of
-- eval.test_videos_directory when eval.predict_vids_after_training (with a
-- labeled video when eval.save_vids_after_training), and, where ground truth
-- exists (the synthetic dataset's videos_gt/), score every video frame:
-- pixel error on all frames and on occluded frames, and the temporal norm.
local lpose = require('lpose')
local predict = require('lpose.predict')
local metrics = require('lpose.metrics')
local files = require('lpose.files')
local unlabeled = require('lpose.train.unlabeled')

local M = {}

local function null(v) return v == nil or v == require('lpose.config').null end

-- One of train / validation / test / unused per CSV row, from the split.
local function row_sets(run)
    local sets = {}
    for i = 1, run.dataset.n_frames do sets[i] = 'unused' end
    for name, label in pairs({ train = 'train', val = 'validation', test = 'test' }) do
        for _, idx in ipairs(run.split[name] or {}) do sets[idx + 1] = label end
    end
    return sets
end

local function mean_of(values, keep)
    local sum, n = 0, 0
    for i, row in ipairs(values) do
        if keep == nil or keep(i) then
            for _, v in ipairs(row) do
                if v == v then sum, n = sum + v, n + 1 end
            end
        end
    end
    return n > 0 and sum / n or 0 / 0
end

--- report.score_video(pred_csv, truth_csv [, occluded_csv]) -> {all=, occluded=, n_occluded=, temporal_norm=}
-- Mean Euclidean pixel error of every keypoint of every frame against the
-- ground truth; `occluded` averages only (frame, keypoint) pairs marked 1 in
-- the occlusion CSV (the synthetic dataset's videos_gt/<stem>_occluded.csv).
function M.score_video(pred_csv, truth_csv, occluded_csv)
    local pred, err = metrics.read_csv(pred_csv)
    if not pred then return nil, err end
    return M.score_keypoints(pred.keypoints, truth_csv, occluded_csv, pred_csv)
end

--- report.score_keypoints(keypoints, truth_csv [, occluded_csv [, name]]) -> the same as score_video
-- keypoints[f][k] = {x, y} (metrics.read_csv's layout), e.g. an ensemble's
-- median that has no CSV of its own; name labels it in errors.
function M.score_keypoints(keypoints, truth_csv, occluded_csv, name)
    local truth, terr = metrics.read_csv(truth_csv)
    if not truth then return nil, terr end
    if #keypoints ~= #truth.keypoints then
        return nil, ('%s has %d frames, %s %d'):format(name or 'the prediction', #keypoints, truth_csv,
            #truth.keypoints)
    end
    local errors = metrics.pixel_error(keypoints, truth.keypoints)
    local result = { all = mean_of(errors), temporal_norm = mean_of(metrics.temporal_norm(keypoints)) }
    if occluded_csv and files.exists(occluded_csv) then
        local occ = metrics.read_csv(occluded_csv)
        local sum, n = 0, 0
        for f, row in ipairs(errors) do
            for k, e in ipairs(row) do
                if occ.values[f][k] == 1 and e == e then sum, n = sum + e, n + 1 end
            end
        end
        result.occluded, result.n_occluded = n > 0 and sum / n or 0 / 0, n
    end
    return result
end

--- report.after_training(run [, {quiet=}]) -> summary (nil on ranks other than 0 and after an interrupt)
function M.after_training(run, opts)
    opts = opts or {}
    if run.is_main == false then return nil end -- data-parallel: rank 0 predicts and writes
    if run.interrupted then return nil end -- an interrupted run has no model worth predicting with
    local cfg = run.cfg
    local say = opts.quiet and function() end or print
    local model = assert(lpose.train.load_best(run.model_dir))
    model.cfg = cfg
    model:to(run.device)
    local summary = { model_dir = run.model_dir }

    local csv = files.join(cfg.data.data_dir, cfg.data.csv_file)
    local labeled = assert(predict.labeled(model, csv, cfg.data.data_dir, {
        output_dir = run.model_dir, sets = row_sets(run), keypoint_names = cfg.data.keypoint_names,
    }))
    summary.labeled = labeled
    local pe = metrics.read_csv(labeled.pixel_error_csv)
    local sets = row_sets(run)
    for _, set in ipairs({ 'train', 'validation', 'test' }) do
        summary['pixel_error_' .. set] = mean_of(pe.values, function(i) return sets[i] == set end)
    end
    say(('labeled frames: mean pixel error train %.2f px, validation %.2f px, test %.2f px  (%s)'):format(
        summary.pixel_error_train, summary.pixel_error_validation, summary.pixel_error_test, labeled.csv))
    -- pictures of the worst test frames, ground truth against prediction; optional
    local worst, werr = require('lpose.report_frames').worst{
        labels_csv = csv, data_dir = cfg.data.data_dir, predictions_csv = labeled.csv,
        pixel_error_csv = labeled.pixel_error_csv, out_dir = run.model_dir .. '/worst_frames', n = 3,
        skeleton = not null(cfg.data.skeleton) and cfg.data.skeleton or nil,
        confidence_thresh = require('lpose.config').get_or_default(cfg, 'eval.confidence_thresh_for_vid'),
    }
    summary.worst_frames = worst
    if worst then
        if #worst > 0 then say('worst frames, ground truth vs prediction: ' .. run.model_dir .. '/worst_frames/') end
    else
        say('worst frames not drawn: ' .. tostring(werr))
    end

    summary.videos = {}
    if cfg.eval and cfg.eval.predict_vids_after_training and not null(cfg.eval.test_videos_directory) then
        local paths = unlabeled.list_videos(cfg.eval.test_videos_directory) or {}
        for _, path in ipairs(paths) do
            local r = assert(predict.video(model, path, {
                output_dir = run.model_dir .. '/video_preds',
                label_video = cfg.eval.save_vids_after_training,
            }))
            local stem = predict.stem(path)
            local gt = files.join(cfg.data.data_dir, 'videos_gt/' .. stem .. '.csv')
            if files.exists(gt) then
                local occluded = files.join(cfg.data.data_dir, 'videos_gt/' .. stem .. '_occluded.csv')
                r.score = M.score_video(r.csv, gt, occluded)
            end
            summary.videos[#summary.videos + 1] = r
            local line = ('video %s: %d frames at %.1f frames/s -> %s'):format(stem, r.n_frames,
                r.fps_total or 0, r.csv)
            if r.score then
                line = line .. ('\n  vs ground truth: pixel error %.2f px on all frames, %.2f px on occluded '
                    .. 'keypoints (%d); temporal norm %.2f px'):format(r.score.all, r.score.occluded or 0 / 0,
                    r.score.n_occluded or 0, r.score.temporal_norm)
            end
            if r.labeled_video then line = line .. '\n  labeled video: ' .. r.labeled_video end
            say(line)
        end
    end
    say('model directory: ' .. run.model_dir)
    model:free()
    return summary
end

return M
