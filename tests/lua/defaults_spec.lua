-- configs/config_default.yaml is the one source of lpose's defaults. The C
-- API cannot read YAML, so its *_default_params() spell a few of the same
-- numbers again; this spec fails when one of them drifts from the file.
-- Library code reads the file through lpose.config.default (checked last).
local config = require('lpose.config')
local lp = require('lpose.C')
local C = lp.lib

describe('C default parameters agree with config_default.yaml', function()
    it('predict: the window length', function()
        assert.are.equal(config.default('dali.context.predict.sequence_length'),
            tonumber(C.lp_predict_default_params().sequence_length))
    end)

    it('dataset and model: the heatmap downsample factor', function()
        local ds = config.default('data.downsample_factor')
        assert.are.equal(ds, C.lp_dataset_default_params().downsample_factor)
        assert.are.equal(ds, C.lp_model_default_params().downsample_factor)
    end)

    it('loader: the labeled batch size', function()
        assert.are.equal(config.default('training.train_batch_size'),
            C.lp_loader_default_params().batch_size)
    end)

    it('optimizer: the learning rate', function()
        local p = C.lp_optim_default_params(C.LP_OPTIM_ADAM)
        assert.are.equal(config.default('training.optimizer_params.learning_rate'), p.lr)
    end)
end)

describe('lpose.config.default', function()
    it('reads values, sections and nulls from the default file', function()
        assert.are.equal(96, config.default('dali.context.predict.sequence_length'))
        assert.are.equal('table', type(config.default('losses.temporal')))
        assert.is_nil(config.default('data.image_resize_dims.height')) -- null in the file
        assert.is_nil(config.default('no.such.key'))
    end)

    it('get_or_default prefers the config, then the default', function()
        local cfg = config.load({ overrides = { 'training.max_epochs=400' } })
        assert.are.equal(400, config.get_or_default(cfg, 'training.max_epochs'))
        assert.are.equal(config.default('training.max_epochs'), config.get_or_default({}, 'training.max_epochs'))
        assert.are.equal(config.default('training.max_epochs'), config.get_or_default(nil, 'training.max_epochs'))
    end)

    it('a built-in loss takes its hyperparameters from the file when the config has none', function()
        local losses = require('lpose.losses')
        local t = losses.new('temporal', {})
        local d = config.default('losses.temporal')
        assert.are.equal(d.log_weight, t.params.log_weight)
        assert.are.equal(d.epsilon, t.params.epsilon)
        assert.are.equal(d.prob_threshold, t.params.prob_threshold)
    end)

    it('anneal_weight without a config follows callbacks.anneal_weight of the file', function()
        local losses = require('lpose.losses')
        local a = config.default('callbacks.anneal_weight')
        local late = a.freeze_until_epoch + 1000
        assert.are.equal(a.init_val, losses.anneal_weight(0))
        assert.is_true(math.abs(losses.anneal_weight(late) - a.final_val) < 1e-12)
    end)
end)

