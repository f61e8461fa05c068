-- experiments/tcn_semi.lua: train a semi-supervised Temporal Context
-- Network (model_type heatmap_mhcrnn, unsupervised losses on unlabeled
-- video windows), Lightning Pose's flagship model.
--
-- Config: configs/config_synthetic.yaml (the synthetic dataset, generated
-- on first use) unless config=PATH names your Lightning Pose config.yaml.
-- The unsupervised losses are model.losses_to_use (default [temporal]).
--
-- Run:
--   build/lpose run experiments/tcn_semi.lua
--   build/lpose run experiments/tcn_semi.lua config=/path/to/config.yaml \
--       data.data_dir=/path/to/project training.max_epochs=50
--
-- Writes a model directory outputs/YYYY-MM-DD/HH-MM-SS/ with config.yaml,
-- checkpoints/{best,last}.lpt, metrics.csv, metrics.jsonl, loss_curves.png,
-- train_status.json, predictions.csv and predictions_pixel_error.csv.
local lpose = require('lpose')
local experiment = require('lpose.experiment')
local report = require('lpose.report')

local cfg = experiment.config({ ... }, {
    overrides = { 'model.model_type=heatmap_mhcrnn' },
})
if #lpose.losses.names_to_use(cfg) == 0 then
    error('tcn_semi: model.losses_to_use is empty; use experiments/tcn_supervised.lua for a supervised TCN', 0)
end
local run = lpose.train.run(cfg)
report.after_training(run)
