-- lpose.cli.report: `lpose report MODEL_DIR... [--video V]... --output FILE`,
-- the model-comparison page (docs/reference/cli/report.md). The work is in
-- lpose.diagnostics; this file parses the arguments and prints the result.
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
    local o = { dirs = {}, videos = {} }
    local i = 1
    while i <= #args do
        local a = args[i]
        local name, val = a:match('^%-%-([%w-]+)=(.*)$')
        name = name or a:match('^%-%-([%w-]+)$')
        if a == '-h' or name == 'help' then return { help = true } end
        if name then
            if name ~= 'video' and name ~= 'output' and name ~= 'gallery' and name ~= 'points' then
                return nil, "unknown option '" .. a .. "'"
            end
            if val == nil then
                i = i + 1
                val = args[i]
                if val == nil then return nil, '--' .. name .. ' needs a value' end
            end
            if name == 'video' then
                o.videos[#o.videos + 1] = val
            elseif name == 'output' then
                o.output = val
            else
                local n = tonumber(val)
                if not n or n % 1 ~= 0 or n < (name == 'points' and 100 or 0) then
                    return nil, ('--%s must be an integer%s, got %s'):format(name,
                        name == 'points' and ' >= 100' or ' >= 0', val)
                end
                o[name] = n
            end
        else
            o.dirs[#o.dirs + 1] = a
        end
        i = i + 1
    end
    return o
end

function M.command(args)
    local o, err = M.parse(args)
    if not o then return nil, 'report: ' .. err .. " (see 'lpose help report')" end
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
