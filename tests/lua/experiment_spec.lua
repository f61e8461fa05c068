-- Specs for lpose.experiment: the command line of every experiment script.
local experiment = require('lpose.experiment')
local config = require('lpose.config')

describe('experiment.split_args', function()
    it('keeps every Hydra form: key=value, +key=value, ++key=value, ~key', function()
        local path, overrides, rest = experiment.split_args({ 'config=/x/config.yaml', 'training.max_epochs=2',
            '+training.foo=1', '++training.max_epochs=3', '++hydra.run.dir=/tmp/run', '~eval.colormap', '--', 'free',
            'form' })
        assert.equal('/x/config.yaml', path)
        assert.same({ 'training.max_epochs=2', '+training.foo=1', '++training.max_epochs=3', '++hydra.run.dir=/tmp/run',
            '~eval.colormap' }, overrides)
        assert.same({ 'free', 'form' }, rest)
    end)

    it('refuses what it does not understand instead of dropping it', function()
        for _, bad in ipairs({ 'training.max_epochs', '--max-epochs=3', '5', 'config=' }) do
            local ok, err = pcall(experiment.split_args, { bad })
            assert.is_false(ok, bad)
            assert.truthy(tostring(err):find(bad == 'config=' and 'config=' or bad, 1, true), err)
        end
    end)

    it('applies ++key=value to the config (it was dropped once)', function()
        local cfg = experiment.config({ 'config=configs/config_synthetic.yaml', 'data.data_dir=/nonexistent',
            '++training.max_epochs=2', '++training.min_epochs=2',
            'training.lr_scheduler_params.multisteplr.milestones=[1]', '++hydra.run.dir=/tmp/lpose_somewhere' })
        assert.equal(2, cfg.training.max_epochs)
        assert.equal('/tmp/lpose_somewhere', config.model_dir(cfg))
    end)

    it("says on stderr when the experiment's own settings change the user's config", function()
        local stderr = io.stderr
        local lines = {}
        io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do lines[#lines + 1] = s end end } -- luacheck: ignore
        local ok, cfg = pcall(experiment.config, { 'config=configs/config_synthetic.yaml', 'data.data_dir=/nowhere',
            'model.losses_to_use=[]' }, { name = 'x.lua', overrides = { 'model.model_type=heatmap',
            'model.losses_to_use=[temporal]' } })
        io.stderr = stderr -- luacheck: ignore
        assert.is_true(ok, cfg)
        assert.equal('heatmap', cfg.model.model_type)
        local text = table.concat(lines)
        assert.truthy(text:find('x.lua sets model.model_type = "heatmap"', 1, true), text)
        assert.falsy(text:find('losses_to_use', 1, true), text) -- the user chose it on the command line
    end)
end)
