-- Specs for `lpose extract-frames` and `lpose check-frames`
-- (lua/lpose/cli/extract_frames.lua, check_frames.lua), run as subprocesses
-- on a small synthetic video.
local synth = require('lpose.synth')

local support = dofile('tests/lua/support.lua')
local q, slurp = support.q, support.slurp
local write = support.write

local tmp = support.mktemp('frames_spec')

local function lpose(args) return support.run(tmp, args) end

describe('lpose extract-frames / check-frames', function()
    local proj, video
    setup(function()
        proj = assert(synth.generate(tmp .. '/proj', { n_videos = 1, n_test_videos = 0, n_frames = 40,
            width = 64, height = 64, n_labeled_per_video = 4, seed = 5 }))
        video = proj.videos[1].path
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('extract-frames writes each frame with its context, clamped at the ends', function()
        local rc, out, err = lpose({ 'extract-frames', video, '--frames', '9,0,39', '--out',
                                     tmp .. '/data/labeled-data/session_00' })
        assert.are.equal(0, rc, err)
        local dir = tmp .. '/data/labeled-data/session_00/'
        for _, i in ipairs({ 0, 1, 2, 7, 8, 9, 10, 11, 37, 38, 39 }) do
            assert.truthy(slurp(('%simg%03d.png'):format(dir, i)), 'img' .. i)
        end
        assert.is_nil(slurp(dir .. 'img040.png'))
        assert.is_nil(slurp(dir .. 'img006.png'))
        assert.truthy(out:find('wrote 11 images', 1, true), out)
        -- the synthetic project's own PNGs (decoded the same way) are identical
        local f = proj.videos[1].labeled_frames[1]
        assert.are.equal(slurp(('%s/proj/labeled-data/synth_00/img%04d.png'):format(tmp, f)),
            (function()
                lpose({ 'extract-frames', video, '--frames', tostring(f), '--context', '0', '--width', '4',
                        '--out', tmp .. '/w4' })
                return slurp(('%s/w4/img%04d.png'):format(tmp, f))
            end)())
    end)

    it('check-frames passes on extracted frames, fails naming a swapped image', function()
        local data = tmp .. '/data'
        write(data .. '/CollectedData.csv', table.concat({
            'scorer,me,me', 'bodyparts,nose,nose', 'coords,x,y',
            'labeled-data/session_00/img009.png,1,2', 'labeled-data/session_00/img039.png,3,4', '' }, '\n'))
        local rc, out, err = lpose({ 'check-frames', data .. '/CollectedData.csv', video })
        assert.are.equal(0, rc, (out or '') .. (err or ''))
        assert.truthy(out:find('0 failed', 1, true), out)
        assert.truthy(out:find('img010.png (context) frame 10: max diff 0', 1, true), out)
        -- swap two neighbours: both now fail, and the report says which frame they look like
        local dir = data .. '/labeled-data/session_00/'
        local a, b = slurp(dir .. 'img009.png'), slurp(dir .. 'img010.png')
        write(dir .. 'img009.png', b)
        write(dir .. 'img010.png', a)
        rc, out, err = lpose({ 'check-frames', data .. '/CollectedData.csv', video })
        assert.are.equal(1, rc, out)
        assert.truthy(err:find('img009.png', 1, true), err)
        assert.truthy(out:find('FAIL labeled-data/session_00/img009.png frame 9', 1, true), out)
        assert.truthy(out:find('looks like frame 10', 1, true), out)
        -- --no-context checks only the CSV's images; --data-dir overrides the CSV folder
        write(dir .. 'img010.png', b)
        rc, out = lpose({ 'check-frames', data .. '/CollectedData.csv', video, '--no-context',
                          '--data-dir', data })
        assert.are.equal(1, rc, out)
        assert.truthy(out:find('2 images checked', 1, true), out)
        write(dir .. 'img009.png', a)
        rc, out = lpose({ 'check-frames', data .. '/CollectedData.csv', video })
        assert.are.equal(0, rc, out)
    end)

    it('check-frames accepts the synthetic project as is', function()
        local rc, out, err = lpose({ 'check-frames', proj.labels_csv, video })
        assert.are.equal(0, rc, (out or '') .. (err or ''))
        assert.truthy(out:find('20 images checked', 1, true), out) -- 4 labeled x 5 frames
    end)

    it('check-frames --lossy accepts JPEG frames but not a swapped one', function()
        if os.execute('ffmpeg -version >/dev/null 2>&1') ~= 0 then return pending('no ffmpeg CLI') end
        local dir = tmp .. '/jpg/labeled-data/s'
        os.execute('mkdir -p ' .. q(dir))
        assert.are.equal(0, os.execute(('ffmpeg -nostdin -v error -y -i %s -start_number 0 -frames:v 16 -q:v 3 %s')
            :format(q(video), q(dir .. '/img%03d.jpg'))))
        write(tmp .. '/jpg/labels.csv',
            'scorer,me,me\nbodyparts,nose,nose\ncoords,x,y\nlabeled-data/s/img009.jpg,1,2\n')
        local rc, out = lpose({ 'check-frames', tmp .. '/jpg/labels.csv', video })
        assert.are.equal(1, rc, out) -- lossy: beyond the default max diff of 2
        rc, out = lpose({ 'check-frames', tmp .. '/jpg/labels.csv', video, '--lossy' })
        assert.are.equal(0, rc, out)
        write(dir .. '/img009.jpg', slurp(dir .. '/img011.jpg'))
        rc, out = lpose({ 'check-frames', tmp .. '/jpg/labels.csv', video, '--lossy' })
        assert.are.equal(1, rc, out)
        assert.truthy(out:find('looks like frame 11', 1, true), out)
    end)

    it('reports bad usage with exit 1', function()
        local rc, _, err = lpose({ 'extract-frames', video, '--frames', '99', '--out', tmp .. '/x' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('past the end', 1, true), err)
        rc, _, err = lpose({ 'extract-frames', video, '--out', tmp .. '/x' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('--frames is required', 1, true), err)
        rc, _, err = lpose({ 'check-frames', tmp .. '/missing.csv', video })
        assert.are.equal(1, rc)
        assert.truthy(err:find('missing.csv', 1, true), err)
    end)
end)
