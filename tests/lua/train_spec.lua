-- Specs for lpose.train: LP's schedules, and short real training runs on a
-- tiny synthetic project (resnet18 at 64x64): the loss decreases, the same
-- seed gives the same losses, and a resumed run continues exactly as an
-- uninterrupted one.
local lpose = require('lpose')
local config = require('lpose.config')
local schedule = require('lpose.train.schedule')

local function close(a, b, tol) assert.is_true(math.abs(a - b) <= (tol or 1e-12), ('%.10g vs %.10g'):format(a, b)) end

describe('train.schedule', function()
    it('decays the head lr at the milestones (MultiStepLR)', function()
        local s = { lr = 1e-3, milestones = { 150, 200, 250 }, gamma = 0.5, unfreeze_epoch = 20 }
        close(schedule.head_lr(s, 0), 1e-3)
        close(schedule.head_lr(s, 149), 1e-3)
        close(schedule.head_lr(s, 150), 5e-4)
        close(schedule.head_lr(s, 210), 2.5e-4)
        close(schedule.head_lr(s, 299), 1.25e-4)
    end)

    it('keeps the backbone frozen, then warms it up x1.5 per epoch (docs/spec/lp-model.md §7.3)', function()
        local s = { lr = 1e-3, milestones = { 150, 200, 250 }, gamma = 0.5, unfreeze_epoch = 20 }
        close(schedule.backbone_lr(s, 0), 0)
        close(schedule.backbone_lr(s, 19), 0)
        close(schedule.backbone_lr(s, 20), 1e-4)
        close(schedule.backbone_lr(s, 21), 1.5e-4)
        close(schedule.backbone_lr(s, 24), 1e-4 * 1.5 ^ 4)
        close(schedule.backbone_lr(s, 26), 1e-3)  -- reached the head's lr
        close(schedule.backbone_lr(s, 160), 5e-4) -- then decays with it
    end)

    it('reads LP config keys', function()
        local s = schedule.from_config({ training = { optimizer_params = { learning_rate = 2e-3 },
            lr_scheduler_params = { multisteplr = { milestones = { 9, 11 }, gamma = 0.5 } }, unfreezing_epoch = 1 } })
        close(schedule.head_lr(s, 9), 1e-3)
        close(schedule.backbone_lr(s, 1), 2e-4)
    end)
end)

-- A tiny synthetic LP project, generated once for the runs below.
local tmp = os.tmpname()
os.remove(tmp)
local project = tmp .. '/project'

