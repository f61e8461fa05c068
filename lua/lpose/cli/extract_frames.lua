-- lpose.cli.extract_frames: `lpose extract-frames VIDEO --frames 9,120 --out DIR`,
-- labeled frames and their context neighbours as PNGs (the TCN needs n-2..n+2
-- next to each labeled image n; docs/reference/cli/extract-frames.md).
-- Also exports the frame-ordered decoding that check-frames uses.
local ffi = require('ffi')
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Extract video frames, with their context neighbours, as PNG images.

usage: lpose extract-frames VIDEO --frames LIST --out DIR [--context N]
                            [--width N] [--prefix img]

  --frames LIST   0-based frame indices: 9,120,300 or ranges 10-14 (required)
  --out DIR       output folder, e.g. labeled-data/session_00 (created)
  --context N     neighbours on each side of each frame (default 2, LP's TCN);
                  clamped at the video's ends
  --width N       digits of the index in the file name (default: as many as
                  the video's last frame index needs, at least 3: img009.png)
  --prefix P      file name prefix (default img)

Frames are decoded forward in index order (no seek between nearby frames),
so every image is exactly the frame its name says: frame n is
DIR/<prefix><n zero-padded>.png, RGB. Prints one line per written file and
a summary.]]

-- Parse "9,120,10-14" into a sorted list of distinct indices, or nil, err.
function M.parse_frame_list(text)
    local set, out = {}, {}
    for item in tostring(text):gmatch('[^,%s]+') do
        local a, b = item:match('^(%d+)%-(%d+)$')
        a, b = tonumber(a), tonumber(b)
        if not a then
            a = tonumber(item:match('^%d+$'))
            b = a
        end
        if not a or b < a then return nil, "bad frame index '" .. item .. "' (expected N or N-M, N >= 0)" end
        for i = a, b do set[i] = true end
    end
    for i in pairs(set) do out[#out + 1] = i end
    table.sort(out)
    if #out == 0 then return nil, 'no frame indices given' end
    return out
end

-- An open video as a plain FFI handle (freed by the GC), or nil, err.
function M.open_video(path)
    local lp = require('lpose.C')
    local out = ffi.new('lp_video*[1]')
    local st = lp.lib.lp_video_open(path, 1, out)
    if st ~= 0 then return nil, lp.last_error() end
    return ffi.gc(out[0], lp.lib.lp_video_free)
end

-- Call fn(index, rgb) for each frame index of the sorted list `frames`, in
-- order; rgb is a uint8_t buffer of height*width*3 reused between calls.
-- Gaps up to `max_gap` frames are decoded through rather than sought.
-- Returns true | nil, err.
function M.decode_in_order(video, frames, fn, max_gap)
    local C = require('lpose.C').lib
    local w, h = C.lp_video_width(video), C.lp_video_height(video)
    local rgb = ffi.new('uint8_t[?]', w * h * 3)
    local last = -1
    max_gap = max_gap or 300
    for _, f in ipairs(frames) do
        if f > last then
            if f - last - 1 <= max_gap then
                for g = last + 1, f - 1 do
                    if C.lp_video_read_frame_rgb_into(video, g, rgb) ~= 0 then
                        return nil, require('lpose.C').last_error()
                    end
                end
            end
            if C.lp_video_read_frame_rgb_into(video, f, rgb) ~= 0 then
                return nil, require('lpose.C').last_error()
            end
            last = f
        end
        local ok, err = fn(f, rgb, w, h)
        if not ok then return nil, err end
    end
    return true
end

function M.command(args)
    local opts, err = cli_args.parse(args,
        { frames = 'value', out = 'value', context = 'value', width = 'value', prefix = 'value' }, { 'video' })
    if not opts then return cli_args.usage_error('extract-frames', err) end
    if opts.help then print(M.help) return true end
    if not opts.frames then return nil, 'extract-frames: --frames is required' end
    if not opts.out then return nil, 'extract-frames: --out is required' end
    local frames, ferr = M.parse_frame_list(opts.frames)
    if not frames then return nil, 'extract-frames: --frames: ' .. ferr end
    local context, cerr = cli_args.int(opts, 'context', 2, 0)
    if not context then return nil, 'extract-frames: ' .. cerr end
    local width, werr = cli_args.int(opts, 'width', nil, 1)
    if werr then return nil, 'extract-frames: ' .. werr end
    local prefix = opts.prefix or 'img'

    local video, verr = M.open_video(opts.video)
    if not video then return nil, verr end
    local lp = require('lpose.C')
    local C = lp.lib
    local n_frames = tonumber(C.lp_video_n_frames(video))
    if frames[#frames] >= n_frames then
        return nil, ('extract-frames: frame %d is past the end of %s (%d frames, 0..%d)'):format(
            frames[#frames], opts.video, n_frames, n_frames - 1)
    end
    width = width or math.max(3, #tostring(n_frames - 1))
    if #tostring(frames[#frames] + context > n_frames - 1 and n_frames - 1 or frames[#frames] + context) > width then
        return nil, ('extract-frames: --width %d is too narrow for frame %d'):format(width, frames[#frames])
    end
    local wanted, list = {}, {}
    for _, f in ipairs(frames) do
        for g = math.max(0, f - context), math.min(n_frames - 1, f + context) do wanted[g] = true end
    end
    for g in pairs(wanted) do list[#list + 1] = g end
    table.sort(list)
    if not require('lpose.files').try_mkdir_p(opts.out) then
        return nil, 'extract-frames: cannot create ' .. opts.out
    end
    local ok, derr = M.decode_in_order(video, list, function(f, rgb, w, h)
        local path = ('%s/%s%0' .. width .. 'd.png'):format(opts.out, prefix, f)
        if C.lp_image_write_png(path, rgb, w, h, 3, w * 3) ~= 0 then return nil, lp.last_error() end
        print(path)
        return true
    end)
    if not ok then return nil, derr end
    print(('extract-frames: wrote %d images (%d frames +-%d context) from %s (%d seeks)'):format(
        #list, #frames, context, opts.video, tonumber(C.lp_video_n_seeks(video))))
    return true
end

return M
