-- experiments/tcn_supervised.lua: train a supervised Temporal Context
-- Network (heatmap_mhcrnn: frames t-2..t+2, labels for t only), no
-- unlabeled video.
--
-- Config: configs/config_synthetic.yaml unless config=PATH; losses_to_use is
-- forced empty.
--
-- Run:    build/lpose run experiments/tcn_supervised.lua [config=PATH] [key=value ...]
-- Writes: a model directory outputs/YYYY-MM-DD/HH-MM-SS/ (see tcn_semi.lua).
local lpose = require('lpose')
local experiment = require('lpose.experiment')
local report = require('lpose.report')

local cfg = experiment.config({ ... }, {
    overrides = { 'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[]' },
})
local run = lpose.train.run(cfg)
report.after_training(run)
