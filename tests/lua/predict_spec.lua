-- Specs for lpose.predict, lpose.metrics and `lpose predict` (C core in
-- engine/src/predict/predict_*.c). Small random resnet18 models at 64x64 and test
-- clips made with the ffmpeg CLI in a temporary dir.
local predict = require('lpose.predict')
local metrics = require('lpose.metrics')
local models = require('lpose.models')
local video = require('lpose.video')
local tensor = require('lpose.tensor')

local support = dofile('tests/lua/support.lua')
local q, exe_path, slurp, write = support.q, support.exe, support.slurp, support.write

local tmp = support.mktemp('predict_spec')
local have_ffmpeg = os.execute('ffmpeg -version >/dev/null 2>&1') == 0

local function gen(name, n, w, h)
    local cmd = ('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=%dx%d:rate=25 -frames:v %d '
        .. '-pix_fmt yuv420p %s >/dev/null 2>&1'):format(w or 64, h or 64, n, q(tmp .. '/' .. name))
    return os.execute(cmd) == 0 and (tmp .. '/' .. name) or nil
end



local function cfg_for(model_type)
    return {
        model = { model_type = model_type, backbone = 'resnet18' },
        data = { num_keypoints = 3, keypoint_names = { 'nose', 'ear', 'tail' },
                 image_resize_dims = { height = 64, width = 64 } },
        training = { rng_seed_model_pt = 1 },
    }
end

local tcn = models.new(cfg_for('heatmap_mhcrnn')):eval()

