-- lpose.cli.synth: `lpose synth OUT_DIR [options]`, a synthetic Lightning
-- Pose project (docs/reference/cli/synth.md, docs/guides/synthetic-data.md).
local cli_args = require('lpose.cli.args')

local M = {}

M.help = [[
Write a synthetic Lightning Pose project (videos, labels, context frames).

usage: lpose synth OUT_DIR [--videos N] [--test-videos N] [--frames N]
                   [--keypoints K] [--size WxH] [--fps F]
                   [--labeled-per-video N] [--context N] [--index-width N]
                   [--occluder-rate R] [--noise S] [--seed S] [--cache]

An articulated "animal" (a chain of K keypoints: nose, head, neck, back,
tail_base, tail_tip for K = 6) moves smoothly over a textured, drifting
background with pixel noise; textured blobs occlude it for 3-8 frames now
and then. The same options and seed give the same bytes.

  --videos N             videos (default 4)
  --test-videos N        held-out videos without labels, the last ones (default 1)
  --frames N             frames per video (default 300)
  --keypoints K          keypoints per animal, 2..16 (default 6)
  --size WxH             frame size, even (default 128x128)
  --fps F                frame rate (default 30)
  --labeled-per-video N  labeled frames per labeled video (default 20)
  --context N            context frames written each side (default 2)
  --index-width N        digits in imgNNNN.png (default 4)
  --occluder-rate R      occluder events per 100 frames (default 2.5; 0: none)
  --noise S              pixel noise std in grey levels (default 4)
  --seed S               seed (default 0)
  --cache                OUT_DIR is a cache root: use OUT_DIR/synth-<hash>,
                         generating it only if it is not there yet

Writes OUT_DIR/videos/*.mp4, labeled-data/<video>/img*.png,
CollectedData.csv, videos_gt/<video>.csv (+ _occluded.csv), metadata.json
and README.txt, then prints a summary.]]

local int_opts = {
    videos = 'n_videos', ['test-videos'] = 'n_test_videos', frames = 'n_frames',
    keypoints = 'n_keypoints', ['labeled-per-video'] = 'n_labeled_per_video',
    context = 'context', ['index-width'] = 'index_width',
}
local num_opts = { fps = 'fps', ['occluder-rate'] = 'occluder_rate', noise = 'noise_sigma' }

-- args -> out_dir, opts, cache | nil, err
function M.parse(args)
    local spec = { size = 'value', seed = 'value', cache = 'flag' }
    for k in pairs(int_opts) do spec[k] = 'value' end
    for k in pairs(num_opts) do spec[k] = 'value' end
    local o, err = cli_args.parse(args, spec, { 'out_dir' })
    if not o then return nil, err end
    if o.help then return 'help' end
    local opts = {}
    for k, field in pairs(int_opts) do
        if o[k] then
            local v = tonumber(o[k])
            if not v or v % 1 ~= 0 then return nil, ('--%s must be an integer, got %s'):format(k, o[k]) end
            opts[field] = v
        end
    end
    for k, field in pairs(num_opts) do
        if o[k] then
            local v = tonumber(o[k])
            if not v then return nil, ('--%s must be a number, got %s'):format(k, o[k]) end
            opts[field] = v
        end
    end
    if o.size then
        local w, h = o.size:match('^(%d+)[xX](%d+)$')
        if not w then return nil, '--size must be WxH, e.g. 128x128, got ' .. o.size end
        opts.width, opts.height = tonumber(w), tonumber(h)
    end
    if o.seed then
        opts.seed = require('lpose.synth').parse_seed(o.seed)
        if opts.seed == nil then return nil, '--seed must be a non-negative integer, got ' .. o.seed end
    end
    return o.out_dir, opts, o.cache
end

function M.command(args)
    local out_dir, opts, cache = M.parse(args)
    if out_dir == 'help' then print(M.help) return true end
    if not out_dir then return cli_args.usage_error('synth', opts) end
    local synth = require('lpose.synth')
    local t0 = os.clock()
    local wall0 = os.time()
    local ok, s, err = pcall(function()
        if cache then return synth.ensure(out_dir, opts) end
        return synth.generate(out_dir, opts)
    end)
    if not ok then return nil, 'synth: ' .. tostring(s):gsub('^[^:]*:%d+: ', '') end
    if not s then return nil, 'synth: ' .. tostring(err) end
    local n_lab, n_test = #s.labeled_videos, #s.test_videos
    print(('synth: %s %s (%s)'):format(s.cached and 'reusing the cached' or 'wrote', s.out_dir, s.video_codec))
    print(('  %d videos x %d frames, %dx%d, %g fps: %d labeled (%s), %d held out for testing (%s)'):format(
        #s.videos, s.params.n_frames, s.params.width, s.params.height, s.params.fps, n_lab,
        table.concat(s.labeled_videos, ', '), n_test, table.concat(s.test_videos, ', ')))
    print(('  %s: %d labeled frames, keypoints %s'):format(s.labels_csv, s.n_labeled_frames,
        table.concat(s.keypoints, ', ')))
    local seed = opts.seed and tostring(opts.seed):gsub('ULL$', '') or '0'
    print(('  seed %s; %.1f s CPU, ~%d s wall'):format(seed, os.clock() - t0,
        os.time() - wall0))
    return true
end

return M
