-- lpose.cli.check_frames: `lpose check-frames CSV VIDEO`, do the labeled
-- images (and their context neighbours) equal the video frames their names
-- claim? (docs/reference/cli/check-frames.md). The work is
-- lpose.frames.compare; this file parses the options and prints.
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

    local labels, lerr = require('lpose.data').read_labels(opts.csv)
    if not labels then return nil, lerr end
    local images = {}
    for _, rel in ipairs(labels:image_paths()) do
        if not opts.match or rel:find(opts.match, 1, true) then images[#images + 1] = rel end
    end
    labels:free()
    if #images == 0 then return nil, 'check-frames: no images to check in ' .. opts.csv end
    local entries, cerr = require('lpose.frames').compare({ images = images, data_dir = data_dir, video = opts.video,
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