describe('lpose.predict', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('streams a video into LP files, each frame once and in order', function()
        local path = have_ffmpeg and gen('clip.mp4', 13)
        if not path then return pending('ffmpeg cannot make a clip') end
        local res = assert(predict.video(tcn, path, { output_dir = tmp .. '/out', sequence_length = 8 }))
        assert.are.equal(13, res.n_frames)
        assert.are.equal(13, res.n_backbone_frames)
        -- the profile: the model's parts are timed inside its time, which is inside the total
        for _, k in ipairs({ 'seconds_backbone', 'seconds_heads', 'seconds_decode', 'seconds_wait' }) do
            assert.is_true(res[k] > 0, k)
        end
        assert.is_true(res.seconds_backbone + res.seconds_heads + res.seconds_decode <= res.seconds_model)
        assert.is_true(res.seconds_model + res.seconds_wait <= res.seconds)
        assert.truthy(predict.profile_text(res):find('^time [%d.]+ s: waiting for frames [%d.]+ s %(%d+ %%%), '
            .. 'backbone [%d.]+ s %(%d+ %%%), heads .*, heatmap decode .*, windows .*, other [%d.]+ s %(%d+ %%%)$'))
        assert.are.equal(tmp .. '/out/clip.csv', res.csv)
        local text = slurp(res.csv)
        assert.truthy(text:find('^scorer,heatmap_mhcrnn_tracker,heatmap_mhcrnn_tracker,'))
        assert.truthy(text:find('\nbodyparts,nose,nose,nose,ear,ear,ear,tail,tail,tail\n', 1, true))
        assert.truthy(text:find('\ncoords,x,y,likelihood,x,y,likelihood,x,y,likelihood\n', 1, true))
        local t = assert(metrics.read_csv(res.csv))
        assert.are.equal(13, #t.index)
        for i = 1, 13 do assert.are.equal(tostring(i - 1), t.index[i]) end
        -- LP's edge rule: frames 0, 1 copy frame 2; frames 11, 12 copy frame 10
        assert.are.same(t.keypoints[3], t.keypoints[1])
        assert.are.same(t.keypoints[3], t.keypoints[2])
        assert.are.same(t.keypoints[11], t.keypoints[13])
        local tn = assert(metrics.read_csv(res.temporal_norm))
        assert.are.equal('metric', tn.kind)
        assert.is_true(tn.values[1][1] ~= tn.values[1][1])
        local want = metrics.temporal_norm(t.keypoints)
        for i = 2, 13 do
            for k = 1, 3 do assert.is_true(math.abs(want[i][k] - tn.values[i][k]) < 1e-4) end
        end
    end)

    it('writes the PCA metric CSVs LP computes when configured', function()
        local path = have_ffmpeg and gen('pca.mp4', 9)
        if not path then return pending('ffmpeg cannot make a clip') end
        local train = tensor.rand({ 40, 3, 2 }):mul(64)
        local cfg = { data = { columns_for_singleview_pca = { 0, 1 }, mirrored_column_matches = { { 0 }, { 1 } } } }
        local pcas = metrics.fit_pca(cfg, train)
        assert.truthy(pcas.singleview and pcas.multiview)
        local res = assert(predict.video(tcn, path, { output_dir = tmp .. '/pca', sequence_length = 8, pca = pcas }))
        assert.are.equal(tmp .. '/pca/pca_pca_singleview_error.csv', res.pca_singleview)
        local sv = assert(metrics.read_csv(res.pca_singleview))
        local mv = assert(metrics.read_csv(res.pca_multiview))
        assert.are.equal(9, #sv.values)
        assert.are.equal(9, #mv.values)
        local preds = assert(metrics.read_csv(res.csv))
        local want = metrics.pca_singleview_error(preds.keypoints, pcas.singleview.pca, { 0, 1 })
        for i = 1, 9 do
            assert.is_true(sv.values[i][3] ~= sv.values[i][3])      -- tail is not in the PCA
            assert.is_true(math.abs(sv.values[i][1] - want[i][1]) < 1e-3 * (1 + want[i][1]))
            assert.is_true(mv.values[i][1] == mv.values[i][1] and mv.values[i][3] ~= mv.values[i][3])
        end
    end)

    -- Stream n random frames in windows of T; each emitted row must equal the
    -- whole-video batch prediction of the frame it stands for (the one centred on
    -- clamp(f, 2, n - 3)). -> the windows' start frames, the stream.
    local function stream_equals_batch(n, T)
        local images = tensor.randn({ n, 3, 64, 64 })
        local kp_ref, conf_ref = tcn:predict(images)            -- rows for frames 2..n-3
        local ref_k, ref_c = kp_ref:totable(), conf_ref:totable()
        local starts, seen = {}, 0
        local it = assert(predict.stream(tcn, images, { sequence_length = T }))
        for start, kp, conf in it do
            starts[#starts + 1] = start
            assert.are.equal(seen, start)
            local k, c = kp:totable(), conf:totable()
            for r = 1, #k do
                local row = math.min(math.max(start + r - 1, 2), n - 3) - 2 + 1
                for j = 1, 3 do
                    assert.is_true(math.abs(k[r][j][1] - ref_k[row][j][1]) < 1e-3)
                    assert.is_true(math.abs(k[r][j][2] - ref_k[row][j][2]) < 1e-3)
                    assert.is_true(math.abs(c[r][j] - ref_c[row][j]) < 1e-5)
                end
            end
            seen = seen + #k
        end
        assert.are.equal(n, seen)
        assert.are.equal(n, it.n_backbone_frames())
        return starts
    end

    it('equals one whole-video batch prediction', function()
        -- windows of T = 8 new frames: 8, 8, 1
        assert.are.same({ 0, 6, 14 }, stream_equals_batch(17, 8))
    end)

    it('starts with a quarter window (T >= 64) and still equals the batch prediction', function()
        -- windows of 16, 64 and 10 new frames; the TCN's first emits frames 0..13
        assert.are.same({ 0, 14, 78 }, stream_equals_batch(90, 64))
    end)

    it("predicts short videos (< 5 frames) from padded stacks", function()
        local images = tensor.randn({ 3, 3, 64, 64 })
        local n = 0
        for _, kp in assert(predict.stream(tcn, images, { sequence_length = 8 })) do n = n + kp:size(1) end
        assert.are.equal(3, n)
    end)

    it('writes a labeled video with every frame, upsampled x2.5, with a legend panel at its right', function()
        local path = have_ffmpeg and gen('small.mp4', 9)
        if not path then return pending('ffmpeg cannot make a clip') end
        local res = assert(predict.video(tcn, path, { output_dir = tmp .. '/lab', sequence_length = 8,
                                                      label_video = true, confidence_thresh = 0 }))
        local r = assert(video.open(res.labeled_video))
        assert.are.equal(9, r.n_frames)
        assert.is_true(r.width > 160 and r.width % 2 == 0)
        assert.are.equal(160, r.height)
    end)

    it('warns when the aspect ratio differs from the model input', function()
        local path = have_ffmpeg and gen('wide.mp4', 6, 128, 64)
        if not path then return pending('ffmpeg cannot make a clip') end
        local res = assert(predict.video(tcn, path, { output_dir = tmp .. '/wide', sequence_length = 8 }))
        assert.are.equal(1, #res.warnings)
        assert.truthy(res.warnings[1]:find('aspect'))
    end)

    it('predicts with an int8 backbone and leaves the model in f32', function()
        local path = have_ffmpeg and gen('clip.mp4', 13)
        if not path then return pending('ffmpeg cannot make a clip') end
        local f32 = assert(predict.video(tcn, path, { output_dir = tmp .. '/f32', sequence_length = 8 }))
        local q8 = assert(predict.video(tcn, path, { output_dir = tmp .. '/int8', sequence_length = 8,
                                                     precision = 'int8' }))
        assert.is_false(tcn:is_int8())
        local again = assert(predict.video(tcn, path, { output_dir = tmp .. '/f32b', sequence_length = 8 }))
        assert.are.equal(slurp(f32.csv), slurp(again.csv))
        local t = assert(metrics.read_csv(q8.csv))
        assert.are.equal(13, #t.index)
        for i = 1, 13 do
            for k = 1, 3 do
                local x, y = t.keypoints[i][k][1], t.keypoints[i][k][2]
                assert.is_true(x >= 0 and x <= 64 and y >= 0 and y <= 64, ('frame %d keypoint %d'):format(i, k))
                assert.is_true(t.likelihoods[i][k] >= 0 and t.likelihoods[i][k] <= 1)
            end
        end
        assert.are_not.equal(slurp(f32.csv), slurp(q8.csv)) -- it did run in int8
        assert.has_error(function() predict.video(tcn, path, { precision = 'f16' }) end, nil)
    end)

    it('returns nil, err for unreadable videos and raises for bad options', function()
        local res, err = predict.video(tcn, tmp .. '/missing.mp4', { output_dir = tmp .. '/x' })
        assert.is_nil(res)
        assert.truthy(err:find('missing.mp4', 1, true))
        write(tmp .. '/junk.mp4', string.rep('not a video ', 500))
        res, err = predict.video(tcn, tmp .. '/junk.mp4', { output_dir = tmp .. '/x' })
        assert.is_nil(res)
        assert.truthy(err:find('lp_predict_video', 1, true))
        assert.has_error(function() predict.video(tcn, tmp .. '/junk.mp4', { edge = 'mirror' }) end)
        assert.has_error(function() predict.video({}, tmp .. '/junk.mp4') end)
        assert.has_error(function() predict.video(tcn, tmp .. '/junk.mp4', { keypoint_names = { 'a' } }) end)
        local ok, e2 = predict.stream(tcn, tmp .. '/junk.mp4', {})
        assert.is_nil(ok)
        assert.is_string(e2)
    end)

    it('predicts labeled frames with pixel errors and the set column', function()
        local path = have_ffmpeg and gen('lab.mp4', 12)
        if not path then return pending('ffmpeg cannot make a clip') end
        os.execute('mkdir -p ' .. q(tmp .. '/data/labeled-data/lab'))
        os.execute(('ffmpeg -nostdin -v error -y -i %s -start_number 0 %s >/dev/null 2>&1'):format(
            q(path), q(tmp .. '/data/labeled-data/lab/img%03d.png')))
        write(tmp .. '/data/CollectedData.csv', table.concat({
            'scorer,me,me,me,me,me,me',
            'bodyparts,nose,nose,ear,ear,tail,tail',
            'coords,x,y,x,y,x,y',
            'labeled-data/lab/img004.png,10,20,30,40,,',
            'labeled-data/lab/img007.png,1.5,2.5,3,4,5,6',
        }, '\n') .. '\n')
        local res = assert(predict.labeled(tcn, tmp .. '/data/CollectedData.csv', tmp .. '/data',
            { output_dir = tmp .. '/img', sets = { 'train', 'test' } }))
        assert.are.equal(2, res.n_frames)
        local t = assert(metrics.read_csv(res.csv))
        assert.are.same({ 'labeled-data/lab/img004.png', 'labeled-data/lab/img007.png' }, t.index)
        assert.are.same({ 'train', 'test' }, t.set)
        local e = assert(metrics.read_csv(res.pixel_error_csv))
        assert.are.same({ 'train', 'test' }, e.set)
        local want = metrics.pixel_error(t.keypoints, { { { 10, 20 }, { 30, 40 }, { 0 / 0, 0 / 0 } },
                                                        { { 1.5, 2.5 }, { 3, 4 }, { 5, 6 } } })
        assert.is_true(math.abs(want[1][1] - e.values[1][1]) < 1e-3)
        assert.is_true(e.values[1][3] ~= e.values[1][3])
        assert.is_true(math.abs(want[2][3] - e.values[2][3]) < 1e-3)
        -- without sets the column is there and empty
        res = assert(predict.labeled(tcn, tmp .. '/data/CollectedData.csv', tmp .. '/data',
            { output_dir = tmp .. '/img2' }))
        assert.are.same({ '', '' }, assert(metrics.read_csv(res.csv)).set)
    end)
end)

describe('lpose predict (CLI)', function()
    local EXE = exe_path()
    local function lpose(args)
        local quoted = {}
        for i, a in ipairs(args) do quoted[i] = q(a) end
        os.execute(q(EXE) .. ' ' .. table.concat(quoted, ' ') .. ' > ' .. tmp .. '/cli_out 2> '
            .. tmp .. '/cli_err; echo $? > ' .. tmp .. '/cli_rc')
        return tonumber(slurp(tmp .. '/cli_rc')), slurp(tmp .. '/cli_out'), slurp(tmp .. '/cli_err')
    end
    local mdir = tmp .. '/model'

    setup(function()
        os.execute('mkdir -p ' .. q(mdir))
        write(mdir .. '/config.yaml', table.concat({
            'data:',
            '  image_resize_dims:', '    height: 128', '    width: 128',
            '  num_keypoints: 3',
            '  keypoint_names: [nose, ear, tail]',
            'model:', '  model_type: heatmap_mhcrnn', '  backbone: resnet18',
            'dali:', '  context:', '    predict:', '      sequence_length: 8',
        }, '\n') .. '\n')
        local cfg = cfg_for('heatmap_mhcrnn')
        cfg.data.image_resize_dims = { height = 128, width = 128 }
        local m128 = models.new(cfg)
        assert(m128:save(mdir .. '/model.lpt'))
        m128:free()
    end)

    it('predicts a video into MODEL_DIR/video_preds', function()
        local path = have_ffmpeg and gen('cli.mp4', 10)
        if not path then return pending('ffmpeg cannot make a clip') end
        local rc, out, err = lpose({ 'predict', mdir, path, '--profile', '--precision', 'int8' })
        assert.are.equal(0, rc, err)
        assert.truthy(out:find('10 frames', 1, true))
        assert.truthy(out:find('\n  time [%d.]+ s: waiting for frames [%d.]+ s %(%d+ %%%), backbone'))
        local t = assert(metrics.read_csv(mdir .. '/video_preds/cli.csv'))
        assert.are.equal(10, #t.index)
        assert.are.same({ 'nose', 'ear', 'tail' }, t.keypoint_names)
    end)

    it('gives clear errors for bad inputs', function()
        local rc, _, err = lpose({ 'predict', tmp .. '/nope', 'x.mp4' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('does not exist', 1, true))
        rc, _, err = lpose({ 'predict', mdir, 'x.mp4', '--precision', 'f16' })
        assert.are.equal(1, rc)
        assert.truthy(err:find("--precision must be 'f32' or 'int8'", 1, true), err)
        local bad = tmp .. '/badmodel'
        os.execute('mkdir -p ' .. q(bad) .. ' && cp ' .. q(mdir .. '/config.yaml') .. ' ' .. q(bad))
        write(bad .. '/model.lpt', 'garbage')
        rc, _, err = lpose({ 'predict', bad, tmp .. '/x.mp4' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('checkpoint', 1, true))
        rc, _, err = lpose({ 'predict', mdir, tmp .. '/missing.mp4' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('does not exist', 1, true))
        write(tmp .. '/junk2.mp4', string.rep('x', 3000))
        rc, _, err = lpose({ 'predict', mdir, tmp .. '/junk2.mp4' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('lpose: error: predict:', 1, true))
        rc = lpose({ 'predict', mdir, tmp .. '/x.mp4', '--bogus' })
        assert.are.equal(1, rc)
        -- a video cut in half (index at the front): named before anything is predicted
        local full = tmp .. '/full.mp4'
        if have_ffmpeg and os.execute(('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x64:rate=25 '
            .. '-frames:v 60 -pix_fmt yuv420p -movflags +faststart %s'):format(q(full))) == 0 then
            local bytes = slurp(full)
            write(tmp .. '/half.mp4', bytes:sub(1, math.floor(#bytes / 2)))
            rc, _, err = lpose({ 'predict', mdir, tmp .. '/half.mp4', '--output', tmp .. '/half_out' })
            assert.are.equal(1, rc)
            assert.truthy(err:find('half.mp4: frame 59 of 60 cannot be decoded', 1, true), err)
            assert.is_nil(slurp(tmp .. '/half_out/half.csv'))
        end
    end)
end)
