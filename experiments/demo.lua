-- experiments/demo.lua: the main job (`make demo`), end to end on a fresh
-- machine in under 10 minutes on 2 CPU cores:
--   1. generates the synthetic dataset (once; cached under ~/.cache/lpose),
--   2. trains a semi-supervised Temporal Context Network on its labeled
--      frames and unlabeled training videos (experiments/tcn_semi.lua's setup),
--   3. predicts the held-out video (never seen in training, not even
--      unlabeled), writes the labeled video, and prints the pixel error
--      against the ground truth on all frames and on occluded keypoints,
--   4. writes the model's report page (lpose report) and prints its path.
--
-- Run:    make demo            (or build/lpose run experiments/demo.lua [key=value ...])
-- Writes: outputs/YYYY-MM-DD/HH-MM-SS/ with the model, metrics, predictions,
--         video_preds/<video>.csv, video_preds/<video>_labeled.mp4 and report.html.
local lpose = require('lpose')
local experiment = require('lpose.experiment')
local report = require('lpose.report')
local logger = require('lpose.train.logger')

local t0 = logger.now()
local cfg, info = experiment.config({ ... }, {
    -- more, shorter training videos than the default: each video has its own
    -- background, and variety is what lets a model generalise to a new video
    synth = { n_videos = 9, n_test_videos = 1, n_labeled_per_video = 10 },
    overrides = {
        'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[temporal]',
        -- the demo's budget: about 5 minutes of training on 2 CPU cores
        'training.max_epochs=32', 'training.min_epochs=32', 'training.check_val_every_n_epoch=4',
        'training.unfreezing_epoch=2', 'training.lr_scheduler_params.multisteplr.milestones=[22,28]',
        'callbacks.anneal_weight.freeze_until_epoch=4',
        'eval.predict_vids_after_training=true', 'eval.save_vids_after_training=true',
    },
})
if info.synthetic then
    print(('synthetic dataset: %s (%d labeled frames, %d test video(s))'):format(info.synthetic.out_dir,
        info.synthetic.n_labeled_frames, #info.synthetic.test_videos))
end
local run = lpose.train.run(cfg)
local summary = report.after_training(run)
for _, v in ipairs(summary.videos) do
    if v.score then
        print(('DEMO RESULT %s: pixel error %.2f px on all frames, %.2f px on occluded keypoints'):format(
            lpose.predict.stem(v.csv), v.score.all, v.score.occluded or 0 / 0))
    end
end
-- the page to look at: curves, errors, the video's traces against ground truth
local page = assert(lpose.diagnostics.write(run.model_dir .. '/report.html', { run.model_dir }))
print(('report: %s (open it in a browser; %.0f KiB, works offline)'):format(page.path, page.bytes / 1024))
print(('demo finished in %.1f s'):format(logger.now() - t0))
