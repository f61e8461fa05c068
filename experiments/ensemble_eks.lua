-- experiments/ensemble_eks.lua: does an ensemble, fused by the Ensemble Kalman
-- Smoother, beat its members? Trains N semi-supervised TCN members (the
-- demo's model and budget; they differ in training.rng_seed_model_pt) on the
-- synthetic dataset, predicts its held-out video with all of them (each frame
-- decoded once), smooths with EKS, and prints pixel error against the
-- generator's ground truth on all frames and on occluded keypoints for each
-- member, the ensemble median, and EKS.
--
-- Run:    build/lpose run experiments/ensemble_eks.lua [members=4] [nproc=2] [key=value ...]
-- Writes: outputs/ensemble_eks/ (ensemble.json, member_<i>/, video_preds/<video>.csv
--         = the EKS output) and the table on stdout.
local experiment = require('lpose.experiment')
local ensemble = require('lpose.ensemble')
local report = require('lpose.report')
local files = require('lpose.files')

-- members=N and nproc=P are this script's own arguments; the rest are overrides
local args, n_members, nproc, out_dir = {}, 4, 2, 'outputs/ensemble_eks'
for _, a in ipairs({ ... }) do
    local k, v = a:match('^(%w+)=(.*)$')
    if k == 'members' then n_members = assert(tonumber(v), 'members=N')
    elseif k == 'nproc' then nproc = assert(tonumber(v), 'nproc=P')
    elseif k == 'output' then out_dir = v
    else args[#args + 1] = a end
end

local cfg, info = experiment.config(args, {
    synth = { n_videos = 9, n_test_videos = 1, n_labeled_per_video = 10 },
    overrides = {
        'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[temporal]',
        'training.max_epochs=32', 'training.min_epochs=32', 'training.check_val_every_n_epoch=4',
        'training.unfreezing_epoch=2', 'training.lr_scheduler_params.multisteplr.milestones=[22,28]',
        'callbacks.anneal_weight.freeze_until_epoch=4',
        -- the held-out video is predicted below, by all members at once
        'eval.predict_vids_after_training=false', 'eval.save_vids_after_training=false',
    },
})
assert(info.synthetic, 'ensemble_eks needs the synthetic dataset (its ground truth): pass no data.data_dir')

-- The members are `lpose train` processes: they read the resolved config from a file.
files.mkdir_p(out_dir)
local config_path = out_dir .. '/experiment_config.yaml'
require('lpose.config').save(cfg, config_path)
print(('== training %d members, %d at a time, into %s'):format(n_members, nproc, out_dir))
io.stdout:flush() -- before the members' own output
local manifest, err = ensemble.train({ config = config_path, cfg = cfg, overrides = {}, members = n_members,
    nproc = nproc, output = out_dir })
if not manifest then error(err, 0) end

local members = assert(ensemble.load_models(out_dir))
local models = {}
for i, m in ipairs(members) do models[i] = m.model end

local rows = {}
for _, stem in ipairs(info.synthetic.test_videos) do
    local video
    for _, v in ipairs(info.synthetic.videos) do
        if v.name == stem then video = v end
    end
    print(('== predicting %s with %d members (one decode)'):format(stem, #models))
    local result = assert(ensemble.predict_video(members, video.path, { metrics = false }))
    local function add(name, pred)
        local score = assert(report.score_keypoints(pred, video.ground_truth, video.occlusion))
        rows[#rows + 1] = { name, stem, score.all, score.occluded, score.n_occluded, score.temporal_norm }
    end
    for i, res in ipairs(result.members) do
        add(members[i].name, assert(require('lpose.metrics').read_csv(res.csv)).keypoints)
    end
    add('ensemble median', ensemble.keypoints_of(result.eks, 'x_ens_median', 'y_ens_median'))
    add('EKS', ensemble.keypoints_of(result.eks, 'x', 'y'))
    print('  EKS output: ' .. result.eks.csv)
end

print('')
print(('%-16s %-10s %12s %14s %14s'):format('model', 'video', 'all frames', 'occluded kps', 'temporal norm'))
for _, r in ipairs(rows) do
    print(('%-16s %-10s %9.2f px %11.2f px %11.2f px'):format(r[1], r[2], r[3], r[4] or 0 / 0, r[6]))
end
print(('(occluded keypoints: %d (frame, keypoint) pairs)'):format(rows[1] and rows[1][5] or 0))
