-- Specs for lpose.video: reader and writer (C core in engine/src/video/video_reader.c,
-- video_writer.c). Test clips are made with the ffmpeg CLI in a temporary dir.
local video = require('lpose.video')
local tensor = require('lpose.tensor')

local MOUSE_VID = '../shared/data/mirror-mouse-example/videos/test_vid.mp4'

local function exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() end
    return f ~= nil
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute(('mkdir -p %q'):format(tmp)) == 0)

-- testsrc2 64x48 @ 25 fps, 30 frames; true when ffmpeg made it
local function gen(name, opts)
    local cmd = ('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 30 %s %q'
        .. ' >/dev/null 2>&1'):format(opts, tmp .. '/' .. name)
    return os.execute(cmd) == 0
end

local have_ffmpeg = os.execute('ffmpeg -version >/dev/null 2>&1') == 0

describe('lpose.video reader', function()
    teardown(function() os.execute(('rm -rf %q'):format(tmp)) end)

    local clips = {
        {'h264.mp4', '-c:v libx264 -pix_fmt yuv420p -g 8'},
        {'hevc.mkv', '-c:v libx265 -pix_fmt yuv444p -x265-params log-level=none'},
        {'mpeg4.avi', '-c:v mpeg4'},
        {'mjpeg.mov', '-c:v mjpeg -pix_fmt yuvj420p'},
        {'gray.mkv', '-c:v libx264 -pix_fmt gray'},
    }
    for _, clip in ipairs(clips) do
        it('opens and reads ' .. clip[1], function()
            if not have_ffmpeg or not gen(clip[1], clip[2]) then
                pending('ffmpeg cannot make ' .. clip[1])
                return
            end
            local r = assert(video.open(tmp .. '/' .. clip[1]))
            assert.equal(30, r.n_frames)
            assert.equal(30, #r)
            assert.equal(64, r.width)
            assert.equal(48, r.height)
            assert.is_true(math.abs(r.fps - 25) < 1e-9)
            local frames = assert(r:read(0, 5, {height = 32, width = 32}))
            assert.same({5, 3, 32, 32}, frames:size())
            assert.equal('f32', frames:dtype())
            frames:free()
            local native = assert(r:read(25, 5))
            assert.same({5, 3, 48, 64}, native:size())
            native:free()
            -- random access matches a sequential read
            local a = assert(r:frame_rgb(3))
            local b = assert(r:frame_rgb(27))
            local c = assert(r:frame_rgb(3))
            assert.same({48, 64, 3}, a:size())
            assert.same(a:totable(), c:totable())
            a:free(); b:free(); c:free()
            r:close()
        end)
    end

    it('reports end of stream, raises on out-of-range frames', function()
        if not have_ffmpeg or not gen('range.mp4', '-c:v libx264') then pending('no ffmpeg') return end
        local r = assert(video.open(tmp .. '/range.mp4'))
        local frames, err = r:read(30, 1)
        assert.is_nil(frames)
        assert.matches('end of stream', err)
        assert.has_error(function() r:read(28, 3) end)
        assert.has_error(function() r:frame_rgb(-1) end)
        assert.has_error(function() r:read(0, 0) end)
        assert.has_error(function() r:read(0, 1, {height = 10}) end)
        r:close()
        r:close()
        assert.has_error(function() return r.n_frames end, 'reader.n_frames: video reader used after close()')
    end)

    it('streams every frame in batches', function()
        if not have_ffmpeg or not gen('stream.mkv', '-c:v libx264') then pending('no ffmpeg') return end
        local r = assert(video.open(tmp .. '/stream.mkv'))
        local starts, total = {}, 0
        for start, batch in r:batches(8, {height = 16, width = 16}) do
            starts[#starts + 1] = start
            total = total + batch:size(1)
            batch:free()
        end
        assert.same({0, 8, 16, 24}, starts)
        assert.equal(30, total)
        assert.equal(0, r.n_seeks)
        r:close()
    end)

    it('returns nil, err for missing, random and audio-only files', function()
        local r, err = video.open(tmp .. '/missing.mp4')
        assert.is_nil(r)
        assert.matches('missing.mp4: cannot open', err, 1, true)
        local f = assert(io.open(tmp .. '/random.mp4', 'wb'))
        math.randomseed(7)
        local bytes = {}
        for i = 1, 20000 do bytes[i] = string.char(math.random(0, 255)) end
        f:write(table.concat(bytes))
        f:close()
        r, err = video.open(tmp .. '/random.mp4')
        assert.is_nil(r)
        assert.matches('random.mp4', err, 1, true)
        if have_ffmpeg and os.execute(('ffmpeg -nostdin -v error -y -f lavfi -i sine=d=0.2 %q >/dev/null 2>&1')
                :format(tmp .. '/audio.wav')) == 0 then
            r, err = video.open(tmp .. '/audio.wav')
            assert.is_nil(r)
            assert.matches('no video stream', err)
        end
    end)

    it('reads the mirror-mouse video (994 frames, 396x406)', function()
        if not exists(MOUSE_VID) then pending('mirror-mouse video not found') return end
        local r = assert(video.open(MOUSE_VID))
        assert.equal(994, r.n_frames)
        assert.equal(396, r.width)
        assert.equal(406, r.height)
        assert.equal(250, r.fps)
        local last = assert(r:frame_rgb(993))
        assert.same({406, 396, 3}, last:size())
        last:free()
        r:close()
    end)
end)

describe('lpose.video writer', function()
    teardown(function() os.execute(('rm -rf %q'):format(tmp)) end)

    it('writes RGB frames and renames the file into place on close', function()
        local path = tmp .. '/written.mp4'
        os.execute(('mkdir -p %q'):format(tmp))
        local w = assert(video.writer(path, 64, 48, 30))
        local frame = tensor.full({48, 64, 3}, 128, {dtype = 'u8'})
        for _ = 1, 10 do assert(w:write(frame)) end
        assert.equal(10, w.n_frames)
        assert.is_false(exists(path))
        assert.has_error(function() w:write(tensor.zeros({48, 64}, {dtype = 'u8'})) end)
        frame:free()
        assert.is_true(w:close())
        assert.is_true(w:close())
        assert.is_true(exists(path))
        local r = assert(video.open(path))
        assert.equal(10, r.n_frames)
        local back = assert(r:frame_rgb(9))
        local t = back:totable()
        assert.is_true(math.abs(t[24][32][2] - 128) <= 3)
        back:free()
        r:close()
    end)

    it('rejects odd sizes and unknown containers', function()
        assert.has_error(function() video.writer(tmp .. '/odd.mp4', 63, 48, 25) end)
        assert.has_error(function() video.writer(tmp .. '/noext', 64, 48, 25) end)
        local w, err = video.writer('/nonexistent-dir/x.mp4', 64, 48, 25)
        assert.is_nil(w)
        assert.matches('cannot create', err)
    end)
end)
