-- bench_heads: where a TCN window's time goes beyond the single-frame model's
-- (a benchmark, not a test). On one window of backbone features it times, in
-- alternating rounds (LPOSE_BENCH_ROUNDS, default 7):
--   1. the TCN's heads (single-frame + multi-frame) vs the single-frame head,
--      both with the inference fast paths (model_deconv.c, model_crnn_recur.c)
--      and with LPOSE_HEADS_REFERENCE=1 (the libtorch path), and the fast
--      paths' speed-up on each;
--   2. one heatmap decode (the TCN decodes both heads' maps) and the backbone
--      on the window, so the heads' and the second decode's share is visible.
--
--   build/lpose run bench/bench_heads.lua [T=96] [SIZE=128] [K=17]
--
-- Random weights and random images (the default) give flat heatmaps, the
-- decoder's worst case (nothing to skip). With LPOSE_BENCH_MODEL=DIR, a trained
-- TCN's model directory (make demo writes one under outputs/), the window is
-- its first T frames of LPOSE_BENCH_VIDEO (default: the mirror-mouse clip) at
-- its input size, and the single-frame model is its own backbone and
-- single-frame head: the peaked maps users decode.
local ffi = require('ffi')
local lpose = require('lpose')
local models = require('lpose.models')
local no_grad = require('lpose.autograd').no_grad

local timing = dofile('bench/timing.lua')

pcall(ffi.cdef, 'int setenv(const char *, const char *, int); int unsetenv(const char *);')

local args = arg or {}
local T, SIZE, K = tonumber(args[1]) or 96, tonumber(args[2]) or 128, tonumber(args[3]) or 17
local ROUNDS = tonumber(os.getenv('LPOSE_BENCH_ROUNDS')) or 7
local DS = 2 -- the heatmaps' downsample factor (LP's default)

local function model(model_type)
    local names = {}
    for k = 1, K do names[k] = 'kp' .. k end
    return models.new({ model = { model_type = model_type, backbone = 'resnet18' },
        data = { num_keypoints = K, keypoint_names = names, image_resize_dims = { height = SIZE, width = SIZE } },
        training = { rng_seed_model_pt = 0 } }):eval()
end

local function reference(on)
    if on then ffi.C.setenv('LPOSE_HEADS_REFERENCE', '1', 1) else ffi.C.unsetenv('LPOSE_HEADS_REFERENCE') end
end

-- A trained TCN (directory), its single-frame half, and the video's first T frames at its size.
local function trained_window(dir)
    local tcn, sf = timing.trained_pair(dir)
    local conf = tcn:config()
    SIZE, K, DS = conf.image_height, conf.num_keypoints, conf.downsample_factor
    assert(conf.image_width == SIZE, 'bench_heads times square inputs')
    local path = os.getenv('LPOSE_BENCH_VIDEO') or '../shared/data/mirror-mouse-example/videos/test_vid.mp4'
    local reader = assert(require('lpose.video').open(path))
    local images = assert(reader:read(0, T, { height = SIZE, width = SIZE }))
    reader:close()
    print(('# trained model %s on the first %d frames of %s'):format(dir, T, path))
    return tcn, sf, images
end

no_grad(function()
    local trained = os.getenv('LPOSE_BENCH_MODEL')
    local tcn, sf, images
    if trained and trained ~= '' then
        tcn, sf, images = trained_window(trained)
    else
        tcn, sf, images = model('heatmap_mhcrnn'), model('heatmap'), lpose.tensor.randn({ T, 3, SIZE, SIZE })
    end
    local features = tcn:forward_backbone(images)
    local heatmaps = tcn:forward_heads(features)
    local function heads(m, ref) return function() reference(ref); m:forward_heads(features); reference(false) end end
    local r = timing.rounds({
        { 'tcn', heads(tcn, false) }, { 'sf', heads(sf, false) },
        { 'tcn_ref', heads(tcn, true) }, { 'sf_ref', heads(sf, true) },
        { 'decode', function() models.decode(heatmaps, DS) end },
        { 'backbone', function() tcn:forward_backbone(images) end },
    }, ROUNDS)
    local ms = function(name) return 1e3 * timing.median(r[name]) end
    print(('# window of %d frames %dx%d, K = %d, resnet18, %d threads, %d rounds (medians)')
        :format(T, SIZE, SIZE, K, lpose.get_num_threads(), ROUNDS))
    print(('1. heads, fast paths: TCN %.1f ms, single-frame %.1f ms (extra %.1f ms); reference path: '
        .. 'TCN %.1f ms, single-frame %.1f ms (extra %.1f ms)'):format(ms('tcn'), ms('sf'), ms('tcn') - ms('sf'),
        ms('tcn_ref'), ms('sf_ref'), ms('tcn_ref') - ms('sf_ref')))
    print(('   fast paths speed-up: TCN heads %s, single-frame head %s'):format(
        timing.ratio_text(r.tcn_ref, r.tcn), timing.ratio_text(r.sf_ref, r.sf)))
    print(('2. one decode of %d x %d maps %.1f ms, backbone %.1f ms: the TCN\'s extra work (multi-frame '
        .. 'head + second decode) is %.1f %% of a single-frame window'):format(T - 4, K, ms('decode'),
        ms('backbone'), 100 * (ms('tcn') - ms('sf') + ms('decode')) / (ms('backbone') + ms('sf') + ms('decode'))))
end)
