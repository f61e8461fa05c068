-- lpose.cli.eks: `lpose eks CSV [CSV ...] --output OUT.csv`, the Ensemble
-- Kalman Smoother over several models' prediction CSVs of one video
-- (docs/reference/cli/eks.md); the work is lpose.eks.smooth.
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Fuse several models' predictions of one video with the Ensemble Kalman Smoother.

usage: lpose eks CSV [CSV ...] --output OUT.csv [--smooth S|auto]
                 [--keypoints NAMES] [--mean] [--variance KIND]
                 [--fit-noise KIND]

Each CSV is a predictions CSV of the same video (lpose's, Lightning Pose's
or DeepLabCut's single-animal layout: header rows scorer/bodyparts/coords,
an index column, x, y, likelihood per keypoint), one per ensemble member.
Per keypoint and frame the observation is the members' median and its
variance their variance divided by their mean likelihood; a Kalman filter
and smoother over frames (a random walk whose step variance is the
smoothing parameter s: smaller is smoother) give the output. OUT.csv has,
per keypoint, eks's columns: x, y, likelihood, x_ens_median, y_ens_median,
x_ens_var, y_ens_var, x_posterior_var, y_posterior_var.

  --output OUT.csv    the output CSV (written atomically; required)
  --smooth S|auto     s for every keypoint, or 'auto' (default): fit s per
                      keypoint by maximum marginal likelihood
  --keypoints NAMES   comma-separated keypoints to smooth (default: all)
  --mean              ensemble mean instead of the median
  --variance KIND     'confidence_weighted' (default) or 'plain'
  --fit-noise KIND    observation variance of the fit of s: 'median'
                      (default, as eks: the median over frames) or 'frame'

One CSV is accepted with a warning (no ensemble: the variance is 1 /
likelihood, as in eks). Prints s per keypoint.]]

-- args -> opts | 'help' | nil, err
function M.parse(args)
    local o, files = cli_args.parse(args, { output = 'value', smooth = 'value', keypoints = 'value',
        variance = 'value', ['fit-noise'] = 'value', mean = 'flag' })
    if not o then return nil, files end
    if o.help then return 'help' end
    o.files = files
    if #o.files == 0 then return nil, 'expected at least one predictions CSV' end
    if not o.output then return nil, '--output OUT.csv is required' end
    local opts = {
        output = o.output, keypoints = o.keypoints, average = o.mean and 'mean' or 'median',
        variance = o.variance or 'confidence_weighted', fit_noise = o['fit-noise'] or 'median',
    }
    if o.variance == 'confidence' then opts.variance = 'confidence_weighted' end
    if opts.variance ~= 'confidence_weighted' and opts.variance ~= 'plain' then
        return nil, "--variance must be 'confidence_weighted' or 'plain', got " .. o.variance
    end
    if opts.fit_noise ~= 'median' and opts.fit_noise ~= 'frame' then
        return nil, "--fit-noise must be 'median' or 'frame', got " .. opts.fit_noise
    end
    if o.smooth == nil or o.smooth == 'auto' then
        opts.smooth = 'auto'
    else
        local s = tonumber(o.smooth)
        if not s or s ~= s or s <= 0 or s == math.huge then
            return nil, "--smooth must be 'auto' or a number > 0, got " .. o.smooth
        end
        opts.smooth = s
    end
    return o.files, opts
end

function M.command(args)
    local files, opts = M.parse(args)
    if files == 'help' then print(M.help) return true end
    if not files then return cli_args.usage_error('eks', opts) end
    opts.on_warning = function(msg) io.stderr:write('lpose eks: warning: ', msg, '\n') end
    local t0 = os.clock()
    local res, err = require('lpose.eks').smooth(files, opts)
    if not res then return nil, 'eks: ' .. err end
    print(('eks: %d members x %d frames x %d keypoints -> %s (%.2f s CPU)'):format(res.n_models, res.n_frames,
        #res.names, res.csv, os.clock() - t0))
    local how = opts.smooth == 'auto' and 'fitted' or 'given'
    for k, name in ipairs(res.names) do
        local s = res.smooth[k]
        print(('  %-24s s = %.6g (%s)'):format(name, s, s == s and how or 'no data'))
    end
    return true
end

return M