local function load_cfg(extra)
    local overrides = {
        'data.data_dir=' .. project,
        'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
        'training.train_batch_size=4', 'training.val_batch_size=8', 'training.train_prob=0.75',
        'training.val_prob=0.25', 'training.unfreezing_epoch=0', 'training.check_val_every_n_epoch=1',
        'training.optimizer_params.learning_rate=0.01', 'training.lr_scheduler_params.multisteplr.milestones=[1]',
        'training.lr_scheduler_params.multisteplr.gamma=1.0',
        'training.num_workers=1', 'dali.context.train.batch_size=6', 'dali.base.train.sequence_length=4',
        'callbacks.anneal_weight.freeze_until_epoch=0', 'training.device=cpu', 'eval.predict_vids_after_training=false',
    }
    for _, o in ipairs(extra or {}) do overrides[#overrides + 1] = o end
    return config.load({ file = 'configs/config_synthetic.yaml', overrides = overrides })
end

local function losses_of(run)
    local out = {}
    for _, p in ipairs(run.logger:series('train_supervised_loss')) do out[#out + 1] = p.value end
    return out
end

local function mean(t, i, j)
    local s = 0
    for k = i, j do s = s + t[k] end
    return s / (j - i + 1)
end

describe('training runs', function()
    setup(function()
        os.execute('mkdir -p ' .. tmp)
        assert(lpose.synth.generate(project, { n_videos = 3, n_test_videos = 1, n_frames = 40, width = 64,
            height = 64, n_labeled_per_video = 8, seed = 5 }))
    end)
    teardown(function() os.execute('rm -rf ' .. tmp) end)

    it('a supervised TCN run lowers the loss and writes LP-style outputs', function()
        local cfg = load_cfg({ 'model.losses_to_use=[]', 'training.max_epochs=6', 'training.min_epochs=6' })
        local run = lpose.train.setup(cfg, { model_dir = tmp .. '/sup', quiet = true })
        lpose.train.fit(run)
        lpose.train.finish(run)
        local l = losses_of(run)
        assert.is_true(#l >= 12)
        assert.is_true(mean(l, #l - 2, #l) < mean(l, 1, 3), ('loss did not decrease: %g -> %g')
            :format(mean(l, 1, 3), mean(l, #l - 2, #l)))
        for _, f in ipairs({ 'config.yaml', 'metrics.csv', 'metrics.jsonl', 'checkpoints/best.lpt',
                              'checkpoints/last.lpt', 'train_status.json', 'CollectedData.csv' }) do
            assert.truthy(io.open(tmp .. '/sup/' .. f), f)
        end
        local status = io.open(tmp .. '/sup/train_status.json'):read('*a')
        assert.truthy(status:find('COMPLETED', 1, true))
        -- the saved config loads back as a config
        assert.truthy(config.load({ file = tmp .. '/sup/config.yaml' }))
    end)

    it('a semi-supervised TCN run draws unlabeled windows and logs the temporal loss', function()
        local cfg = load_cfg({ 'model.losses_to_use=[temporal]', 'training.max_epochs=1', 'training.min_epochs=1',
            'training.limit_train_batches=3' })
        local run = lpose.train.setup(cfg, { model_dir = tmp .. '/semi', quiet = true })
        assert.is_true(run.semi_supervised)
        lpose.train.fit(run)
        lpose.train.finish(run)
        local t = run.logger:series('train_temporal_loss')
        assert.equal(3, #t)
        for _, p in ipairs(t) do assert.is_true(p.value == p.value and p.value >= 0) end
        assert.equal(3, #run.logger:series('total_loss'))
    end)

    it('gives the same losses for the same seed, and resumes exactly', function()
        local extra = { 'model.losses_to_use=[temporal]', 'training.limit_train_batches=2' }
        local function full(dir, epochs, resume)
            local o = { 'training.max_epochs=' .. epochs, 'training.min_epochs=' .. epochs }
            for _, e in ipairs(extra) do o[#o + 1] = e end
            if resume then o[#o + 1] = 'training.resume_from=' .. resume end
            local run = lpose.train.setup(load_cfg(o), { model_dir = dir, quiet = true })
            lpose.train.fit(run)
            lpose.train.finish(run)
            return losses_of(run)
        end
        local a = full(tmp .. '/a', 3)
        local b = full(tmp .. '/b', 3)
        assert.same(a, b)
        full(tmp .. '/c', 1)
        local c = full(tmp .. '/c2', 3, tmp .. '/c/checkpoints/last.lpt')
        assert.equal(4, #c)                     -- epochs 1 and 2 only
        for i = 1, 4 do close(c[i], a[i + 2], 1e-6 * math.abs(a[i + 2])) end
    end)

    it('resumes exactly from a checkpoint saved in the middle of an epoch, logging no row twice', function()
        local function run_to(dir, o, stop_after)
            local all = { 'model.losses_to_use=[temporal]', 'training.limit_train_batches=3',
                'training.max_epochs=3', 'training.min_epochs=3' }
            for _, e in ipairs(o) do all[#all + 1] = e end
            local run = lpose.train.setup(load_cfg(all), { model_dir = dir, quiet = true })
            if stop_after then -- what Ctrl-C does after a step: fit saves last.lpt and returns
                run.callbacks[#run.callbacks + 1] = { on_step_end = function(r)
                    if r.step == stop_after then error('interrupted!', 0) end
                end }
            end
            lpose.train.fit(run)
            lpose.train.finish(run)
            return losses_of(run), run
        end
        local a = run_to(tmp .. '/m_full', {})
        assert.equal(9, #a)
        local _, cut = run_to(tmp .. '/m', {}, 5) -- epoch 1 (0-based), after its step 2 of 3
        assert.is_true(cut.interrupted)
        local c, resumed = run_to(tmp .. '/m', { 'training.resume_from=' .. tmp .. '/m/checkpoints/last.lpt' })
        assert.equal(4, #c) -- steps 6..9: no step repeated, none skipped
        assert.equal(9, resumed.step)
        local worst = 0
        for i = 1, 4 do worst = math.max(worst, math.abs(c[i] - a[i + 5]) / math.abs(a[i + 5])) end
        print(('# mid-epoch resume: max relative difference of the 4 resumed losses %.3g'):format(worst))
        -- the same arithmetic on the same inputs in a new process: equal to the last bit
        assert.equal(0, worst)
        -- metrics.csv of the resumed-in-place directory: each train step once
        local seen = {}
        for line in io.lines(tmp .. '/m/metrics.csv') do
            local st, stage, name = line:match('^(%d+),%d+,(%a+),([%w_]+),')
            if stage == 'train' and name == 'train_supervised_loss' then
                assert.is_nil(seen[st], 'step ' .. tostring(st) .. ' logged twice')
                seen[st] = true
            end
        end
        for st = 1, 9 do assert.truthy(seen[tostring(st)], 'step ' .. st .. ' missing') end
    end)

    it('rejects a checkpoint that is not one', function()
        local cfg = load_cfg({ 'training.resume_from=' .. tmp .. '/sup/checkpoints/best.lpt',
            'model.losses_to_use=[]' })
        local ok, err = pcall(lpose.train.setup, cfg, { model_dir = tmp .. '/bad', quiet = true })
        assert.is_false(ok)
        assert.truthy(tostring(err):find('not an lpose training checkpoint', 1, true))
    end)
end)
