-- Specs for lpose.data: label CSVs, images and context frames (C core in
-- engine/src/data/labels_csv.c, image.c, context.c). Run from the repository root.
local data = require('lpose.data')

local FIX = 'tests/fixtures/data'
local LD = FIX .. '/labeled-data'
local MOUSE = '../shared/data/mirror-mouse-example'

local function exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() end
    return f ~= nil
end

local function close(a, b, tol)
    assert.is_true(math.abs(a - b) <= (tol or 1e-6), ('%g vs %g'):format(a, b))
end

local function norm(v, c)
    local mean, std = {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}
    return (v / 255 - mean[c]) / std[c]
end

describe('lpose.data.read_labels', function()
    it('reads names, paths and keypoints with NaN for missing cells', function()
        local labels = assert(data.read_labels(FIX .. '/labels_ok.csv', {data_dir = FIX}))
        assert.equal(3, labels.n_frames)
        assert.equal(3, labels.n_keypoints)
        assert.equal(3, #labels)
        assert.equal('me', labels.scorer)
        assert.same({'nose', 'tail', 'paw'}, labels:keypoint_names())
        assert.same({'labeled-data/frame0008.png', 'labeled-data/frame0007.png', 'labeled-data/color.png'},
            labels:image_paths())
        local kp = labels:keypoints()
        assert.same({3, 3, 2}, kp:size())
        local t = kp:totable()
        assert.equal(1.5, t[1][1][1])
        assert.equal(2.25, t[1][1][2])
        assert.is_true(t[1][2][1] ~= t[1][2][1]) -- NaN
        assert.is_true(t[2][3][2] ~= t[2][3][2])
        assert.equal(6.5, t[3][2][2])
        kp:free()
        labels:free()
        labels:free() -- idempotent
        assert.has_error(function() return labels.n_frames end, 'labels.n_frames: labels used after free()')
    end)

    it("reads LP's optional x,y,visible form", function()
        local labels = assert(data.read_labels(FIX .. '/labels_visible.csv', {data_dir = FIX}))
        assert.is_true(labels.has_visibility)
        assert.same({'nose', 'tail'}, labels:keypoint_names())
        local vis = assert(labels:visibility())
        assert.same({{2, 0}, {2, 1}}, vis:totable())
        vis:free()
        local kp = labels:keypoints()
        assert.same({2, 2, 2}, kp:size())
        kp:free()
        labels:free()
        local plain = assert(data.read_labels(FIX .. '/labels_ok.csv'))
        assert.is_false(plain.has_visibility)
        local none, err = plain:visibility()
        assert.is_nil(none)
        assert.matches("no 'visible' coords", err)
        plain:free()
    end)

    it('finds a CSV relative to data_dir, as LP does', function()
        local labels = assert(data.read_labels('labels_ok.csv', {data_dir = FIX}))
        assert.equal(3, labels.n_frames)
        labels:close()
    end)

    local bad = {
        {'bad_header.csv', 'line 2, column 1'},
        {'bad_two_rows.csv', 'line 3'},
        {'bad_odd_columns.csv', 'multiple of 2'},
        {'bad_ragged_row.csv', 'line 5 has 2 columns'},
        {'bad_non_numeric.csv', "line 5, column 4 %(keypoint 'tail' x%): not a number: 'abc'"},
        {'bad_duplicate.csv', "duplicate keypoint name 'nose'"},
        {'bad_coords.csv', "coord 'likelihood'"},
        {'bad_visible_flag.csv', "flag '3' must be 0, 1 or 2"},
        {'bad_visible_partial.csv', 'multiple of 3 %(x,y,visible per keypoint%)'},
        {'bad_missing_image.csv', "line 5, column 1: image 'labeled%-data/nope.png' not found"},
        {'nonexistent.csv', 'cannot read label CSV'},
    }
    for _, case in ipairs(bad) do
        it('returns nil, err for ' .. case[1], function()
            local labels, err = data.read_labels(FIX .. '/' .. case[1], {data_dir = FIX})
            assert.is_nil(labels)
            assert.matches('lp_labels_read', err)
            assert.matches(case[1], err, 1, true)
            assert.matches(case[2], err)
        end)
    end

    it('raises on wrong argument types', function()
        assert.has_error(function() data.read_labels(42) end)
        assert.has_error(function() data.read_labels('x.csv', {data_dir = 1}) end)
    end)

    it('reads the mirror-mouse example (90 frames, 17 keypoints)', function()
        if not exists(MOUSE .. '/CollectedData.csv') then
            pending('mirror-mouse-example not found at ' .. MOUSE)
            return
        end
        local labels = assert(data.read_labels(MOUSE .. '/CollectedData.csv', {data_dir = MOUSE}))
        assert.equal(90, labels.n_frames)
        assert.equal(17, labels.n_keypoints)
        local names = labels:keypoint_names()
        assert.equal('paw1LH_top', names[1])
        assert.equal('obsLow_bot', names[17])
        assert.equal('labeled-data/img90.png', labels:image_paths()[90])
        local kp = labels:keypoints()
        assert.same({90, 17, 2}, kp:size())
        kp:free()
        labels:free()
    end)
end)

describe('lpose.data images', function()
    it('loads an image as normalised RGB with its original size', function()
        local img, orig = assert(data.load_image(LD .. '/frame0008.png'))
        assert.same({3, 6, 8}, img:size())
        assert.same({height = 6, width = 8}, orig)
        local t = img:totable()
        close(t[1][1][1], norm(80, 1))
        close(t[2][3][4], norm(80, 2))
        close(t[3][6][8], norm(80, 3))
        img:free()
    end)

    it('resizes to height x width', function()
        local img, orig = assert(data.load_image(LD .. '/color.jpg', {height = 24, width = 32}))
        assert.same({3, 24, 32}, img:size())
        assert.same({height = 12, width = 16}, orig)
        img:free()
    end)

    it('reads PNG, BMP and TIFF to the same uint8 RGB', function()
        local png = assert(data.read_image_rgb(LD .. '/color.png'))
        assert.same({12, 16, 3}, png:size())
        assert.equal('u8', png:dtype())
        local want = png:totable()
        for _, ext in ipairs({'bmp', 'tif'}) do
            local other = assert(data.read_image_rgb(LD .. '/color.' .. ext))
            assert.same(want, other:totable())
            other:free()
        end
        png:free()
    end)

    it('returns nil, err for missing and corrupt files', function()
        local img, err = data.load_image(LD .. '/missing.png')
        assert.is_nil(img)
        assert.matches('missing.png: cannot open', err, 1, true)
        img, err = data.load_image(LD .. '/corrupt.png')
        assert.is_nil(img)
        assert.matches('corrupt.png', err, 1, true)
        assert.has_error(function() data.load_image(LD .. '/color.png', {height = 10}) end)
    end)
end)

describe('lpose.data context frames', function()
    it('follows LP: first digit run, zero padding kept, clamp at 0', function()
        assert.same({'img03.png', 'img04.png', 'img05.png', 'img06.png', 'img07.png'},
            data.context_paths('img05.png', {fallback = false}))
        assert.same({'img00.png', 'img00.png', 'img01.png', 'img02.png', 'img03.png'},
            data.context_paths('img01.png', {fallback = false}))
        assert.same({'a/img97.png', 'a/img98.png', 'a/img99.png', 'a/img100.png', 'a/img101.png'},
            data.context_paths('a/img99.png', {fallback = false}))
        assert.equal('cam2_frame0050.png', data.context_paths('cam1_frame0050.png', {fallback = false})[4])
        local paths, err = data.context_paths('nodigits.png')
        assert.is_nil(paths)
        assert.matches('no frame number', err)
    end)

    it('replaces missing neighbours by the centre frame', function()
        local paths = data.context_paths(LD .. '/frame0008.png')
        assert.equal(LD .. '/frame0006.png', paths[1])
        assert.equal(LD .. '/frame0009.png', paths[4])
        assert.equal(LD .. '/frame0008.png', paths[5])
    end)

    it('loads a (5, 3, H, W) stack', function()
        local stack, orig = assert(data.load_context_stack(LD .. '/frame0008.png', {height = 16, width = 16}))
        assert.same({5, 3, 16, 16}, stack:size())
        assert.same({height = 6, width = 8}, orig)
        local t = stack:totable()
        local want = {60, 70, 80, 90, 80}
        for i = 1, 5 do close(t[i][1][8][8], norm(want[i], 1), 1e-5) end
        stack:free()
    end)
end)
