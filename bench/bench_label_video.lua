-- bench_label_video: frames/s of the labeled-video writer (lpose.predict.draw_video:
-- decode, upsample, draw, encode) on one clip, for two lpose executables in the same
-- run, alternated, so a change to the drawing is measured side by side (a
-- benchmark, not a test).
--
--   build/lpose run bench/bench_label_video.lua [OTHER_LPOSE] [VIDEO] [rounds]
--
-- OTHER_LPOSE: another build's lpose executable (e.g. a copy of build/lpose and
-- build/liblpose.so made before a change; it runs this checkout's Lua, so the worker
-- calls only lp_predict_draw_video, which both have); '' or none: only this build. VIDEO defaults to
-- ../shared/data/mirror-mouse-example/videos/test_vid.mp4, else a 300-frame
-- 396x406 clip made with the ffmpeg CLI. The predictions CSV is made up: 17
-- keypoints moving on circles, every third one below the 0.9 threshold, so the
-- below-threshold drawing is exercised too. Prints the median frames/s of each
-- executable over the rounds, with min-max, and the ratio.
local timing = dofile('bench/timing.lua')

local args = arg or {}
if args[1] == '--draw' then -- worker: one labeled video, prints seconds
    -- the C entry point both builds have (the Lua wrapper follows this checkout)
    local lp = require('lpose.C')
    local t0 = timing.now()
    if lp.lib.lp_predict_draw_video(args[2], args[3], args[4], 0.9) ~= 0 then error(lp.last_error()) end
    print(('seconds %.6f'):format(timing.now() - t0))
    return
end

local other = args[1] ~= '' and args[1] or nil
local path = (args[2] or '') ~= '' and args[2] or '../shared/data/mirror-mouse-example/videos/test_vid.mp4'
local rounds = tonumber(args[3] or 3)
local tmpdir = os.tmpname()
os.remove(tmpdir)
os.execute(('mkdir -p %q'):format(tmpdir))
if not io.open(path, 'rb') then
    path = tmpdir .. '/synth.mp4'
    print('making a synthetic clip: ' .. path)
    assert(os.execute(('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=396x406:rate=25 -frames:v 300 '
        .. '-c:v libx264 -preset fast -pix_fmt yuv420p %q'):format(path)) == 0)
end
local video = require('lpose.video')
local r = assert(video.open(path))
local n, w, h = r.n_frames, r.width, r.height
r:close()

-- LP's predictions CSV: scorer / bodyparts / coords rows, then one row per frame
local K = 17
local csv = tmpdir .. '/preds.csv'
local f = assert(io.open(csv, 'w'))
local hdr = { { 'scorer' }, { 'bodyparts' }, { 'coords' } }
for k = 1, K do
    for _, c in ipairs({ 'x', 'y', 'likelihood' }) do
        hdr[1][#hdr[1] + 1] = 'bench'
        hdr[2][#hdr[2] + 1] = 'keypoint_' .. k
        hdr[3][#hdr[3] + 1] = c
    end
end
for _, row in ipairs(hdr) do f:write(table.concat(row, ','), '\n') end
for i = 0, n - 1 do
    local row = { tostring(i) }
    for k = 1, K do
        local a = 2 * math.pi * (i / 100 + k / K)
        row[#row + 1] = ('%.3f'):format(w / 2 + w / 3 * math.cos(a))
        row[#row + 1] = ('%.3f'):format(h / 2 + h / 3 * math.sin(a))
        row[#row + 1] = k % 3 == 0 and '0.5' or '0.99'
    end
    f:write(table.concat(row, ','), '\n')
end
f:close()

local exes = { { name = 'this build', exe = (os.getenv('LPOSE_BUILD') or 'build') .. '/lpose', t = {} } }
if other then exes[#exes + 1] = { name = other, exe = other, t = {} } end
print(('clip %s: %d frames %dx%d, %d keypoints, %d rounds'):format(path, n, w, h, K, rounds))
for _ = 1, rounds do
    for _, e in ipairs(exes) do
        local p = assert(io.popen(('%q run bench/bench_label_video.lua --draw %q %q %q'):format(
            e.exe, path, csv, tmpdir .. '/labeled.mp4')))
        local out = p:read('*a')
        p:close()
        local s = tonumber(out:match('seconds ([%d.]+)'))
        if not s then error('worker failed: ' .. out) end
        e.t[#e.t + 1] = n / s
    end
end
for _, e in ipairs(exes) do
    table.sort(e.t)
    print(('%-40s median %.1f frames/s (min %.1f, max %.1f)'):format(e.name, timing.median(e.t), e.t[1], e.t[#e.t]))
end
if other then
    print(('ratio this/other: %.3f'):format(timing.median(exes[1].t) / timing.median(exes[2].t)))
end
os.execute(('rm -rf %q'):format(tmpdir))
