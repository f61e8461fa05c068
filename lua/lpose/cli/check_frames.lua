-- lpose.cli.check_frames: `lpose check-frames CSV VIDEO`, do the labeled
-- images (and their context neighbours) equal the video frames their names
-- claim? (docs/reference/cli/check-frames.md)
local ffi = require('ffi')
local ef = require('lpose.cli.extract_frames')
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Check that labeled images are the video frames their file names say.

usage: lpose check-frames CSV VIDEO [--data-dir DIR] [--tolerance N]
                          [--mean-tolerance X] [--lossy] [--match TEXT]
                          [--no-context]

The frame index of an image is the first run of digits in its file name
(Lightning Pose's rule: img009.png is frame 9). Every image listed in the
labels CSV (paths relative to --data-dir, default the CSV's folder) and,
unless --no-context, each of its context neighbours n-2..n+2 found on disk,
is compared with that frame of VIDEO decoded to RGB. One line per image
gives the largest and the mean absolute pixel difference; a failing image
also names the nearby frame (n-3..n+3) it matches best.

  --tolerance N       largest allowed max abs difference (default 2: frames
                      saved losslessly from a decode of the same file match
                      exactly; 2 absorbs decoders' YUV->RGB rounding)
  --mean-tolerance X  largest allowed mean abs difference (default: off)
  --lossy             for lossy (JPEG) images: tolerance 255 and mean
                      tolerance 4 unless given, and each image must match
                      its own frame better than frames n-3..n+3
  --match TEXT        only check CSV rows whose path contains TEXT (a CSV
                      with several sessions: one video at a time)
  --no-context        check only the images listed in the CSV

Exit status 0 when every image is within tolerance, 1 otherwise.]]

local file_exists = require('lpose.files').exists

-- LP's frame index: the first digit run of the file stem.
local function frame_index(path)
    local stem = path:match('([^/]*)$'):gsub('%.[^.]*$', '')
    local digits = stem:match('%d+')
    return digits and tonumber(digits)
end

local function compare(a, b, n)
    local max, sum = 0, 0
    for i = 0, n - 1 do
        local d = a[i] - b[i]
        if d < 0 then d = -d end
        if d > max then max = d end
        sum = sum + d
    end
    return max, sum / n
end

-- Images are read when their frame comes up, so memory stays at a few frames.
local function image_reader(w, h)
    local lp = require('lpose.C')
    local C = lp.lib
    local n = w * h * 3
    local img = ffi.new('uint8_t[?]', n)
    local size = ffi.new('int64_t[2]')
    return function(e)
        if C.lp_image_read_rgb_into(e.path, n, img, size) ~= 0 then
            local msg = lp.last_error()
            if not file_exists(e.path) then msg = 'missing: ' .. e.path end
            return nil, msg
        end
        if tonumber(size[0]) ~= h or tonumber(size[1]) ~= w then
            return nil, ('image is %dx%d, the video %dx%d'):format(tonumber(size[1]), tonumber(size[0]), w, h)
        end
        return img
    end
end

--- check_frames.compare{images=, data_dir=, video=, tolerance=2, mean_tolerance=, lossy=,
--                       context=true, nearest=true} -> entries | nil, err
-- The comparison behind `lpose check-frames`, also run by training setup on
-- a sample of a TCN's labeled frames (lpose.train.checks). images: labeled
-- image paths relative to data_dir, as in the CSV; video: the video's path.
-- context: also the neighbours n-2..n+2 found on disk; nearest: name the
-- frame among n-3..n+3 a failing image looks like (lossy: every image, and
-- it must match its own frame best). entries, sorted by frame, one per image:
-- {rel=, path=, frame=, from_csv=, max=, mean=, problem=} (problem nil = ok).
function M.compare(o)
    local lp = require('lpose.C')
    local C = lp.lib
    local tol, mean_tol, lossy = o.tolerance or 2, o.mean_tolerance or math.huge, o.lossy
    local data_dir = o.data_dir or '.'
    local video, verr = ef.open_video(o.video)
    if not video then return nil, verr end
    local n_frames = tonumber(C.lp_video_n_frames(video))
    local w, h = C.lp_video_width(video), C.lp_video_height(video)

    -- The images to check, by path (context neighbours found through LP's rule).
    local entries, seen = {}, {}
    local pathbuf = ffi.new('char[4096]')
    local function add(rel, from_csv)
        if seen[rel] then return end
        seen[rel] = true
        local idx = frame_index(rel)
        local e = { rel = rel, path = data_dir .. '/' .. rel, frame = idx, from_csv = from_csv }
        if not idx then
            e.problem = 'no digits in the file name'
        elseif idx >= n_frames then
            e.problem = ('frame %d is past the end of the video (%d frames)'):format(idx, n_frames)
        end
        entries[#entries + 1] = e
    end
    for _, rel in ipairs(o.images) do
        add(rel, true)
        if o.context ~= false and frame_index(rel) then
            for off = -2, 2 do
                if off ~= 0 and C.lp_context_path(rel, off, 0, 4096, pathbuf) == 0 then
                    local ctx = ffi.string(pathbuf)
                    if file_exists(data_dir .. '/' .. ctx) then add(ctx, false) end
                end
            end
        end
    end
    table.sort(entries, function(a, b)
        local fa, fb = a.frame or -1, b.frame or -1
        if fa ~= fb then return fa < fb end
        return a.rel < b.rel
    end)

    local n = w * h * 3
    local read_image = image_reader(w, h)
    local by_frame, list = {}, {}
    for _, e in ipairs(entries) do
        if not e.problem then
            if not by_frame[e.frame] then
                by_frame[e.frame] = {}
                list[#list + 1] = e.frame
            end
            table.insert(by_frame[e.frame], e)
        end
    end
    local ok, derr = ef.decode_in_order(video, list, function(f, rgb)
        for _, e in ipairs(by_frame[f]) do
            local data, ierr = read_image(e)
            if not data then
                e.problem = ierr
            else
                e.max, e.mean = compare(data, rgb, n)
                if e.max > tol or e.mean > mean_tol then e.problem = 'differs' end
            end
        end
        return true
    end)
    if not ok then return nil, derr end

    -- For the failures (and every image with lossy): which nearby frame does it look like?
    if o.nearest ~= false or lossy then
        local frame = ffi.new('uint8_t[?]', n)
        for _, e in ipairs(entries) do
            if e.problem == 'differs' or (lossy and e.max) then
                local data = read_image(e)
                local best, best_mean = nil, math.huge
                for g = math.max(0, e.frame - 3), math.min(n_frames - 1, e.frame + 3) do
                    if data and C.lp_video_read_frame_rgb_into(video, g, frame) == 0 then
                        local _, mean = compare(data, frame, n)
                        if mean < best_mean then best, best_mean = g, mean end
                    end
                end
                if best and best ~= e.frame then
                    e.problem = ('differs; looks like frame %d (mean diff %.2f)'):format(best, best_mean)
                end
            end
        end
    end
    return entries
end

function M.command(args)
    local opts, err = cli_args.parse(args,
        { ['data-dir'] = 'value', tolerance = 'value', ['mean-tolerance'] = 'value',
          match = 'value', ['no-context'] = 'flag', lossy = 'flag' }, { 'csv', 'video' })
    if not opts then return cli_args.usage_error('check-frames', err) end
    if opts.help then print(M.help) return true end
    local lossy = opts.lossy
    if lossy and not opts['mean-tolerance'] then opts['mean-tolerance'] = '4' end
    local tol, terr = cli_args.int(opts, 'tolerance', lossy and 255 or 2, 0)
    if not tol then return nil, 'check-frames: ' .. terr end
    local mean_tol = math.huge
    if opts['mean-tolerance'] then
        mean_tol = tonumber(opts['mean-tolerance'])
        if not mean_tol or mean_tol < 0 then return nil, 'check-frames: --mean-tolerance must be a number >= 0' end
    end
    local data_dir = opts['data-dir'] or (opts.csv:match('^(.*)/[^/]*$') or '.')

    local lp = require('lpose.C')
    local C = lp.lib
    local lout = ffi.new('lp_labels*[1]')
    if C.lp_labels_read(opts.csv, nil, lout) ~= 0 then return nil, lp.last_error() end
    local labels = ffi.gc(lout[0], C.lp_labels_free)
    local images = {}
    for i = 0, tonumber(C.lp_labels_n_frames(labels)) - 1 do
        local rel = ffi.string(C.lp_labels_image_path(labels, i))
        if not opts.match or rel:find(opts.match, 1, true) then images[#images + 1] = rel end
    end
    if #images == 0 then return nil, 'check-frames: no images to check in ' .. opts.csv end
    local entries, cerr = M.compare({ images = images, data_dir = data_dir, video = opts.video,
        tolerance = tol, mean_tolerance = mean_tol, lossy = lossy, context = not opts['no-context'] })
    if not entries then return nil, cerr end

    local n_bad, problems = 0, {}
    for _, e in ipairs(entries) do
        local tag = e.from_csv and '' or ' (context)'
        if e.max then
            print(('%s %s%s frame %d: max diff %d, mean %.3f%s'):format(e.problem and 'FAIL' or 'ok  ',
                e.rel, tag, e.frame, e.max, e.mean, e.problem and ('  ' .. e.problem) or ''))
        else
            print(('FAIL %s%s: %s'):format(e.rel, tag, e.problem))
        end
        if e.problem then
            n_bad = n_bad + 1
            problems[#problems + 1] = e.rel
        end
    end
    print(('check-frames: %d images checked against %s: %d ok, %d failed (tolerance max %d%s)'):format(
        #entries, opts.video, #entries - n_bad, n_bad, tol,
        mean_tol < math.huge and (', mean ' .. mean_tol) or ''))
    if n_bad > 0 then
        local shown = table.concat(problems, ', ', 1, math.min(#problems, 5))
        return nil, ('check-frames: %d %s from the video: %s%s'):format(n_bad,
            n_bad == 1 and 'image differs' or 'images differ', shown, #problems > 5 and ', ...' or ''), 1
    end
    return true
end

return M
