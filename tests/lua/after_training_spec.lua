-- The numbers a training run reports are those of the model it saved: a
-- tiny TCN is trained through `lpose run experiments/tcn_supervised.lua`
-- (which predicts the labeled frames and the test video after training), then
-- `lpose predict` on the saved checkpoint must write the same files, to the
-- last digit. Both go through the user's commands; neither is trusted alone.
local lpose = require('lpose')
local metrics = require('lpose.metrics')

local support = dofile('tests/lua/support.lua')
local q, slurp = support.q, support.slurp

local tmp = support.mktemp('after_training_spec')
local project = tmp .. '/project'
local model_dir = tmp .. '/model'

local function sh(cmd)
    local rc = os.execute(cmd .. ' > ' .. q(tmp .. '/out') .. ' 2>&1')
    return rc == 0 or rc == true, slurp(tmp .. '/out') or ''
end

local function lines(path)
    local out = {}
    for line in assert(io.open(path)):lines() do out[#out + 1] = line end
    return out
end

-- predictions.csv rows without the last (`set`) column: after training the
-- split is known, `lpose predict --frames` leaves it empty.
local function without_set(path)
    local out = {}
    for i, line in ipairs(lines(path)) do out[i] = line:gsub(',[^,]*$', '') end
    return out
end

describe('after training', function()
    local trained, train_log
    setup(function()
        assert(lpose.synth.generate(project, { n_videos = 2, n_test_videos = 1, n_frames = 24, width = 96,
            height = 80, n_labeled_per_video = 8, seed = 11 }))
        -- frames 96x80 and a 64x64 model: the labeled-frame scale factors are
        -- 1.5 and 1.25, so truncation to integer multiples would show
        trained, train_log = sh(table.concat({ q(support.exe()), 'run', 'experiments/tcn_supervised.lua',
            'data.data_dir=' .. q(project), 'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
            'model.backbone_pretrained=false', 'training.max_epochs=2', 'training.min_epochs=2',
            'training.limit_train_batches=2', 'training.train_batch_size=4', 'training.unfreezing_epoch=0',
            'training.lr_scheduler_params.multisteplr.milestones=[1]', 'training.device=cpu',
            'training.num_workers=1', 'eval.predict_vids_after_training=true',
            'dali.context.predict.sequence_length=10', '+hydra.run.dir=' .. q(model_dir) }, ' '))
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('predicts the labeled frames as lpose predict does on the saved checkpoint', function()
        assert.is_true(trained, train_log)
        local ok, out = sh(table.concat({ q(support.exe()), 'predict', q(model_dir),
            q(project .. '/videos_test'), '--frames', q(project .. '/CollectedData.csv'),
            '--data-dir', q(project), '--output', q(tmp .. '/again') }, ' '))
        assert.is_true(ok, out)
        local after = without_set(model_dir .. '/predictions.csv')
        local again = without_set(tmp .. '/again/CollectedData.csv/predictions.csv')
        assert.are.equal(#lines(project .. '/CollectedData.csv'), #after)
        assert.are.same(after, again)
        assert.are.same(without_set(model_dir .. '/predictions_pixel_error.csv'),
            without_set(tmp .. '/again/CollectedData.csv/predictions_pixel_error.csv'))
    end)

    it('predicts the test videos as lpose predict does on the saved checkpoint', function()
        assert.is_true(trained, train_log)
        local found = 0
        for name in io.popen('ls ' .. q(model_dir .. '/video_preds')):lines() do
            if name:match('%.csv$') then
                found = found + 1
                assert.are.same(lines(model_dir .. '/video_preds/' .. name), lines(tmp .. '/again/' .. name), name)
            end
        end
        assert.is_true(found >= 2, 'expected a video CSV and its temporal norm')
    end)

    it('draws loss_curves.png and the worst test frames, ground truth against prediction', function()
        assert.is_true(trained, train_log)
        local curves = assert(lpose.data.read_image_rgb(model_dir .. '/loss_curves.png'))
        -- 1100 wide, 340 per panel: supervised losses and pixel RMSE, plus unsupervised ones if any
        assert.are.equal(1100, curves:size(2))
        assert.truthy(curves:size(1) == 40 + 340 * 2 or curves:size(1) == 40 + 340 * 3, curves:size(1))
        local pngs = {}
        for name in io.popen('ls ' .. q(model_dir .. '/worst_frames')):lines() do pngs[#pngs + 1] = name end
        -- the 3 worst test frames (validation ones when the split has no test frame,
        -- as this tiny project's), or all of them when there are fewer
        local count = { test = 0, validation = 0 }
        for _, line in ipairs(lines(model_dir .. '/predictions_pixel_error.csv')) do
            local set = line:match(',(%a+)$')
            if count[set] then count[set] = count[set] + 1 end
        end
        local n = count.test > 0 and count.test or count.validation
        assert.is_true(n > 0)
        assert.are.equal(math.min(3, n), #pngs)
        for _, name in ipairs(pngs) do
            -- 96x80 frames magnified to 600 wide (600 / 96), a title above and a legend beside
            local img = assert(lpose.data.read_image_rgb(model_dir .. '/worst_frames/' .. name))
            assert.is_true(img:size(1) > 500 and img:size(2) > 600, name)
        end
        assert.truthy(train_log:find('worst frames, ground truth vs prediction', 1, true))
    end)

    it('writes frame-pixel coordinates that are not truncated', function()
        assert.is_true(trained, train_log)
        local t = assert(metrics.read_csv(model_dir .. '/predictions.csv'))
        local fractional = 0
        for _, frame in ipairs(t.keypoints) do
            for _, xy in ipairs(frame) do
                if xy[1] % 1 ~= 0 then fractional = fractional + 1 end
                if xy[2] % 1 ~= 0 then fractional = fractional + 1 end
            end
        end
        -- soft-argmax coordinates are almost never integers; truncation made them all so
        assert.is_true(fractional > #t.keypoints, ('only %d fractional coordinates'):format(fractional))
    end)
end)
