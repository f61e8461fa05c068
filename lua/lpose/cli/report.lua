-- lpose.cli.report: `lpose report MODEL_DIR... [--video V]... --output FILE`,
-- the model-comparison page (docs/reference/cli/report.md). The work is in
-- lpose.diagnostics; this file parses the arguments and prints the result.
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Write an HTML report that compares trained models (opens offline, one file).

usage: lpose report MODEL_DIR [MODEL_DIR ...] [--video VIDEO_OR_CSV ...]
                    --output report.html [--gallery N] [--points N]

Each MODEL_DIR is a training run's output (config.yaml, metrics.csv and,
after training, predictions.csv, predictions_pixel_error.csv, video_preds/).
The page shows every logged loss, labeled-frame pixel error per keypoint and
split, per-video traces (x, y, likelihood, temporal norm, error against the
synthetic ground truth with occluded frames shaded) and where the models
disagree most, a gallery of the worst held-out labeled frames, and the config
keys whose values differ.

  --video V      a video (each model's video_preds/<stem>.csv is drawn; a
                 model without one is named on the page and on stderr) or a
                 prediction CSV (drawn beside the models' own CSVs of that
                 stem); repeatable; default: every video in the models'
                 video_preds/
  --output FILE  the page to write (required; written to a temporary file,
                 then renamed)
  --gallery N    labeled frames in the gallery (default 12)
  --points N     at most N points drawn per trace (default 3000; tables and
                 rankings always use every frame)]]

function M.parse(args)
    local opts, dirs = cli_args.parse(args, { video = 'list', output = 'value', gallery = 'value', points = 'value' })
    if not opts then return nil, dirs end
    if opts.help then return opts end
    local o = { dirs = dirs, videos = opts.video, output = opts.output }
    for _, name in ipairs({ 'gallery', 'points' }) do
        local n, err = cli_args.int(opts, name, nil, name == 'points' and 100 or 0)
        if err then return nil, err end
        o[name] = n
    end
    return o
end

function M.command(args)
    local o, err = M.parse(args)
    if not o then return cli_args.usage_error('report', err) end
    if o.help then print(M.help) return true end
    if #o.dirs == 0 then return nil, "report: missing MODEL_DIR (see 'lpose help report')" end
    if not o.output then return nil, "report: missing --output FILE (see 'lpose help report')" end
    local info, rerr = require('lpose.diagnostics').write(o.output, o.dirs, {
        videos = o.videos, gallery = o.gallery, buckets = o.points and math.floor(o.points / 2) })
    if not info then return nil, 'report: ' .. rerr end
    for _, w in ipairs(info.warnings) do io.stderr:write('lpose: warning: ', w, '\n') end
    for _, v in ipairs(info.videos) do
        print(('video %s: %d frames, %d points drawn per trace'):format(v.name, v.n_frames, v.n_drawn))
    end
    print(('report: %s (%.1f KiB)'):format(info.path, info.bytes / 1024))
    return true
end

return M
