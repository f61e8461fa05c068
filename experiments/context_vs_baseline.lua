-- experiments/context_vs_baseline.lua: does temporal context resolve brief
-- occlusions? Trains the single-frame baseline (heatmap), the supervised TCN
-- (heatmap_mhcrnn) and the semi-supervised TCN (heatmap_mhcrnn + temporal)
-- with the same budget (epochs, batch size, schedule, seed) on the synthetic
-- dataset, predicts its held-out video, and prints a table of pixel error on
-- all frames and on occluded keypoints (against the generator's ground
-- truth) and the mean temporal norm, then writes the report page comparing
-- the three models (lpose report) and prints its path.
--
-- Run:    build/lpose run experiments/context_vs_baseline.lua [training.max_epochs=24] [key=value ...]
-- Writes: one model directory per model under outputs/, the table on stdout, and
--         context_vs_baseline-<first model's HH-MM-SS>.html beside the model directories.
local lpose = require('lpose')
local experiment = require('lpose.experiment')
local report = require('lpose.report')

local common = {
    'training.max_epochs=24', 'training.min_epochs=24', 'training.check_val_every_n_epoch=4',
    'training.unfreezing_epoch=2', 'training.lr_scheduler_params.multisteplr.milestones=[16,20]',
    'callbacks.anneal_weight.freeze_until_epoch=4', 'eval.predict_vids_after_training=true',
    'eval.save_vids_after_training=false',
}
local variants = {
    { name = 'baseline (heatmap)', overrides = { 'model.model_type=heatmap', 'model.losses_to_use=[]' } },
    { name = 'TCN supervised', overrides = { 'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[]' } },
    { name = 'TCN semi-supervised',
      overrides = { 'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[temporal]' } },
}

local rows, model_dirs, names = {}, {}, {}
for _, v in ipairs(variants) do
    local overrides = {}
    for _, o in ipairs(common) do overrides[#overrides + 1] = o end
    for _, o in ipairs(v.overrides) do overrides[#overrides + 1] = o end
    -- the demo's synthetic dataset: 8 labeled videos and one held out
    local cfg = experiment.config({ ... }, { overrides = overrides,
        synth = { n_videos = 9, n_test_videos = 1, n_labeled_per_video = 10 } })
    print(('== %s'):format(v.name))
    local run = lpose.train.run(cfg)
    local summary = report.after_training(run)
    model_dirs[#model_dirs + 1], names[#names + 1] = summary.model_dir, v.name
    for _, video in ipairs(summary.videos) do
        if video.score then
            rows[#rows + 1] = { v.name, lpose.predict.stem(video.csv), video.score.all, video.score.occluded,
                video.score.temporal_norm, summary.pixel_error_validation }
        end
    end
end

print('')
print(('%-22s %-10s %12s %14s %14s %12s'):format('model', 'video', 'all frames', 'occluded kps',
    'temporal norm', 'val labeled'))
for _, r in ipairs(rows) do
    print(('%-22s %-10s %9.2f px %11.2f px %11.2f px %9.2f px'):format(r[1], r[2], r[3], r[4] or 0 / 0, r[5], r[6]))
end

-- one page with the three models side by side, beside their directories
local first = model_dirs[1]:gsub('/+$', '')
local parent, name = first:match('^(.*)/([^/]+)$')
local page = assert(lpose.diagnostics.write(('%s/context_vs_baseline-%s.html'):format(parent or '.', name or first),
    model_dirs, { names = names }))
print(('report: %s (open it in a browser)'):format(page.path))
