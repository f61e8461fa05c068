-- Specs for lpose.losses: registry, factory, weights, annealing, the PCA
-- helpers and the combiner with a user-registered loss. Loss values are
-- pinned against PyTorch in tests/c/test_losses.c; here they are small
-- closed-form cases.
local lpose = require('lpose')
local losses = require('lpose.losses')

local function close(want, got, rtol)
    local tol = (rtol or 1e-9) * math.max(1e-12, math.abs(want))
    assert(math.abs(want - got) <= tol, ('expected %.12g, got %.12g'):format(want, got))
end

-- (M, K, 4, 4) predictions: uniform; targets: one-hot at pixel (1, 1)
local function heatmaps(m, k)
    local pred = lpose.full({ m, k, 4, 4 }, 1 / 16)
    local targ = lpose.zeros(m, k, 4, 4)
    targ:narrow(3, 1, 1):narrow(4, 1, 1):fill_(1)
    return pred, targ
end

describe('lpose.losses registry', function()
    it('knows LP loss names', function()
        local names = table.concat(losses.names(), ',')
        local want = { 'heatmap_mse', 'heatmap_kl', 'heatmap_js', 'temporal', 'pca_singleview', 'pca_multiview' }
        for _, n in ipairs(want) do
            assert.truthy(names:find(n, 1, true), n)
        end
    end)

    it('rejects unknown names, listing the known ones', function()
        local ok, err = pcall(losses.new, 'nope')
        assert.is_false(ok)
        assert.truthy(tostring(err):find("unknown loss 'nope'", 1, true))
        assert.truthy(tostring(err):find('temporal', 1, true))
    end)

    it('reads hyperparameters from cfg.losses over the defaults', function()
        local t = losses.new('temporal')
        assert.equal(11.0, t.log_weight)
        assert.equal(20.0, t.params.epsilon)
        assert.equal(0.05, t.params.prob_threshold)
        local t2 = losses.new('temporal', { losses = { temporal = { log_weight = 5.0, epsilon = { 1, 2 } } } })
        close(3.368973499542734e-3, t2.weight)
        assert.same({ 2 }, t2.epsilon:size())
    end)
end)

describe('lpose.losses weights and annealing', function()
    it('weight = 1 / (2 exp(log_weight))', function()
        close(0.5, losses.weight_from_log(0))
        close(8.350850e-6, losses.weight_from_log(11), 1e-6)
        close(1.127247e-5, losses.weight_from_log(10.7), 1e-6)
    end)

    it("follows LP's AnnealWeight schedule", function()
        assert.equal(0, losses.anneal_weight(0))
        assert.equal(0, losses.anneal_weight(60))
        close(0.01, losses.anneal_weight(61))
        close(0.5, losses.anneal_weight(110))
        close(1.0, losses.anneal_weight(160))
        assert.equal(1.0, losses.anneal_weight(299))
        local cfg = { callbacks = { anneal_weight = {
            init_val = 0.2, increase_factor = 0.1, final_val = 0.9, freeze_until_epoch = 0 } } }
        close(0.2, losses.anneal_weight(0, cfg))
        close(0.3, losses.anneal_weight(1, cfg))
        close(0.9, losses.anneal_weight(50, cfg))
    end)
end)

describe('lpose.losses.supervised', function()
    it("is heatmap_<type> with LP's fixed weight 0.5", function()
        local s = losses.supervised({ model = { heatmap_loss_type = 'kl' },
                                      losses = { heatmap_kl = { log_weight = 3 } } })
        assert.equal('heatmap_kl', s.name)
        assert.equal(0.5, s.weight)
        assert.equal('heatmap_mse', losses.supervised({ model = {} }).name)
        assert.has_error(function() losses.supervised({ model = { heatmap_loss_type = 'l1' } }) end)
    end)

    it('computes the masked mse from ctx.labeled', function()
        local pred, targ = heatmaps(2, 3)
        targ:select(1, 2):zero_() -- second row unlabeled: dropped
        local ctx = { labeled = { heatmaps_pred = pred, heatmaps_targ = targ } }
        local l = losses.supervised({ model = {} }):compute(ctx)
        close(0.9375, l:item(), 1e-6) -- (1 - 1/16)^2 + 15 (1/16)^2
    end)
end)

