-- Specs for lpose.models: LP's heatmap trackers from Lua (resnet18 at 64x64
-- to stay fast on a 2-core CPU).
local lpose = require('lpose')
local models = require('lpose.models')

local function cfg(model_type, k)
    return {
        model = { model_type = model_type, backbone = 'resnet18', downsample_factor = 2 },
        data = { num_keypoints = k or 3, image_resize_dims = { height = 64, width = 64 } },
        training = { rng_seed_model_pt = 0 },
    }
end

local function max_abs_diff(a, b)
    return (a - b):abs():max():item()
end

describe('lpose.models.new', function()
    it('builds a TCN with LP parameter counts and names', function()
        local m = models.new(cfg('heatmap_mhcrnn', 17))
        assert.equal(11228498, m:n_parameters())
        assert.equal(22219, m:n_parameters('head_sf.'))
        assert.equal(29767, m:n_parameters('head_mf.'))
        assert.is_true(m:is_mhcrnn())
        local names = {}
        for name, p in m:named_parameters() do
            names[#names + 1] = name
            assert.is_true(p:requires_grad())
        end
        assert.equal('backbone.conv1.weight', names[1])
        assert.equal(#names, #m:parameters())
        assert.equal(#m:parameters('backbone.') + #m:parameters('head_sf.') + #m:parameters('head_mf.'), #names)
        local s = tostring(m)
        assert.truthy(s:find('heatmap_mhcrnn', 1, true))
        assert.truthy(s:find('11,228,498 trainable parameters', 1, true))
        assert.truthy(s:find('W_pre', 1, true))
        m:free()
    end)

    it('accepts LP backbone aliases and rejects unknown values, naming the key', function()
        local c = cfg('heatmap')
        c.model.backbone = 'resnet50_animal_ap10k'
        local m = models.new(c)
        assert.equal('resnet50', m:config().backbone)
        m:free()
        c.model.backbone = 'vits_dino'
        local ok, err = pcall(models.new, c)
        assert.is_false(ok)
        assert.truthy(err:find('model.backbone', 1, true))
        c = cfg('regression')
        ok, err = pcall(models.new, c)
        assert.is_false(ok)
        assert.truthy(err:find('model_type', 1, true))
        c = cfg('heatmap_mhcrnn')
        c.model.downsample_factor = 3
        ok, err = pcall(models.new, c)
        assert.is_false(ok)
        assert.truthy(err:find('downsample_factor', 1, true))
    end)

    it('frees idempotently and raises on use after free', function()
        local m = models.new(cfg('heatmap'))
        m:free()
        m:free()
        local ok, err = pcall(function() return m:n_parameters() end)
        assert.is_false(ok)
        assert.truthy(err:find('after free', 1, true))
    end)
end)

describe('model:forward and model:predict', function()
    it('gives both heads for the TCN and one for the baseline', function()
        local m = models.new(cfg('heatmap_mhcrnn'))
        local sf, mf = m:forward(lpose.randn(2, 5, 3, 64, 64))
        assert.same({ 2, 3, 16, 16 }, sf:size())
        assert.same({ 2, 3, 16, 16 }, mf:size())
        assert.is_true(math.abs(sf:sum():item() - 6) < 1e-3)
        -- a window of T frames gives T - 4 centre outputs
        local wsf, wmf = m:forward(lpose.randn(6, 3, 64, 64))
        assert.same({ 2, 3, 16, 16 }, wsf:size())
        assert.same({ 2, 3, 16, 16 }, wmf:size())
        local base = models.new(cfg('heatmap'))
        local bsf, bmf = base:forward(lpose.randn(2, 3, 64, 64))
        assert.same({ 2, 3, 16, 16 }, bsf:size())
        assert.is_nil(bmf)
    end)

    it('predicts keypoints batch K 2 and confidences batch K in frame pixels', function()
        local m = models.new(cfg('heatmap_mhcrnn')):eval()
        assert.is_false(m:is_training())
        local kp, conf = m:predict(lpose.randn(2, 5, 3, 64, 64), { frame_height = 480, frame_width = 640 })
        assert.same({ 2, 3, 2 }, kp:size())
        assert.same({ 2, 3 }, conf:size())
        assert.is_true(kp:max():item() < 640)
        assert.is_true(conf:min():item() >= 0 and conf:max():item() <= 1.0001)
    end)

    it('predicts in eval mode whatever the mode, restoring it and leaving batch norm statistics alone', function()
        local m = models.new(cfg('heatmap_mhcrnn'))
        local x = lpose.randn(3, 5, 3, 64, 64, { seed = 3 })
        m:forward(x) -- running statistics away from their init
        local before = {}
        for name, t in pairs(m:state_dict()) do before[name] = t:clone() end -- state_dict shares storage
        m:eval()
        local kp_eval, conf_eval = m:predict(x, { frame_height = 100, frame_width = 90 })
        m:train()
        local kp, conf = m:predict(x, { frame_height = 100, frame_width = 90 })
        assert.is_true(m:is_training())
        -- the same arithmetic on the same weights: bit-identical
        assert.equal(0, max_abs_diff(kp, kp_eval))
        assert.equal(0, max_abs_diff(conf, conf_eval))
        local after = m:state_dict()
        for name, t in pairs(before) do assert.equal(0, max_abs_diff(t, after[name]), name) end
    end)

    it('reuses backbone features through forward_backbone / context_stack / forward_heads', function()
        local m = models.new(cfg('heatmap_mhcrnn')):eval()
        local x = lpose.randn(7, 3, 64, 64)
        local sf, mf = m:forward(x)
        local feats = m:forward_backbone(x)
        assert.same({ 7, 512, 2, 2 }, feats:size())
        local sf2, mf2 = m:forward_heads(feats) -- a window: T-4 outputs
        assert.equal(0, max_abs_diff(sf, sf2))
        assert.equal(0, max_abs_diff(mf, mf2))
        local sf3, mf3 = m:forward_heads(models.context_stack(feats)) -- explicit stacks
        assert.same({ 3, 5, 512, 2, 2 }, models.context_stack(feats):size())
        assert.is_true(max_abs_diff(sf, sf3) < 1e-6)
        assert.is_true(max_abs_diff(mf, mf3) < 1e-6)
    end)

    it('runs the backbone in int8 after quantize_int8, in eval mode with grad off, until drop_int8', function()
        local no_grad = require('lpose.autograd').no_grad
        local m = models.new(cfg('heatmap')):eval()
        local x = lpose.randn(8, 3, 64, 64)
        no_grad(function()
            local f32 = m:forward_backbone(x)
            assert.is_false(m:is_int8())
            assert.equal(m, m:quantize_int8(x))
            assert.is_true(m:is_int8())
            local q = m:forward_backbone(x)
            assert.same(f32:size(), q:size())
            -- int8 rounding: a few percent of the features' norm (tests/c/test_int8.c says why)
            local rel = math.sqrt(((q - f32) ^ 2):sum():item() / (f32 ^ 2):sum():item())
            assert.is_true(rel > 0 and rel < 0.15, tostring(rel))
            m:drop_int8()
            assert.is_false(m:is_int8())
            assert.equal(0, max_abs_diff(m:forward_backbone(x), f32))
        end)
        assert.has_error(function() m:train():quantize_int8(x) end)
    end)

    it('decodes a peak to its location', function()
        local hm = lpose.zeros(1, 1, 16, 16)
        hm:select(3, 5):select(3, 9):fill_(1) -- heatmap row 4, col 8 (0-based)
        local kp, conf = models.decode(hm, 2)
        assert.is_true(math.abs(kp:totable()[1][1][1] - 32) < 0.05)
        assert.is_true(math.abs(kp:totable()[1][1][2] - 16) < 0.05)
        assert.is_true(conf:item() > 0.9)
    end)
end)

describe('model weights', function()
    local path = os.tmpname()

    it('saves and loads with bit-identical outputs', function()
        local m = models.new(cfg('heatmap_mhcrnn'))
        local x = lpose.randn(1, 5, 3, 64, 64)
        m:forward(x) -- move BN running stats away from their init
        m:eval()
        assert.is_true(m:save(path))
        local m2 = assert(models.load(path))
        assert.is_false(m2:is_training()) -- loaded models are for inference
        assert.equal('heatmap_mhcrnn', m2.cfg.model.model_type)
        local a_sf, a_mf = lpose.no_grad(function() return m:forward(x) end)
        local b_sf, b_mf = lpose.no_grad(function() return m2:forward(x) end)
        assert.equal(0, max_abs_diff(a_sf, b_sf))
        assert.equal(0, max_abs_diff(a_mf, b_mf))
        os.remove(path)
    end)

    it('returns nil, err for a missing file', function()
        local m, err = models.load('/nonexistent/model.lpt')
        assert.is_nil(m)
        assert.truthy(err:find('lp_model_load', 1, true))
        local mm = models.new(cfg('heatmap'))
        local rep, err2 = mm:load_weights('/nonexistent/w.pt', 'backbone')
        assert.is_nil(rep)
        assert.truthy(err2:find('nonexistent', 1, true))
    end)

    it('loads a state_dict table and reports missing and unexpected keys', function()
        local a, b = models.new(cfg('heatmap')), models.new(cfg('heatmap'))
        local sd = a:state_dict()
        sd['not.a.key'] = lpose.zeros(2)
        sd['backbone.conv1.weight'] = nil
        -- strict by default: nothing loaded, the error names the count and the tensor
        local ok0, err0 = pcall(b.load_weights, b, sd)
        assert.is_false(ok0)
        assert.truthy(err0:find('1 of the ', 1, true) and err0:find('backbone.conv1.weight', 1, true))
        local rep = b:load_weights(sd, { strict = false })
        assert.same({ 'backbone.conv1.weight' }, rep.missing)
        assert.same({ 'not.a.key' }, rep.unexpected)
        assert.same({}, rep.skipped)
        sd['backbone.conv1.weight'] = a:state_dict()['backbone.conv1.weight']
        sd['head_sf.upsampling_layers.1.weight'] = lpose.zeros(3, 3, 3, 3)
        local ok, err = pcall(b.load_weights, b, sd)
        assert.is_false(ok)
        assert.truthy(err:find('head_sf.upsampling_layers.1.weight', 1, true))
    end)

    local has_torch = os.execute("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0
    local pending_or_it = has_torch and it or pending

    pending_or_it('loads model.backbone_weights from a torchvision state dict (torch.save)', function()
        local file = os.tmpname()
        assert.equal(0, os.execute(("/usr/bin/python3 -c \"import torch, torchvision; torch.manual_seed(0); "
            .. "torch.save(torchvision.models.resnet18().state_dict(), '%s')\""):format(file)))
        local c = cfg('heatmap')
        c.model.backbone_weights = file
        local m = models.new(c)
        assert.equal(120, m.backbone_weights_report.loaded)
        local rep = m:load_weights(file, 'backbone')
        os.remove(file)
        assert.equal(120, rep.loaded)
        assert.same({}, rep.missing)
        assert.same({ 'fc.bias', 'fc.weight' }, (function() table.sort(rep.unexpected); return rep.unexpected end)())
        c.model.backbone_weights = '/nonexistent/r18.pt'
        local ok, err = pcall(models.new, c)
        assert.is_false(ok)
        assert.truthy(err:find('backbone_weights', 1, true))
    end)

    pending_or_it('refuses a backbone file that lacks tensors unless backbone_weights_strict is false', function()
        local file = os.tmpname()
        assert.equal(0, os.execute(("/usr/bin/python3 -c \"import torch, torchvision; "
            .. "sd = {k: v for k, v in torchvision.models.resnet18().state_dict().items() if 'layer4' not in k}; "
            .. "sd['note'] = 'made by hand'; torch.save(sd, '%s')\""):format(file)))
        local c = cfg('heatmap')
        c.model.backbone_weights = file
        local ok, err = pcall(models.new, c)
        assert.is_false(ok)
        assert.truthy(err:find('model.backbone_weights', 1, true))
        assert.truthy(err:find('of the 100 tensors the model needs are not in the weights (first: backbone.layer4.',
            1, true))
        c.model.backbone_weights_strict = false
        local m = models.new(c)
        os.remove(file)
        assert.truthy(#m.backbone_weights_report.missing > 0)
        assert.same({ 'note' }, m.backbone_weights_report.skipped)
    end)

    pending_or_it('refuses a checkpoint whose pickle calls os.system, naming the global', function()
        local file = os.tmpname()
        assert.equal(0, os.execute(("/usr/bin/python3 -c \"import os, torch\n"
            .. "class Evil:\n    def __reduce__(self): return (os.system, ('true',))\n"
            .. "torch.save({'backbone.0.weight': torch.zeros(2), 'x': Evil()}, '%s')\""):format(file)))
        local m = models.new(cfg('heatmap'))
        local rep, err = m:load_weights(file, 'lightning')
        os.remove(file)
        assert.is_nil(rep)
        assert.truthy(err:find("global 'posix.system' is not allowed", 1, true))
    end)

    it('moves to the cpu and back', function()
        local m = models.new(cfg('heatmap'))
        assert.equal(m, m:to('cpu'))
        assert.equal('cpu', m:device())
    end)
end)
