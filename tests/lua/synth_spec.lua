-- Specs for lpose.synth (engine/src/synth/synth_*.c) and `lpose synth`. Small
-- projects (2 videos x 40 frames at 64x64) keep them fast.
local synth = require('lpose.synth')

local support = dofile('tests/lua/support.lua')
local q, slurp = support.q, support.slurp

local tmp = support.mktemp('synth_spec')

local SMALL = { n_videos = 2, n_frames = 40, width = 64, height = 64, n_labeled_per_video = 6, seed = 11 }

-- Run lpose with a shell-quoted argument list: exit code, stdout, stderr.
local function lpose(args) return support.run(tmp, args) end

describe('lpose.synth', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('default_params matches the documented defaults', function()
        local p = synth.default_params()
        assert.are.same({ 4, 1, 300, 6, 128, 128, 30, 20, 2, 4, 0 },
            { p.n_videos, p.n_test_videos, p.n_frames, p.n_keypoints, p.width, p.height, p.fps,
              p.n_labeled_per_video, p.context, p.index_width, p.seed })
        assert.are.same({ 'nose', 'head', 'neck', 'back', 'tail_base', 'tail_tip' }, synth.keypoint_names(6))
    end)

    it('generate writes an LP project and returns its summary', function()
        local s = assert(synth.generate(tmp .. '/p1', SMALL))
        assert.are.equal(tmp .. '/p1/CollectedData.csv', s.labels_csv)
        assert.are.equal(6, s.n_labeled_frames)
        assert.are.same({ 'synth_00' }, s.labeled_videos)
        assert.are.same({ 'synth_01' }, s.test_videos)
        assert.are.equal(2, #s.videos)
        assert.are.equal('test', s.videos[2].split)
        assert.are.equal(6, #s.videos[1].labeled_frames)
        local csv = slurp(s.labels_csv)
        assert.truthy(csv:match('^scorer,lpose_synth,'))
        assert.truthy(csv:find('\ncoords,x,y,x,y', 1, true))
        local n = 0
        for path in csv:gmatch('\n(labeled%-data/synth_00/img%d%d%d%d%.png),') do
            n = n + 1
            local frame = tonumber(path:match('img(%d+)'))
            for d = -2, 2 do -- the context frames are there too
                assert.truthy(slurp(('%s/p1/labeled-data/synth_00/img%04d.png'):format(tmp, frame + d)), path)
            end
        end
        assert.are.equal(6, n)
        assert.truthy(slurp(tmp .. '/p1/videos_gt/synth_01.csv'))
        assert.truthy(slurp(tmp .. '/p1/README.txt'))
    end)

    it('is deterministic: same seed, same bytes; another seed, other labels', function()
        assert(synth.generate(tmp .. '/p2', SMALL))
        for _, rel in ipairs({ 'CollectedData.csv', 'videos/synth_00.mp4', 'videos_test/synth_01.mp4',
                               'labeled-data/synth_00/img0005.png', 'videos_gt/synth_00_occluded.csv' }) do
            assert.are.equal(slurp(tmp .. '/p1/' .. rel), slurp(tmp .. '/p2/' .. rel), rel)
        end
        local other = {}
        for k, v in pairs(SMALL) do other[k] = v end
        other.seed = 12
        assert(synth.generate(tmp .. '/p3', other))
        assert.are_not.equal(slurp(tmp .. '/p1/CollectedData.csv'), slurp(tmp .. '/p3/CollectedData.csv'))
        assert.are_not.equal(synth.hash(SMALL), synth.hash(other))
        assert.are.equal(synth.hash(SMALL), synth.hash(SMALL))
    end)

    it('ensure generates once into cache/synth-<hash> and reuses it', function()
        local s = assert(synth.ensure(tmp .. '/cache', SMALL))
        assert.are.equal(tmp .. '/cache/synth-' .. synth.hash(SMALL), s.out_dir)
        assert.are.equal(slurp(tmp .. '/p1/CollectedData.csv'), slurp(s.labels_csv))
        -- mark the folder: a second ensure must not regenerate it
        local f = assert(io.open(s.out_dir .. '/marker', 'w'))
        f:write('x')
        f:close()
        local s2 = assert(synth.ensure(tmp .. '/cache', SMALL))
        assert.are.equal(s.out_dir, s2.out_dir)
        assert.is_nil(s.cached)
        assert.is_true(s2.cached)
        assert.are.equal('x', slurp(s2.out_dir .. '/marker'))
        local leftovers = io.popen('ls ' .. q(tmp .. '/cache')):read('*a')
        assert.are.equal('synth-' .. synth.hash(SMALL) .. '\n', leftovers) -- no temporary folders left
    end)

    it('raises on bad options, returns nil, err on I/O failure', function()
        assert.has_error(function() synth.generate(tmp .. '/bad', { n_vidoes = 2 }) end)
        assert.has_error(function() synth.generate(tmp .. '/bad', { width = 63 }) end)
        assert.has_error(function() synth.generate(tmp .. '/bad', { n_frames = 'x' }) end)
        local s, err = synth.generate('/proc/lpose_no_such/x', SMALL)
        assert.is_nil(s)
        assert.truthy(err:find('lp_synth_generate', 1, true), err)
    end)

    it('`lpose synth` writes the project and prints a summary', function()
        local rc, out, err = lpose({ 'synth', tmp .. '/cli', '--videos', '2', '--frames', '40', '--size', '64x64',
                                     '--labeled-per-video', '6', '--seed', '11' })
        assert.are.equal(0, rc, err)
        assert.truthy(out:find('6 labeled frames', 1, true), out)
        assert.truthy(out:find('held out for testing (synth_01)', 1, true), out)
        assert.are.equal(slurp(tmp .. '/p1/CollectedData.csv'), slurp(tmp .. '/cli/CollectedData.csv'))
        assert.are.equal(slurp(tmp .. '/p1/videos/synth_00.mp4'), slurp(tmp .. '/cli/videos/synth_00.mp4'))
    end)

    it('`lpose synth` rejects bad usage with exit 1', function()
        local rc, _, err = lpose({ 'synth', tmp .. '/x', '--size', '64' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('--size must be WxH', 1, true), err)
        rc, _, err = lpose({ 'synth', tmp .. '/x', '--size', '63x64' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('size must be even', 1, true), err)
        rc, _, err = lpose({ 'synth' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('expected 1 argument', 1, true), err)
        rc = lpose({ 'synth', '--help' })
        assert.are.equal(0, rc)
    end)
end)
