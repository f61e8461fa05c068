-- Specs for lpose.dataset: labeled dataset, LP split, heatmaps and the threaded
-- loader (C core in engine/src/dataset/dataset.c, loader.c, augment.c, heatmaps.c, split.c).
-- Run from the repository root; mirror-mouse specs skip when the data is absent.
local dataset = require('lpose.dataset')
local tensor = require('lpose.tensor')

local MOUSE = '../shared/data/mirror-mouse-example'
local FIX = 'tests/fixtures/data'

local function exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() end
    return f ~= nil
end

local function sorted(t)
    local c = {}
    for i, v in ipairs(t) do c[i] = v end
    table.sort(c)
    return c
end

describe('lpose.dataset.randperm', function()
    it('matches torch.randperm(90, generator seeded 42)', function()
        local p = dataset.randperm(90, 42)
        assert.equal(90, p:size(1))
        local t = p:totable()
        assert.equal(42, t[1])
        assert.equal(66, t[2])
        assert.equal(9, t[90])
    end)
end)

describe('lpose.dataset.heatmaps', function()
    it('makes LP Gaussian targets and NaNs out-of-frame keypoints', function()
        local kp = tensor.new({ { { 30, 21 }, { 64, 10 } } })
        local hm = dataset.heatmaps(kp, { height = 64, width = 64 })
        assert.same({ 1, 2, 16, 16 }, hm:shape())
        local t = hm:totable()
        assert.is_true(math.abs(t[1][1][6][8] - 0.0921660936696353) < 1e-6)
        local s1, s2 = 0, 0
        for v = 1, 16 do
            for u = 1, 16 do s1, s2 = s1 + t[1][1][v][u], s2 + t[1][2][v][u] end
        end
        assert.is_true(math.abs(s1 - 1) < 1e-5)
        assert.equal(0, s2)
        local x = kp:totable()[1][2][1]
        assert.is_true(x ~= x)
    end)
end)

describe('lpose.dataset on a small fixture', function()
    it('returns nil, err for a missing CSV and raises on a bad preset', function()
        local ds, err = dataset.open { data_dir = FIX, csv_file = 'nope.csv' }
        assert.is_nil(ds)
        assert.matches('nope.csv', err)
        assert.has_error(function() dataset.open { data_dir = FIX, csv_file = 'labels_ok.csv', imgaug = 'dlcx' } end)
        assert.has_error(function() dataset.open('x') end)
    end)
end)

local mouse = exists(MOUSE .. '/CollectedData.csv')
local describe_mouse = mouse and describe or pending

describe_mouse('lpose.dataset on mirror-mouse-example', function()
    local cfg = {
        data = { data_dir = MOUSE, csv_file = 'CollectedData.csv', image_resize_dims = { height = 128, width = 128 },
                 downsample_factor = 2 },
        model = { model_type = 'heatmap_mhcrnn' },
        training = { imgaug = 'dlc', rng_seed_data_pt = 42 },
    }

    it('opens with LP config keys and splits like LP (seed 42)', function()
        local ds = assert(dataset.open(cfg))
        assert.equal(90, ds.n_frames)
        assert.equal(17, ds.n_keypoints)
        assert.equal(90, #ds)
        assert.equal('paw1LH_top', ds:keypoint_names()[1])
        local p = ds:params()
        assert.equal(128, p.height)
        assert.is_true(p.context)
        assert.equal('dlc', p.imgaug)
        local split = ds:split(0.8, 0.1, 42)
        assert.equal(72, #split.train)
        assert.same({ 15, 30, 41, 50, 51, 52, 64, 83, 89 }, sorted(split.val))
        assert.same({ 3, 4, 9, 21, 44, 47, 48, 58, 75 }, sorted(split.test))
        assert.equal(10, #ds:split(0.8, 0.1, 42, 10).train)
        ds:free()
        ds:free()
        assert.has_error(function() return ds.n_frames end)
    end)

    it('gets one example with LP shapes', function()
        local ds = assert(dataset.open(cfg))
        local ex = ds:get(0)
        assert.same({ 5, 3, 128, 128 }, ex.images:shape())
        assert.same({ 17, 2 }, ex.keypoints:shape())
        assert.same({ 17, 32, 32 }, ex.heatmaps:shape())
        ds:free()
    end)

    it('iterates an epoch of the train split with 2 workers', function()
        local ds = assert(dataset.open(cfg))
        local split = ds:split(0.8, 0.1, 42)
        local loader = ds:loader { indices = split.train, batch_size = 16, shuffle = true, seed = 1, workers = 2 }
        assert.equal(5, loader.n_batches)
        assert.has_error(function() ds:free() end)
        local seen, n = {}, 0
        for batch in loader:batches() do
            local b = batch.indices:size(1)
            assert.same({ b, 5, 3, 128, 128 }, batch.images:shape())
            assert.same({ b, 17, 2 }, batch.keypoints:shape())
            assert.same({ b, 17, 32, 32 }, batch.heatmaps:shape())
            assert.same({ 0, 0, 406, 396 }, batch.bbox:totable()[1])
            local rows = batch.indices:totable()
            for i = 1, b do
                local r = rows[i]
                seen[r] = (seen[r] or 0) + 1
                n = n + 1
            end
        end
        assert.equal(72, n)
        for _, r in ipairs(split.train) do assert.equal(1, seen[r]) end
        assert.equal(1, loader.epoch)
        loader:free()
        loader:free()
        ds:free()
    end)
end)
