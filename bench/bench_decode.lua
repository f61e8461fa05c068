-- bench_decode: video decode + bilinear resize to 256x256 + ImageNet normalisation
-- through lpose.video, against `ffmpeg -i VIDEO -vf scale=256:256 -f null -` on the
-- same file in the same run (a benchmark, not a test).
--
--   build/lpose run bench/bench_decode.lua [VIDEO] [threads]
--
-- VIDEO defaults to ../shared/data/mirror-mouse-example/videos/test_vid.mp4, else a
-- 1000-frame 396x406 H.264 clip made with the ffmpeg CLI. Prints frames/s of both
-- and the ratio lpose / ffmpeg (> 1: lpose is faster) as the median over rounds that
-- alternate the two, with its min-max (LPOSE_BENCH_ROUNDS, default 5).
local video = require('lpose.video')

local timing = dofile('bench/timing.lua')
local now = timing.now

local args = arg or {}
local path = args[1] or '../shared/data/mirror-mouse-example/videos/test_vid.mp4'
local threads = tonumber(args[2] or 0)
local tmpdir
if not io.open(path, 'rb') then
    tmpdir = os.tmpname()
    os.remove(tmpdir)
    os.execute(('mkdir -p %q'):format(tmpdir))
    path = tmpdir .. '/synth.mp4'
    print('making a synthetic clip: ' .. path)
    assert(os.execute(('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=396x406:rate=250 -frames:v 1000 '
        .. '-vf hue=s=0 -c:v libx264 -preset medium -crf 18 -pix_fmt yuv420p %q'):format(path)) == 0)
end

local size = {height = 256, width = 256}
local batch = 32

local function run_lpose()
    local r = assert(video.open(path, {threads = threads}))
    local t0 = now()
    local n = 0
    for _, frames in r:batches(batch, size) do
        n = n + frames:size(1)
        frames:free()
    end
    local dt = now() - t0
    r:close()
    return n, dt
end

local function run_ffmpeg()
    local t0 = now()
    local ok = os.execute(('ffmpeg -nostdin -v error -i %q -vf scale=256:256 -f null - >/dev/null 2>&1'):format(path))
    return ok == 0, now() - t0
end

print(('video: %s'):format(path))
run_lpose() -- warm the page cache
local n = 0
local times = timing.rounds({
    { 'lpose', function() n = run_lpose() end },
    { 'ffmpeg', function() assert(run_ffmpeg(), 'ffmpeg CLI failed on ' .. path) end },
}, tonumber(os.getenv('LPOSE_BENCH_ROUNDS')) or 5)
local t_lp, t_ff = timing.median(times.lpose), timing.median(times.ffmpeg)
print(('lpose  decode+resize 256x256+normalise (batches of %d, threads %s): %7.1f frames/s (%d frames, median %.3f s)')
    :format(batch, threads == 0 and 'auto' or tostring(threads), n / t_lp, n, t_lp))
print(('ffmpeg -vf scale=256:256 -f null -                          : %7.1f frames/s (median %.3f s, '
    .. 'incl. process start)'):format(n / t_ff, t_ff))
print(('ratio lpose/ffmpeg (frames/s): %s'):format(timing.ratio_text(times.ffmpeg, times.lpose)))
if tmpdir then os.execute(('rm -rf %q'):format(tmpdir)) end
