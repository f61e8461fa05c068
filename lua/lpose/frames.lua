-- lpose.frames: labeled frames and the video they come from. extract()
-- writes video frames (with the context neighbours a TCN reads beside each
-- labeled image) as PNGs; compare() checks that labeled images are the
-- frames their file names claim. `lpose extract-frames`, `lpose
-- check-frames` and training setup's sample check (lpose.train.checks) call
-- them. Docs: docs/reference/lua/frames.md.
--
--   local frames = require('lpose.frames')
--   local reader = assert(require('lpose.video').open('videos/a.mp4', { threads = 1 }))
--   local list = frames.with_context({ 9, 120 }, 2, reader.n_frames)   -- 7..11, 118..122
--   assert(frames.extract(reader, list, 'labeled-data/a', { width = 3 }))
--   local entries = assert(frames.compare{ images = { 'labeled-data/a/img009.png' }, data_dir = '.',
--                                          video = 'videos/a.mp4' })
local ffi = require('ffi')
local lp = require('lpose.C')
local video = require('lpose.video')
local data = require('lpose.data')
local files = require('lpose.files')

local C = lp.lib
local M = {}

--- frames.index(path) -> LP's frame index of an image (the first digit run of its file stem) | nil
function M.index(path)
    local stem = path:match('([^/]*)$'):gsub('%.[^.]*$', '')
    local digits = stem:match('%d+')
    return digits and tonumber(digits)
end

--- frames.with_context(list, context, n_frames) -> sorted distinct frames
-- Each frame of list and its `context` neighbours on each side, clamped to 0..n_frames-1.
function M.with_context(list, context, n_frames)
    local wanted, out = {}, {}
    for _, f in ipairs(list) do
        for g = math.max(0, f - context), math.min(n_frames - 1, f + context) do wanted[g] = true end
    end
    for g in pairs(wanted) do out[#out + 1] = g end
    table.sort(out)
    return out
end

--- frames.extract(reader, list, out_dir, {width=3, prefix='img', on_write=fn(path)}) -> true | nil, err
-- Writes frame f of each index of the sorted `list` as out_dir/<prefix><f, width
-- digits>.png (RGB), decoding forward in order (reader:decode_in_order), so every
-- image is exactly the frame its name says. Creates out_dir.
function M.extract(reader, list, out_dir, opts)
    opts = opts or {}
    local width, prefix = opts.width or 3, opts.prefix or 'img'
    if not files.try_mkdir_p(out_dir) then return nil, 'cannot create ' .. out_dir end
    return reader:decode_in_order(list, function(f, rgb, w, h)
        local path = ('%s/%s%0' .. width .. 'd.png'):format(out_dir, prefix, f)
        if C.lp_image_write_png(path, rgb, w, h, 3, w * 3) ~= 0 then return nil, lp.last_error() end
        if opts.on_write then opts.on_write(path) end
        return true
    end)
end

local function compare_bytes(a, b, n)
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
    local n = w * h * 3
    local img = ffi.new('uint8_t[?]', n)
    local size = ffi.new('int64_t[2]')
    return function(e)
        if C.lp_image_read_rgb_into(e.path, n, img, size) ~= 0 then
            local msg = lp.last_error()
            if not files.exists(e.path) then msg = 'missing: ' .. e.path end
            return nil, msg
        end
        if tonumber(size[0]) ~= h or tonumber(size[1]) ~= w then
            return nil, ('image is %dx%d, the video %dx%d'):format(tonumber(size[1]), tonumber(size[0]), w, h)
        end
        return img
    end
end

--- frames.compare{images=, data_dir=, video=, tolerance=2, mean_tolerance=, lossy=,
--                       context=true, nearest=true} -> entries | nil, err
-- The comparison behind `lpose check-frames`, also run by training setup on
-- a sample of a TCN's labeled frames (lpose.train.checks). images: labeled
-- image paths relative to data_dir, as in the CSV; video: the video's path.
-- context: also the neighbours n-2..n+2 found on disk; nearest: name the
-- frame among n-3..n+3 a failing image looks like (lossy: every image, and
-- it must match its own frame best). entries, sorted by frame, one per image:
-- {rel=, path=, frame=, from_csv=, max=, mean=, problem=} (problem nil = ok).
function M.compare(o)
    local tol, mean_tol, lossy = o.tolerance or 2, o.mean_tolerance or math.huge, o.lossy
    local data_dir = o.data_dir or '.'
    local reader, verr = video.open(o.video, { threads = 1 })
    if not reader then return nil, verr end
    local n_frames, w, h = reader.n_frames, reader.width, reader.height

    -- The images to check, by path (context neighbours found through LP's rule).
    local entries, seen = {}, {}
    local function add(rel, from_csv)
        if seen[rel] then return end
        seen[rel] = true
        local idx = M.index(rel)
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
        local ctx = o.context ~= false and M.index(rel) and data.context_paths(rel, { fallback = false })
        for off = -2, 2 do
            if ctx and off ~= 0 and files.exists(data_dir .. '/' .. ctx[off + 3]) then add(ctx[off + 3], false) end
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
    local ok, derr = reader:decode_in_order(list, function(f, rgb)
        for _, e in ipairs(by_frame[f]) do
            local img, ierr = read_image(e)
            if not img then
                e.problem = ierr
            else
                e.max, e.mean = compare_bytes(img, rgb, n)
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
                local img = read_image(e)
                local best, best_mean = nil, math.huge
                for g = math.max(0, e.frame - 3), math.min(n_frames - 1, e.frame + 3) do
                    if img and reader:frame_rgb_into(g, frame) then
                        local _, mean = compare_bytes(img, frame, n)
                        if mean < best_mean then best, best_mean = g, mean end
                    end
                end
                if best and best ~= e.frame then
                    e.problem = ('differs; looks like frame %d (mean diff %.2f)'):format(best, best_mean)
                end
            end
        end
    end
    reader:close()
    return entries
end

return M