describe('lpose.losses.temporal', function()
    it('penalises a (sqrt 2, sqrt 2) step by 2 - epsilon', function()
        local kp = lpose.tensor({ { { 0, 0 } }, { { math.sqrt(2), math.sqrt(2) } } }, { dtype = 'f64' })
        local t = losses.new('temporal', { losses = { temporal = { epsilon = 0.5 } } })
        close(1.5, t:compute({ unlabeled = { keypoints_pred = kp } }):item())
        local conf = lpose.tensor({ { 0.9 }, { 0.01 } }, { dtype = 'f64' })
        assert.equal(0, t:compute({ unlabeled = { keypoints_pred = kp, confidences = conf } }):item())
        assert.is_nil(t:compute({ labeled = {} })) -- no unlabeled batch: skipped
    end)

    it('keeps the [sf; mf] seam unless split_heads is set', function()
        -- two heads of 2 frames each, static within a head, 10 px apart across the seam
        local kp = lpose.tensor({ { { 0, 0 } }, { { 0, 0 } }, { { 10, 0 } }, { { 10, 0 } } }, { dtype = 'f64' })
        local ctx = { unlabeled = { keypoints_pred = kp } }
        local keep = losses.new('temporal', { losses = { temporal = { epsilon = 0 } } })
        close(10 / 3, keep:compute(ctx):item())
        local split = losses.new('temporal', { losses = { temporal = { epsilon = 0, split_heads = true } } })
        assert.equal(0, split:compute(ctx):item())
    end)
end)

describe('lpose.losses.pca', function()
    local pca = losses.pca

    -- N frames of K = 3 keypoints moving in a 2-d family (rank 2 after centring)
    local function rank2(n)
        local rows = {}
        for i = 1, n do
            local a, b = math.sin(0.7 * i) * 20, math.cos(1.3 * i) * 8
            rows[i] = { { 100 + a, 50 + b }, { 120 + a + b, 60 - a }, { 90 - b, 40 + 0.5 * a }, }
        end
        return lpose.tensor(rows, { dtype = 'f64' })
    end

    it("formats singleview rows with LP's 0-based columns", function()
        local kp = lpose.tensor({ { { 1, 2 }, { 3, 4 }, { 5, 6 } } })
        assert.same({ { 1, 2, 5, 6 } }, pca.format_singleview(kp, { 0, 2 }):totable())
        assert.same({ { 1, 2, 3, 4, 5, 6 } }, pca.format_singleview(kp:reshape(1, 6)):totable())
        assert.same({ { -2, -2, 0, 0, 2, 2 } }, pca.format_singleview(kp, nil, 'mean'):totable())
        local four = lpose.tensor({ { { 0, 0 }, { 1, 10 }, { 3, 20 }, { 10, 30 } } })
        assert.same({ { -2, -15, -1, -5, 1, 5, 8, 15 } }, pca.format_singleview(four, nil, 'median'):totable())
        assert.has_error(function() pca.format_singleview(kp, { 3 }) end)
    end)

    it('formats multiview rows as [x_v0, y_v0, x_v1, y_v1], frame-major', function()
        local kp = lpose.tensor({ { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } },
                                  { { 11, 12 }, { 13, 14 }, { 15, 16 }, { 17, 18 } } })
        local rows = pca.format_multiview(kp, { { 0, 1 }, { 2, 3 } })
        assert.same({ { 1, 2, 5, 6 }, { 3, 4, 7, 8 }, { 11, 12, 15, 16 }, { 13, 14, 17, 18 } }, rows:totable())
    end)

    it('fits, keeps 2 components at 0.99 and gives an empirical epsilon', function()
        local data = rank2(40)
        local p = pca.fit(pca.format_singleview(data), 0.99)
        assert.equal(2, p:n_components())
        assert.equal(6, p:n_features())
        local err = p:reprojection_error(pca.format_singleview(data))
        assert.same({ 40, 3 }, err:size())
        assert.is_true(err:max():item() < 1e-8)
        assert.equal(3, pca.fit(pca.format_singleview(data), 3):n_components())
    end)

    it('builds pca_singleview from cfg and fit data', function()
        local data = rank2(40)
        local cfg = { data = { columns_for_singleview_pca = { 0, 1, 2 } },
                      losses = { pca_singleview = { epsilon = 1.0 } } }
        local l = losses.new('pca_singleview', cfg, data)
        assert.equal(1.0, l.epsilon)
        assert.equal(2, l.pca:n_components())
        close(8.350850e-6, l.weight, 1e-6)
        -- a prediction 5 px off the subspace in one coordinate
        local pred = rank2(2):clone()
        pred:select(1, 1):select(1, 1):select(1, 1):add_(5)
        local v = l:compute({ unlabeled = { keypoints_pred = pred } }):item()
        assert.is_true(v > 0)
        local empirical = losses.new('pca_singleview', { data = {} }, data)
        assert.is_true(empirical.epsilon >= 0 and empirical.epsilon < 1e-6)
    end)
