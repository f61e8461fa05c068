-- Specs for lpose.config (pure Lua: runs under build/lpose or plain luajit
-- with ./lua on package.path). Run from the repository root.
package.path = './lua/?.lua;./lua/?/init.lua;' .. package.path
local config = require('lpose.config')
local yaml = require('lpose.config.yaml')

local LP = '../shared/data/lp-configs'
local FIX = 'tests/fixtures/config'

local function exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() end
    return f ~= nil
end

local function err_of(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok, 'expected an error')
    return tostring(e)
end

local function has(msg, text)
    assert.is_truthy(msg:find(text, 1, true), ('%q not in:\n%s'):format(text, msg))
end

local function tmpname(suffix)
    return os.tmpname() .. (suffix or '.yaml')
end

describe('lpose.config LP configs', function()
    local function lp(name)
        local path = LP .. '/' .. name
        if not exists(path) then
            pending(LP .. ' not found')
            return nil
        end
        return path
    end

    it('loads config_default.yaml unmodified with LP defaults', function()
        local path = lp('config_default.yaml')
        if not path then return end
        local c = config.load { file = path }
        assert.equal('dlc', c.training.imgaug)
        assert.equal(16, c.training.train_batch_size)
        assert.equal(0.95, c.training.train_prob)
        assert.equal(1e-3, c.training.optimizer_params.learning_rate)
        assert.same({ 150, 200, 250 }, { unpack(c.training.lr_scheduler_params.multisteplr.milestones) })
        assert.equal('resnet50_animal_ap10k', c.model.backbone)
        assert.equal('heatmap', c.model.model_type)
        assert.equal(0, #c.model.losses_to_use)
        assert.is_nil(c.data.num_keypoints)
        assert.is_true(config.is_null(c, 'data.num_keypoints'))
        assert.is_true(config.is_null(c, 'data.image_resize_dims.height'))
        assert.equal(20.0, c.losses.temporal.epsilon)
        assert.equal(0.9, c.eval.confidence_thresh_for_vid)
        assert.equal('cool', c.eval.colormap)
        assert.equal(60, c.callbacks.anneal_weight.freeze_until_epoch)
        -- ${data.video_dir} resolved
        assert.equal('/replace/with/your/path', c.eval.test_videos_directory)
        -- hydra's section stays verbatim (it names ${hydra.job.num})
        assert.equal('${hydra.job.num}', c.hydra.sweep.subdir)
    end)

    it('loads config_mirror-mouse-example.yaml with ${LP_ROOT_PATH:} and nested references', function()
        local path = lp('config_mirror-mouse-example.yaml')
        if not path then return end
        local c = config.load { file = path, lp_root = '/lp' }
        assert.equal('/lp/data/mirror-mouse-example', c.data.data_dir)
        assert.equal('/lp/data/mirror-mouse-example/videos', c.data.video_dir)
        assert.equal('/lp/data/mirror-mouse-example/videos', c.eval.test_videos_directory)
        assert.equal(17, c.data.num_keypoints)
        assert.equal(17, #c.data.keypoint_names)
        assert.equal('obsLow_bot', c.data.keypoint_names[17])
        assert.same({ 8, 9, 10, 11, 12, 13, 14 }, { unpack(c.data.mirrored_column_matches[2]) })
        assert.equal(14, #c.data.columns_for_singleview_pca)
        assert.equal('pca_singleview', c.model.losses_to_use[1])
        assert.equal(10.7, c.losses.pca_singleview.log_weight)
        assert.equal(42, c.training.rng_seed_data_pt)
        assert.equal(0, c.callbacks.anneal_weight.freeze_until_epoch)
        -- keys the file leaves out come from the default
        assert.is_false(c.training.imgaug_hflip)
        assert.equal(16, c.dali.base.train.sequence_length)
        assert.equal(123456, c.dali.general.seed)
        assert.same({}, config.unsupported(c))
    end)

    it('loads config_default_multiview.yaml and names what lpose lacks', function()
        local path = lp('config_default_multiview.yaml')
        if not path then return end
        local c = config.load { file = path }
        assert.equal('heatmap_multiview_transformer', c.model.model_type)
        assert.same({ 'cam0', 'cam1' }, { unpack(c.data.view_names) })
        assert.equal(0.5, c.training.patch_mask.final_ratio)
        assert.equal(3.0, c.losses.supervised_reprojection_heatmap_mse.log_weight)
        local msg = err_of(config.check_supported, c)
        has(msg, 'transformer backbones are not supported')
        has(msg, 'multiview')
        has(err_of(config.load, { file = path, check_supported = true }), 'not supported by lpose yet')
    end)
end)

describe('lpose.config lpose configs', function()
    it('default, synthetic and mirror-mouse configs load', function()
        local d = config.load {}
        assert.equal('auto', d.training.device)
        local s = config.load { file = 'configs/config_synthetic.yaml', env = function() return nil end }
        assert.equal('heatmap_mhcrnn', s.model.model_type)
        assert.equal('resnet18', s.model.backbone)
        assert.equal(6, s.data.num_keypoints)
        assert.equal('data/synthetic/videos', s.data.video_dir)
        assert.same({}, config.unsupported(s))
        local m = config.load { file = 'configs/config_mirror-mouse-example.yaml', env = function() return nil end }
        assert.equal('../shared/data/mirror-mouse-example', m.data.data_dir)
    end)

    it('config_default.yaml documents every schema key', function()
        local text = io.open(config.default_file()):read('*a')
        local parsed = yaml.decode(text)
        local tree = require('lpose.config.tree')
        for _, key in ipairs(config.schema.leaves()) do
            local present = tree.get(parsed, key) ~= nil
            local commented = false -- optional keys that must stay absent: named, dotted, in a comment
            for line in text:gmatch('[^\n]+') do
                if line:match('^%s*#') and line:find(key, 1, true) then commented = true end
            end
            assert.is_true(present or commented, key .. ' is not documented in config_default.yaml')
        end
    end)

    it('docs/reference/config-keys.md lists every schema key', function()
        local f = io.open('docs/reference/config-keys.md')
        if not f then return pending('docs/reference/config-keys.md not found') end
        local text = f:read('*a')
        f:close()
        for _, key in ipairs(config.schema.leaves()) do
            assert.is_truthy(text:find('`' .. key .. '`', 1, true), key .. ' missing from config-keys.md')
        end
    end)

    it('loads a .lua config', function()
        local c = config.load { file = FIX .. '/lua_config.lua' }
        assert.equal('/data/mouse/videos', c.data.video_dir)
        assert.equal(384, c.data.image_resize_dims.width)
        assert.is_true(config.is_null(c, 'data.columns_for_singleview_pca'))
        assert.equal(0, #c.model.losses_to_use)
    end)

    it('from_table validates a Lua table', function()
        local c = config.from_table { data = { num_keypoints = 3 }, training = { train_batch_size = 2 } }
        assert.equal(3, c.data.num_keypoints)
        has(err_of(config.from_table, { training = { train_batch_size = 'x' } }), 'training.train_batch_size')
    end)

    it('step mode drops the default epoch keys', function()
        local c = config.load { file = FIX .. '/step_mode.yaml' }
        assert.equal(9000, c.training.max_steps)
        assert.is_nil(c.training.max_epochs)
        assert.is_nil(c.training.lr_scheduler_params.multisteplr.milestones)
        has(err_of(config.load, { file = FIX .. '/mixed_modes.yaml' }), 'cannot be mixed')
        local o = config.load { overrides = {
            '~training.min_epochs', '~training.max_epochs', '~training.unfreezing_epoch',
            '~training.lr_scheduler_params.multisteplr.milestones', '+training.min_steps=10', '+training.max_steps=10',
            '+training.unfreezing_step=2', '+training.lr_scheduler_params.multisteplr.milestone_steps=[5]' } }
        assert.equal(10, o.training.max_steps)
    end)
end)

describe('lpose.config errors', function()
    it('unknown key names the dotted key and suggests', function()
        local msg = err_of(config.load, { file = FIX .. '/unknown_key.yaml' })
        has(msg, "unknown key 'training.train_batch_sise'")
        has(msg, "did you mean 'train_batch_size'?")
        has(msg, 'unknown_key.yaml:3')
        msg = err_of(config.load, { overrides = { 'training.train_batch_sise=8' } })
        has(msg, "override 'training.train_batch_sise=8'")
        has(msg, "did you mean 'train_batch_size'?")
        -- a key in the wrong section points at the right one
        has(err_of(config.from_table, { data = { train_batch_size = 8 } }), "did you mean 'training.train_batch_size'?")
    end)

    it('wrong type names key, expected type and value', function()
        local msg = err_of(config.load, { file = FIX .. '/bad_type.yaml' })
        has(msg, 'training.train_batch_size: expected int, got "sixteen" (string)')
        msg = err_of(config.load, { overrides = { 'training.train_batch_size=2.5' } })
        has(msg, 'expected int, got 2.5 (float)')
        has(err_of(config.load, { overrides = { 'model.checkpoint=[1]' } }), 'expected string or null')
        has(err_of(config.load, { overrides = { 'training.max_epochs=null' } }), 'expected int, got null')
    end)

    it('bad enum values', function()
        local msg = err_of(config.load, { file = FIX .. '/bad_enum.yaml' })
        has(msg, 'model.model_type: "heatmap_tcn" is not one of regression | heatmap | heatmap_mhcrnn')
        has(msg, "did you mean 'heatmap_mhcrnn'?")
        has(err_of(config.load, { overrides = { 'model.heatmap_loss_type=l2' } }),
            "mse | kl | js (override 'model.heatmap_loss_type=l2')")
        has(err_of(config.load, { overrides = { 'training.imgaug=dlc-up' } }), 'dlc-top-down')
        has(err_of(config.load, { overrides = { 'model.backbone=resnet19' } }), "did you mean 'resnet18'?")
        has(err_of(config.load, { overrides = { 'training.device=gpu' } }), 'auto | cpu | cuda | cuda:N')
        assert.equal('cuda:1', config.load { overrides = { 'training.device=cuda:1' } }.training.device)
        has(err_of(config.load, { overrides = { 'model.losses_to_use=[temporall]' } }), "did you mean 'temporal'?")
    end)

    it('data.skeleton: null by default, pairs of keypoint_names, an unknown name named', function()
        assert.is_nil(config.load {}.data.skeleton)
        local c = config.load { overrides = { 'data.keypoint_names=[a,b,c]', 'data.skeleton=[[a,b],[b,c]]' } }
        assert.are.same({ { 'a', 'b' }, { 'b', 'c' } }, c.data.skeleton)
        has(err_of(config.load, { overrides = { 'data.keypoint_names=[a,b,c]', 'data.skeleton=[[a,b],[b,zz]]' } }),
            "data.skeleton[2]: unknown keypoint 'zz' (data.keypoint_names: a, b, c)")
        has(err_of(config.load, { overrides = { 'data.keypoint_names=[a,b,c]', 'data.skeleton=[[a,b,c]]' } }),
            'data.skeleton[1]: must be a pair')
        has(err_of(config.load, { overrides = { 'data.skeleton=[a,b]' } }), 'data.skeleton')
    end)

    it("LP's cross-key checks", function()
        has(err_of(config.load, { file = FIX .. '/bad_resize.yaml' }), 'multiple of 32')
        has(err_of(config.load, { overrides = { 'training.train_prob=0.9', 'training.val_prob=0.2' } }), '<= 1')
        has(err_of(config.load, { overrides = { 'data.num_keypoints=3', 'data.keypoint_names=[a,b]' } }),
            '2 names but data.num_keypoints is 3')
        has(err_of(config.load, { overrides = { 'training.ckpt_every_n_epochs=7' } }), 'divisible')
        has(err_of(config.load, { overrides = { 'training.max_epochs=100' } }), 'exceeds training.max_epochs')
        has(err_of(config.load, { overrides = { 'model.model_type=heatmap_mhcrnn', 'data.downsample_factor=3' } }),
            'heatmap_mhcrnn requires 2')
    end)

    it('interpolation cycle', function()
        local msg = err_of(config.load, { file = FIX .. '/cycle.yaml' })
        has(msg, 'interpolation cycle')
        has(msg, 'data.data_dir')
        has(msg, 'data.video_dir')
        has(err_of(config.load, { overrides = { 'data.data_dir=${data.nope}' } }), 'missing key data.nope')
    end)

    it('YAML syntax error names the file', function()
        has(err_of(config.load, { file = FIX .. '/bad_syntax.yaml' }), 'bad_syntax.yaml')
    end)
end)

describe('lpose.config YAML', function()
    it('reads scalars as OmegaConf does', function()
        local t = yaml.decode('a: 1e-3\nb: "20"\nc: yes\nd: ~\ne: []\nf: {}\ng: 0.90\nh: 5\n')
        assert.equal(0.001, t.a)
        assert.equal('20', t.b)
        assert.is_true(t.c)
        assert.equal(config.null, t.d)
        assert.equal(0, #t.e)
        assert.is_true(require('lpose.config.tree').is_list(t.e))
        assert.is_false(require('lpose.config.tree').is_list(t.f))
        assert.equal(0.9, t.g)
        assert.equal(5, t.h)
    end)

    it('supports anchors and << merge keys', function()
        local t = yaml.decode('base: &b\n  x: 1\n  y: 2\nsec:\n  <<: *b\n  y: 3\n')
        assert.equal(1, t.sec.x)
        assert.equal(3, t.sec.y)
    end)

    it('keeps the order of a custom imgaug mapping through save', function()
        local c = config.load { file = FIX .. '/imgaug_dict.yaml' }
        assert.same({ 'Rot90', 'Affine', 'MotionBlur' }, config.keys(c.training.imgaug))
        local path = tmpname()
        config.save(c, path)
        local r = config.load { file = path }
        os.remove(path)
        assert.same({ 'Rot90', 'Affine', 'MotionBlur' }, config.keys(r.training.imgaug))
        assert.equal(0.4, r.training.imgaug.Affine.p)
        has(err_of(config.load, { overrides = { 'training.imgaug={Affine: {q: 0.5}}' } }),
            "training.imgaug.Affine: unknown key 'q'")
    end)
end)

describe('lpose.config interpolation', function()
    it('resolves references, env vars with defaults and keeps types', function()
        local env = { HOME_X = '/h' }
        local c = config.load { env = function(k) return env[k] end, overrides = {
            'data.data_dir=${oc.env:HOME_X}/mouse',
            'data.video_dir=${oc.env:NOPE_X,/fallback}/v',
            '+losses.mine.note=${env:NOPE_Y,dflt}',
            'data.num_keypoints=4',
            '+losses.mine.k=${data.num_keypoints}',
            '+losses.mine.rel=${.k}',
            'model.model_name=\\${literal}',
            '+losses.mine.nested=${oc.env:NOPE_X,${data.data_dir}}',
            '+losses.mine.first=${data.keypoint_names.0}',
            'data.keypoint_names=[a,b,c,d]',
        } }
        assert.equal('/h/mouse', c.losses.mine.nested)
        assert.equal('a', c.losses.mine.first)
        assert.equal('/h/mouse', c.data.data_dir)
        assert.equal('/fallback/v', c.data.video_dir)
        assert.equal('/fallback/v', c.eval.test_videos_directory)
        assert.equal('dflt', c.losses.mine.note)
        assert.equal(4, c.losses.mine.k)
        assert.equal(4, c.losses.mine.rel)
        assert.equal('${literal}', c.model.model_name)
        has(err_of(config.load, { env = function() return nil end, overrides = { 'data.data_dir=${oc.env:NOPE_Z}' } }),
            "environment variable 'NOPE_Z' not found")
    end)
end)

describe('lpose.config overrides', function()
    local function o(...) return config.load { overrides = { ... } } end

    it('types values by the schema', function()
        local c = o('training.max_epochs=400', 'training.train_prob=0.5', 'losses.temporal.epsilon=3',
            'training.early_stopping=True', 'model.checkpoint=null', 'model.model_name=123',
            'training.optimizer_params.learning_rate=5e-4')
        assert.equal(400, c.training.max_epochs)
        assert.equal(0.5, c.training.train_prob)
        assert.equal(3, c.losses.temporal.epsilon)
        assert.is_true(c.training.early_stopping)
        assert.is_true(config.is_null(c, 'model.checkpoint'))
        assert.equal('123', c.model.model_name)
        assert.equal(5e-4, c.training.optimizer_params.learning_rate)
    end)

    it('lists, nested lists and quoted strings', function()
        local c = o('model.losses_to_use=[pca_singleview, temporal]', 'data.mirrored_column_matches=[[0,1],[2,3]]',
            "data.data_dir='/a b/c,d'", 'data.video_dir="x=y"', 'data.keypoint_names=[nose, "tail base", 3]',
            'losses.temporal.epsilon=[1, 2.5]', 'model.losses_to_use=[]')
        assert.equal(0, #c.model.losses_to_use)
        assert.same({ { 0, 1 }, { 2, 3 } }, { { unpack(c.data.mirrored_column_matches[1]) },
            { unpack(c.data.mirrored_column_matches[2]) } })
        assert.equal('/a b/c,d', c.data.data_dir)
        assert.equal('x=y', c.data.video_dir)
        assert.same({ 'nose', 'tail base', '3' }, { unpack(c.data.keypoint_names) })
        assert.same({ 1, 2.5 }, { unpack(c.losses.temporal.epsilon) })
        assert.same({ 'pca_singleview', 'temporal' },
            { unpack(o('model.losses_to_use=[pca_singleview, temporal]').model.losses_to_use) })
        assert.is_true(config.is_null(o('model.losses_to_use=null'), 'model.losses_to_use'))
    end)

    it('+key adds, ++key upserts, ~key deletes', function()
        local c = o('+losses.my_loss.log_weight=5', '+losses.my_loss.scale=2.5', 'model.losses_to_use=[my_loss]')
        assert.equal(5, c.losses.my_loss.log_weight)
        assert.equal('my_loss', c.model.losses_to_use[1])
        -- LP command lines add keys lpose's default already has
        assert.equal(5, o('+training.limit_train_batches=5').training.limit_train_batches)
        assert.equal(7, o('++training.max_epochs=400', '++losses.x.y=7').losses.x.y)
        assert.is_nil(o('~training.ckpt_every_n_epochs').training.ckpt_every_n_epochs)
        assert.is_false(config.has(o('~training.ckpt_every_n_epochs'), 'training.ckpt_every_n_epochs'))
        has(err_of(o, '+training.max_epochs=400', '+training.max_epochs=500'), "already exists")
        has(err_of(o, 'training.min_steps=5'), "add it with '+training.min_steps=5'")
        has(err_of(o, '+training.foo=1'), "unknown key 'training.foo'")
        has(err_of(o, '~training.nope'), 'nothing to delete')
        has(err_of(o, '~training.max_epochs=5'), 'not deleted')
        assert.is_nil(o('~training.min_epochs=300', '~training.max_epochs', '~training.unfreezing_epoch',
            '~training.lr_scheduler_params.multisteplr.milestones', '+training.min_steps=1',
            '+training.max_steps=2', '+training.unfreezing_step=1').training.min_epochs)
    end)

    it('bad override syntax names the override', function()
        has(err_of(o, 'training.max_epochs'), "override 'training.max_epochs': missing '='")
        has(err_of(o, 'model.losses_to_use=[a,b'), "override 'model.losses_to_use=[a,b'")
        has(err_of(o, 'training.max_epochs=1,2'), 'sweep')
        has(err_of(o, "data.data_dir='abc"), 'unterminated')
    end)

    it('argv entries before -- are overrides', function()
        local c = config.load { argv = { 'training.max_epochs=400', 'script-arg', '--', 'training.min_epochs=1' } }
        assert.equal(400, c.training.max_epochs)
        assert.equal(300, c.training.min_epochs)
    end)
end)

describe('lpose.config save, get, set, model_dir', function()
    it('round-trips through save and load', function()
        local c = config.load { overrides = { 'data.num_keypoints=2', 'data.keypoint_names=[a, "b: c"]',
            'data.image_resize_dims.height=256', 'data.image_resize_dims.width=128',
            'data.mirrored_column_matches=[[0],[1]]', 'model.model_name=007', 'losses.temporal.epsilon=[1,2]',
            'eval.colormap=\\${not_a_ref}',
            "data.data_dir='yes'", '+losses.custom.x=1' } }
        local path = tmpname()
        config.save(c, path)
        local text = io.open(path):read('*a')
        -- LP's section order
        assert.is_true(text:find('\ndata:') < text:find('\ntraining:'))
        assert.is_true(text:find('\ntraining:') < text:find('\nmodel:'))
        assert.is_true(text:find('\nmodel:') < text:find('\ndali:'))
        assert.is_truthy(text:find('epsilon: 20.0', 1, true) or text:find('epsilon: [1.0, 2.0]', 1, true))
        local r = config.load { file = path }
        os.remove(path)
        assert.same(yaml.encode(require('lpose.config.tree').import(c)),
            yaml.encode(require('lpose.config.tree').import(r)))
        assert.equal('yes', r.data.data_dir)
        assert.equal('007', r.model.model_name)
        assert.equal('${not_a_ref}', r.eval.colormap)
        assert.is_truthy(config.model_dir(r):match('^%./outputs/%d+%-%d+%-%d+/%d+%-%d+%-%d+$'))
        assert.equal('b: c', r.data.keypoint_names[2])
        assert.is_true(config.is_null(r, 'model.checkpoint'))
        assert.equal(0, #r.model.losses_to_use)
    end)

    it('get and set by dotted key', function()
        local c = config.load {}
        assert.equal(16, config.get(c, 'training.train_batch_size'))
        assert.is_nil(config.get(c, 'model.checkpoint'))
        assert.is_nil(config.get(c, 'no.such.key'))
        config.set(c, 'training.train_batch_size', 4)
        assert.equal(4, c.training.train_batch_size)
        config.set(c, 'model.checkpoint', 'a.ckpt')
        assert.equal('a.ckpt', c.model.checkpoint)
        assert.is_false(config.is_null(c, 'model.checkpoint'))
        config.set(c, 'model.checkpoint', config.null)
        assert.is_true(config.is_null(c, 'model.checkpoint'))
        has(err_of(config.set, c, 'training.train_batch_sise', 4), "did you mean 'train_batch_size'?")
        has(err_of(config.set, c, 'training.train_batch_size', 'x'), 'expected int')
        config.set(c, 'losses.custom.w', 1)
        assert.equal(1, c.losses.custom.w)
    end)

    it("model_dir follows LP's outputs/YYYY-MM-DD/HH-MM-SS", function()
        local c = config.load {}
        local t = os.time { year = 2024, month = 3, day = 5, hour = 7, min = 8, sec = 9 }
        assert.equal('/base/outputs/2024-03-05/07-08-09', config.model_dir(c, { base = '/base', time = t }))
        assert.equal('./outputs/2024-03-05/07-08-09', config.model_dir({}, { time = t }))
        local dir = config.model_dir(c, { base = os.tmpname() .. '.d', time = t, create = true })
        assert.is_true(os.rename(dir, dir))
        os.execute("rm -rf '" .. dir:match('^(.*)/outputs/') .. "'")
    end)
end)
