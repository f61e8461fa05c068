-- Specs for what training setup checks before it builds anything
-- (lua/lpose/train/checks.lua) and for the loss names config validation
-- accepts (lua/lpose/config/validate.lua asks lpose.losses): a config that
-- does not fit its data stops with a message naming the key, the file and
-- the CSV, and leaves no model directory behind.
local lpose = require('lpose')
local config = require('lpose.config')
local losses = require('lpose.losses')
local checks = require('lpose.train.checks')

local support = dofile('tests/lua/support.lua')
local tmp = support.mktemp('train_checks')
local project6, project5 = tmp .. '/p6', tmp .. '/p5'

local function load_cfg(project, extra)
    local overrides = {
        'data.data_dir=' .. project,
        'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
        'training.train_batch_size=4', 'training.val_batch_size=8', 'training.train_prob=0.75',
        'training.val_prob=0.25', 'training.num_workers=1', 'training.device=cpu',
        'dali.context.train.batch_size=6', 'dali.base.train.sequence_length=4',
        'model.losses_to_use=[]', 'eval.predict_vids_after_training=false',
    }
    for _, o in ipairs(extra or {}) do overrides[#overrides + 1] = o end
    return config.load({ file = 'configs/config_synthetic.yaml', overrides = overrides })
end

local function exists(path)
    local f = io.open(path, 'r')
    if f then f:close() return true end
    return false
end

-- setup's error message; asserts that setup failed and created no directory
local function setup_error(cfg, name)
    local dir = tmp .. '/runs/' .. name
    local ok, err = pcall(lpose.train.setup, cfg, { model_dir = dir, quiet = true })
    assert.is_false(ok, 'setup should have failed')
    assert.is_false(exists(dir), 'a failed setup left ' .. dir)
    return tostring(err)
end

local function has(text, part)
    assert.is_truthy(text:find(part, 1, true), ('expected %q in: %s'):format(part, text))
end

describe('train setup checks', function()
    setup(function()
        local opts = { n_videos = 2, n_test_videos = 0, n_frames = 30, width = 64, height = 64,
            n_labeled_per_video = 6, seed = 3 }
        assert(lpose.synth.generate(project6, opts))
        opts.n_keypoints = 5
        assert(lpose.synth.generate(project5, opts))
    end)
    teardown(function() os.execute('rm -rf ' .. support.q(tmp)) end)

    it('refuses model.backbone_pretrained: true without model.backbone_weights', function()
        local cfg = load_cfg(project6, { 'model.backbone_pretrained=true' })
        local err = setup_error(cfg, 'pretrained')
        has(err, 'model.backbone_pretrained is true')
        has(err, "(override 'model.backbone_pretrained=true')")
        has(err, 'model.backbone_weights is not set')
        has(err, 'lpose never downloads')
        has(err, 'torchvision ResNet18_Weights.IMAGENET1K_V1')
        has(err, 'model.backbone_pretrained=false')
        has(err, 'docs/guides/pretrained-backbones.md')
        -- LP's default (config_default.yaml) is true, and names the AP-10K checkpoint
        local lp_default = config.load({ overrides = { 'data.num_keypoints=6' } })
        local ok, msg = pcall(checks.backbone, lp_default)
        assert.is_false(ok)
        has(msg, '(default: ')
        has(msg, 'configs/config_default.yaml)')
        has(msg, 'res50_ap10k_256x256-35760eb8_20211029.pth')
        -- the synthetic config says false; a weights file also satisfies it
        checks.backbone(load_cfg(project6))
        checks.backbone(load_cfg(project6, { 'model.backbone_pretrained=true', 'model.backbone_weights=/w.pt' }))
        -- loading a saved config (lpose predict) never checks it
        assert.is_true(config.load({ overrides = { 'model.backbone_pretrained=true' } }).model.backbone_pretrained)
    end)

    it('describes the backbone_weights load report, and refuses a file that matched nothing', function()
        local msg, warning = checks.weights({ loaded = 120, missing = {}, unexpected = { 'fc.bias', 'fc.weight' } },
            '/w/r18.pt')
        assert.equal('model.backbone_weights: loaded 120 tensors from /w/r18.pt (0 missing, 2 unexpected: '
            .. 'fc.bias, fc.weight)', msg)
        assert.is_nil(warning)
        local _, warning2 = checks.weights({ loaded = 100, missing = { 'backbone.layer4.1.bn2.weight' },
            unexpected = {} }, '/w/x.pt')
        has(warning2, '1 backbone tensors are not in /w/x.pt')
        local ok, err = pcall(checks.weights, { loaded = 0, missing = { 'a' }, unexpected = { 'state_dict/x' } },
            '/w/other.ckpt')
        assert.is_false(ok)
        has(err, 'no tensor of /w/other.ckpt matched the backbone')
    end)

    local has_torch = os.execute("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0
    ;(has_torch and it or pending)('loads model.backbone_weights once and keeps its report on the run', function()
        local file = tmp .. '/r18.pt'
        assert.equal(0, os.execute(("/usr/bin/python3 -c \"import torch, torchvision; "
            .. "torch.save(torchvision.models.resnet18().state_dict(), '%s')\""):format(file)))
        local cfg = load_cfg(project6, { 'model.backbone_pretrained=true', 'model.backbone_weights=' .. file })
        local run = lpose.train.setup(cfg, { model_dir = tmp .. '/runs/weights', quiet = true })
        assert.equal(120, run.weights_report.loaded)
        assert.equal(run.model.backbone_weights_report, run.weights_report)
        lpose.train.finish(run)
    end)

    it('refuses a CSV whose keypoint count differs from data.num_keypoints', function()
        local cfg = load_cfg(project5) -- config_synthetic.yaml says 6 keypoints
        local err = setup_error(cfg, 'count')
        has(err, 'data.num_keypoints is 6 (configs/config_synthetic.yaml:')
        has(err, 'the labels CSV ' .. project5 .. '/CollectedData.csv has 5 keypoints')
        has(err, 'has 5 keypoints (nose, kp01, kp02, kp03, tail_tip)')
    end)

    it('refuses keypoint names that differ from the CSV unless allowed', function()
        local names = 'data.keypoint_names=[nose,head,neck,back,tail_root,tail_tip]'
        local err = setup_error(load_cfg(project6, { names }), 'names')
        has(err, "data.keypoint_names (override '" .. names .. "')")
        has(err, project6 .. '/CollectedData.csv at 1 of 6 positions')
        has(err, "#4 config 'tail_root', CSV 'tail_base'")
        has(err, 'data.allow_keypoint_name_mismatch: true')
        -- the opt-in: setup runs, with a warning on the run
        local cfg = load_cfg(project6, { names, 'data.allow_keypoint_name_mismatch=true',
            'model.model_type=heatmap' })
        local run = lpose.train.setup(cfg, { model_dir = tmp .. '/runs/names_ok', quiet = true })
        assert.equal(1, #run.warnings)
        has(run.warnings[1], 'warning: data.keypoint_names')
        has(run.warnings[1], 'training anyway')
        assert.is_true(exists(tmp .. '/runs/names_ok/config.yaml'))
        lpose.train.finish(run)
        -- matching names: no warning
        assert.same({}, checks.keypoints(load_cfg(project6)))
    end)

    it('finds the synthetic TCN project temporal, and is quiet without videos', function()
        local w, info = checks.context_frames(load_cfg(project6))
        assert.is_nil(w)
        assert.equal(8, info.checked)
        assert.equal(0, info.failed)
        w, info = checks.context_frames(load_cfg(project6, { 'data.video_dir=' .. tmp .. '/no_videos' }))
        assert.is_nil(w)
        assert.equal(0, info.checked)
        w, info = checks.context_frames(load_cfg(project6, { 'model.model_type=heatmap' }))
        assert.is_nil(w)
        assert.equal(0, info.checked)
    end)

    it('warns when a TCN project has labeled frames that are not its video frames', function()
        -- a copy whose labeled image of one sampled row is another frame of the video
        local copy = tmp .. '/p6_swapped'
        os.execute(('cp -r %s %s'):format(support.q(project6), support.q(copy)))
        local labels = assert(lpose.data.read_labels(copy .. '/CollectedData.csv'))
        local rel = labels:image_paths()[1]
        labels:free()
        local dir, name = rel:match('^(.*)/([^/]*)$')
        local digits = name:match('%d+')
        local other = name:gsub('%d+', ('%0' .. #digits .. 'd'):format(tonumber(digits) + 1), 1)
        assert(os.execute(('cp %s %s'):format(support.q(copy .. '/' .. dir .. '/' .. other),
            support.q(copy .. '/' .. rel))) == 0)
        local w, info = checks.context_frames(load_cfg(copy))
        assert.equal(1, info.failed)
        has(w, 'warning: 1 of 8 sampled labeled frames do not match their video frames')
        has(w, 'lpose check-frames ' .. copy .. '/CollectedData.csv ' .. copy .. '/videos/')
    end)

    local mirror = '../shared/data/mirror-mouse-example'
    ;(exists(mirror .. '/CollectedData.csv') and it or pending)(
        "warns for LP's mirror-mouse example as a TCN (its labeled frames are not frames of its video)", function()
            local cfg = config.load({ file = 'configs/config_mirror-mouse-example.yaml',
                overrides = { 'data.data_dir=' .. mirror, 'model.model_type=heatmap_mhcrnn',
                    'model.backbone_pretrained=false' } })
            local w, info = checks.context_frames(cfg)
            assert.equal(8, info.checked)
            assert.equal(8, info.failed)
            has(w, 'warning: 8 of 8 sampled labeled frames do not match their video frames')
            has(w, 'context frames t-2..t+2')
            has(w, mirror .. '/videos/test_vid.mp4')
        end)
end)

describe('loss names (config validation asks the loss registry)', function()
    local function load(...)
        return config.load({ overrides = { ... } })
    end
    local function load_error(...)
        local ok, err = pcall(config.load, { overrides = { ... } })
        assert.is_false(ok)
        return tostring(err)
    end

    it('accepts the built-in unimodal losses and a registered custom loss', function()
        assert.equal('unimodal_mse', load('model.losses_to_use=[unimodal_mse, temporal]').model.losses_to_use[1])
        assert.equal('unimodal_kl', load('model.losses_to_use=[unimodal_kl]').model.losses_to_use[1])
        has(load_error('model.losses_to_use=[spec_custom_loss]'), 'unknown loss "spec_custom_loss"')
        losses.register('spec_custom_loss', function() return nil end)
        finally(function() losses.unregister('spec_custom_loss') end)
        assert.equal('spec_custom_loss', load('model.losses_to_use=[spec_custom_loss]').model.losses_to_use[1])
    end)

    it('refuses temporal_heatmap_* as not implemented, and keeps their sections valid', function()
        local err = load_error('model.losses_to_use=[temporal_heatmap_mse]')
        has(err, 'model.losses_to_use: "temporal_heatmap_mse" is a Lightning Pose loss that lpose does not implement')
        has(err, 'unimodal_mse')
        has(load_error('model.losses_to_use=[temporal_heatmap_kl]'), 'does not implement')
        assert.equal(4, load('+losses.temporal_heatmap_mse.log_weight=4').losses.temporal_heatmap_mse.log_weight)
    end)

    it('keeps the did-you-mean hint and names supervised losses', function()
        has(load_error('model.losses_to_use=[unimodal_mes]'), "did you mean 'unimodal_mse'?")
        has(load_error('model.losses_to_use=[heatmap_mse]'), 'choose it with model.heatmap_loss_type')
    end)

    it('training refuses a losses.<name> section whose loss nobody registered', function()
        local cfg = config.load({ file = 'configs/config_synthetic.yaml', overrides = {
            '+losses.not_registered.log_weight=5', 'model.losses_to_use=[not_registered]' } })
        local ok, err = pcall(checks.losses, cfg)
        assert.is_false(ok)
        has(err, "model.losses_to_use (override 'model.losses_to_use=[not_registered]'): no loss named "
            .. "'not_registered' is registered")
        has(err, 'lpose.losses.register')
        checks.losses(config.load({ file = 'configs/config_synthetic.yaml' }))
    end)
end)