end)

describe('lpose.losses.combine', function()
    -- velocity smoothness: mean squared frame-to-frame displacement
    local function velocity(ctx)
        local kp = ctx.unlabeled.keypoints_pred
        local n = kp:size(1)
        local d = kp:narrow(1, 2, n - 1) - kp:narrow(1, 1, n - 1)
        return (d * d):sum(3):mean() * ctx.params.scale
    end

    it('uses a registered loss from losses_to_use, weighted and annealed', function()
        losses.register('velocity', velocity, { log_weight = 0.0, scale = 1.0 })
        local cfg = { model = { losses_to_use = { 'velocity' } },
                      losses = { velocity = { log_weight = 1.0, scale = 2.0 } } }
        assert.is_true(losses.is_semi_supervised(cfg))
        local sup, unsup = losses.supervised(cfg), losses.unsupervised(cfg)
        assert.equal(1, #unsup)
        close(1 / (2 * math.exp(1)), unsup[1].weight)
        local pred, targ = heatmaps(1, 2)
        local kp = lpose.tensor({ { { 0, 0 } }, { { 3, 4 } }, { { 3, 4 } } }, { dtype = 'f32' })
        local ctx = { cfg = cfg, stage = 'train', epoch = 100,
                      labeled = { heatmaps_pred = pred, heatmaps_targ = targ },
                      unlabeled = { keypoints_pred = kp } }
        local total, logs = losses.combine(ctx, sup, unsup)
        -- velocity = mean(25, 0) * 2 = 25; anneal(100) = 0.4
        close(25, logs.train_velocity_loss, 1e-6)
        close(0.4, logs.total_unsupervised_importance)
        close(0.5 * 0.9375, logs.train_supervised_loss, 1e-6)
        close(0.4 * unsup[1].weight * 25, logs.train_velocity_loss_weighted, 1e-6)
        close(0.5 * 0.9375 + 0.4 * unsup[1].weight * 25, total:item(), 1e-6)
        close(total:item(), logs.total_loss, 1e-12)
        assert.equal(0.5, logs.heatmap_mse_weight)
        assert.is_nil(ctx.params) -- restored after each call
        losses.unregister('velocity')
    end)

    it("runs the guide's bone-length prior (docs/guides/write-a-loss.md)", function()
        losses.register('bone_length', function(ctx, loss)
            local u = ctx.unlabeled
            if u == nil then return nil end
            local kp, p = u.keypoints_pred, loss.params
            local total
            for i, bone in ipairs(p.bones) do
                local a = kp:select(2, bone[1] + 1)
                local b = kp:select(2, bone[2] + 1)
                local len = (a - b):norm(2, 2)
                local term = ((len - p.lengths[i]):abs() - p.epsilon):relu():mean()
                total = total and total + term or term
            end
            return total / #p.bones
        end, { log_weight = 5.0, epsilon = 5.0, bones = {}, lengths = {} })
        local cfg = { model = { losses_to_use = { 'bone_length' } },
                      losses = { bone_length = {
                          epsilon = 4.0, bones = { { 0, 1 }, { 1, 2 } }, lengths = { 30, 22.5 } } } }
        local l = losses.unsupervised(cfg)[1]
        -- frame 1: bones 30 and 20 (inside); frame 2: bones 40 and 20 (first 6 px too long)
        local kp = lpose.tensor({ { { 0, 0 }, { 30, 0 }, { 30, 20 } }, { { 0, 0 }, { 40, 0 }, { 40, 20 } } },
            { dtype = 'f64', requires_grad = true })
        local v = l:compute({ unlabeled = { keypoints_pred = kp } })
        close((6 / 2 + 0) / 2, v:item())
        v:backward()
        assert.is_not_nil(kp:grad())
        losses.unregister('bone_length')
    end)

    it('validates the supervised loss only', function()
        local cfg = { model = { losses_to_use = { 'temporal' } } }
        local pred, targ = heatmaps(1, 1)
        local ctx = { stage = 'val', labeled = { heatmaps_pred = pred, heatmaps_targ = targ } }
        local total, logs = losses.combine(ctx, losses.supervised(cfg), losses.unsupervised(cfg))
        close(0.5 * 0.9375, total:item(), 1e-6)
        assert.is_nil(logs.total_loss)
        assert.is_not_nil(logs.val_heatmap_mse_loss)
    end)

    it("treats [''] and nil as supervised-only, like LP", function()
        assert.is_false(losses.is_semi_supervised({ model = { losses_to_use = { '' } } }))
        assert.is_false(losses.is_semi_supervised({ model = {} }))
        assert.same({}, losses.unsupervised({ model = { losses_to_use = {} } }))
    end)

    it('names the loss when it fails', function()
        losses.register('broken', function() error('boom') end)
        local l = losses.new('broken')
        local ok, err = pcall(l.compute, l, {})
        assert.is_false(ok)
        assert.truthy(tostring(err):find('In loss broken', 1, true))
        losses.unregister('broken')
    end)
end)

describe('unimodal losses', function()
    local cfg = { data = { image_resize_dims = { height = 64, width = 64 }, downsample_factor = 2 } }
    local kp = lpose.tensor({ { { 20.3, 30.7 }, { 40.0, 12.5 } } })          -- 1 row, 2 keypoints
    local ideal = lpose.dataset.heatmaps(kp:clone(), { height = 64, width = 64 })

    it('is zero when the predicted heatmaps are the ideal Gaussians at the predicted keypoints', function()
        for _, name in ipairs({ 'unimodal_mse', 'unimodal_kl' }) do
            local loss = losses.new(name, cfg)
            local ctx = { cfg = cfg, unlabeled = { keypoints_pred_model = kp, heatmaps_pred = ideal,
                confidences = lpose.ones(1, 2) } }
            assert.is_true(math.abs(loss:compute(ctx):item()) < 1e-6, name)
        end
    end)

    it('is positive for another heatmap, drops low-confidence pairs, and has a gradient', function()
        local pred = lpose.full({ 1, 2, 16, 16 }, 1 / 256, { requires_grad = true })
        local loss = losses.new('unimodal_mse', cfg, nil, { prob_threshold = 0.5 })
        local ctx = { cfg = cfg, unlabeled = { keypoints_pred_model = kp, heatmaps_pred = pred,
            confidences = lpose.tensor({ { 0.9, 0.1 } }) } }
        local l = loss:compute(ctx)
        assert.is_true(l:item() > 0)
        l:backward()
        local g = pred:grad()
        assert.is_true(g:select(2, 1):abs():sum():item() > 0)  -- kept pair
        assert.equal(0, g:select(2, 2):abs():sum():item())     -- dropped pair
    end)
end)
