-- experiments/baseline.lua: train the single-frame heatmap model
-- (model_type heatmap), the baseline the TCN is compared against.
--
-- Config: configs/config_synthetic.yaml unless config=PATH; supervised
-- unless you set model.losses_to_use.
--
-- Run:    build/lpose run experiments/baseline.lua [config=PATH] [key=value ...]
-- Writes: a model directory outputs/YYYY-MM-DD/HH-MM-SS/ (see tcn_semi.lua).
local lpose = require('lpose')
local experiment = require('lpose.experiment')
local report = require('lpose.report')

local cfg = experiment.config({ ... }, {
    overrides = { 'model.model_type=heatmap', 'model.losses_to_use=[]' },
})
local run = lpose.train.run(cfg)
report.after_training(run)
