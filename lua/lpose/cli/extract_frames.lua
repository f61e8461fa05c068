-- lpose.cli.extract_frames: `lpose extract-frames VIDEO --frames 9,120 --out DIR`,
-- labeled frames and their context neighbours as PNGs (the TCN needs n-2..n+2
-- next to each labeled image n; docs/reference/cli/extract-frames.md). The
-- work is lpose.frames.extract; this file parses the options and prints.
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

    local reader, verr = require('lpose.video').open(opts.video, { threads = 1 })
    if not reader then return nil, verr end
    local n_frames = reader.n_frames
    if frames[#frames] >= n_frames then
        return nil, ('extract-frames: frame %d is past the end of %s (%d frames, 0..%d)'):format(
            frames[#frames], opts.video, n_frames, n_frames - 1)
    end
    width = width or math.max(3, #tostring(n_frames - 1))
    if #tostring(frames[#frames] + context > n_frames - 1 and n_frames - 1 or frames[#frames] + context) > width then
        return nil, ('extract-frames: --width %d is too narrow for frame %d'):format(width, frames[#frames])
    end
    local lpose_frames = require('lpose.frames')
    local list = lpose_frames.with_context(frames, context, n_frames)
    local ok, err2 = lpose_frames.extract(reader, list, opts.out, { width = width, prefix = prefix, on_write = print })
    if not ok then
        reader:close()
        return nil, 'extract-frames: ' .. err2
    end
    print(('extract-frames: wrote %d images (%d frames +-%d context) from %s (%d seeks)'):format(
        #list, #frames, context, opts.video, reader.n_seeks))
    reader:close()
    return true
end

return M
