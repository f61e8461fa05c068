-- bench/bench_models.lua: forward (eval) and forward+backward of the resnet18
-- and resnet50 TCN trackers (heatmap_mhcrnn, K = 17, labeled batch of 8 x 5
-- frames at 128x128) in lpose against the same architecture in PyTorch eager
-- (bench/ref_models.py under /usr/bin/python3, Debian's python3-torch), and
-- LP's decoding of a 92-frame window's heatmaps against the same math in
-- torch. lpose's eval forward runs three times: as shipped (batch norm folded,
-- channels-last), with folding off, to show what the folding buys, and with
-- the backbone in int8 (lpose predict --precision int8; torch stays f32 eager,
-- so that row is int8 against f32).
--
-- Noise: the torch reference is a child process serving one pass per request,
-- so every round runs each variant once in turn (lpose, torch, lpose
-- unfolded, ...) and the ratios are medians over rounds with their min-max.
-- Also prints the backbone's achieved GFLOP/s (counted from the layer shapes)
-- next to the machine's f32 GEMM GFLOP/s through libtorch, in the same run.
-- A benchmark, not a test.
--
--   build/lpose run bench/bench_models.lua [rounds=5] [threads=2]
--
-- The GEMM line names OpenBLAS's kernel set. Debian's OpenBLAS 0.3.21 falls
-- back to its Prescott (SSE3) kernels on CPUs it does not recognise; then the
-- GEMM is measured again in a child with OPENBLAS_CORETYPE set for the CPU's
-- vector width (SkylakeX for AVX-512, Haswell for AVX2), which is the rate the
-- hardware allows. The child mode is `... bench_models.lua --gemm ROUNDS THREADS`.
local ffi = require('ffi')
local lpose = require('lpose')
local models = require('lpose.models')

local timing = dofile('bench/timing.lua')
local flops = dofile('bench/flops.lua')

local args = arg or {}
local gemm_only = args[1] == '--gemm'
if gemm_only then table.remove(args, 1) end
local rounds = tonumber(args[1] or 5)
local threads = tonumber(args[2] or 2)
local batch, size = 8, 128
lpose.set_num_threads(threads)

-- The torch reference as a server: requests go through a FIFO, answers come
-- back on its stdout. nil when /usr/bin/python3 has no torch.
local function torch_server(backbone)
    local fifo = os.tmpname()
    os.remove(fifo)
    if os.execute('mkfifo ' .. fifo) ~= 0 then return nil end
    local cmd = ('MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3 bench/ref_models.py '
        .. '%s %d %d %d < %s 2>/dev/null'):format(backbone, batch, size, threads, fifo)
    local out = io.popen(cmd)
    local req = io.open(fifo, 'w') -- blocks until python opened its end
    os.remove(fifo)
    if out:read('*l') ~= 'ready' then
        req:close()
        out:close()
        return nil
    end
    local server = {}
    function server.run(name)
        req:write(name, '\n')
        req:flush()
        local line = out:read('*l') or ''
        assert(line:match('^' .. name .. ' '), 'torch reference failed: ' .. line)
    end
    function server.close() req:close() out:close() end
    return server
end

local function lpose_passes(backbone)
    local model = models.new({
        model = { model_type = 'heatmap_mhcrnn', backbone = backbone },
        data = { num_keypoints = 17, image_resize_dims = { height = size, width = size } },
    })
    local x = lpose.randn(batch, 5, 3, size, size)
    local target = lpose.rand(batch, 17, size / 4, size / 4)
    local params = model:parameters()
    local hm = lpose.rand(92, 17, size / 4, size / 4)
    local p = {}
    function p.forward(fold)
        model:eval():set_fold_batch_norm(fold)
        local sf, mf = lpose.no_grad(function() return model:forward(x) end)
        sf:free(); mf:free()
    end
    -- the same weights (same seed) with the backbone in int8, calibrated on this batch
    local model8 = models.new({
        model = { model_type = 'heatmap_mhcrnn', backbone = backbone },
        data = { num_keypoints = 17, image_resize_dims = { height = size, width = size } },
    }):eval()
    lpose.no_grad(function() model8:quantize_int8(x:reshape({ batch * 5, 3, size, size })) end)
    function p.forward_int8()
        local sf, mf = lpose.no_grad(function() return model8:forward(x) end)
        sf:free(); mf:free()
    end
    function p.forward_backward()
        model:train()
        local sf, mf = model:forward(x)
        local loss = (sf * target):sum() + (mf * target):sum()
        loss:backward()
        for _, t in ipairs(params) do t:zero_grad() end
        loss:free(); sf:free(); mf:free()
    end
    function p.decode()
        local kp, conf = models.decode(hm, 2)
        kp:free(); conf:free()
    end
    return p
end

-- f32 GEMM through libtorch (matmul: OpenBLAS in Debian's build), a reference
-- for the machine's practical rate. The convolutions run on oneDNN's own
-- kernels, so the backbone can go faster than this GEMM.
local function gemm_gflops()
    local n = 2048
    local a, b = lpose.randn(n, n), lpose.randn(n, n)
    local times = timing.rounds({ { 'gemm', function() a:matmul(b):free() end } }, rounds)
    local med, lo, hi = timing.spread(times.gemm)
    return 2 * n ^ 3 / med / 1e9, 2 * n ^ 3 / hi / 1e9, 2 * n ^ 3 / lo / 1e9
end

if gemm_only then
    print(('%.1f %.1f %.1f'):format(gemm_gflops()))
    return
end

-- OpenBLAS's kernel set ('?' when the BLAS is not OpenBLAS).
local function openblas_core()
    pcall(ffi.cdef, 'char *openblas_get_corename(void);')
    local ok, name = pcall(function() return ffi.string(ffi.C.openblas_get_corename()) end)
    return ok and name or '?'
end

-- The OPENBLAS_CORETYPE this CPU's vector width calls for, from /proc/cpuinfo.
local function best_coretype()
    local f = io.open('/proc/cpuinfo')
    local info = f and f:read('*a') or ''
    if f then f:close() end
    local flags = ' ' .. (info:match('\nflags%s*:%s*([^\n]*)') or '') .. ' '
    if flags:find(' avx512f ', 1, true) then return 'SkylakeX' end
    if flags:find(' avx2 ', 1, true) then return 'Haswell' end
    return nil
end

print(('TCN trackers, batch %d x 5 frames at %dx%d, K=17, %d threads, %d rounds alternating lpose and torch')
    :format(batch, size, size, threads, rounds))
print(('%-9s %-24s %10s %10s  %s'):format('backbone', 'pass', 'lpose s', 'torch s', 'torch/lpose median (min-max)'))
local frames = batch * 5
for _, backbone in ipairs({ 'resnet18', 'resnet50' }) do
    local p = lpose_passes(backbone)
    local torch = torch_server(backbone)
    local function t(name) return torch and function() torch.run(name) end or function() end end
    local times = timing.rounds({
        { 'forward', function() p.forward(true) end },
        { 'torch forward', t('forward') },
        { 'forward unfolded', function() p.forward(false) end },
        { 'forward int8', p.forward_int8 },
        { 'forward_backward', p.forward_backward },
        { 'torch forward_backward', t('forward_backward') },
        { 'decode', p.decode },
        { 'torch decode', t('decode') },
    }, rounds)
    if torch then torch.close() end
    local function row(label, name, ref)
        local l = timing.median(times[name])
        local r = torch and timing.median(times[ref]) or nil
        print(('%-9s %-24s %10.3f %10s  %s'):format(backbone, label, l, r and ('%.3f'):format(r) or 'n/a',
            torch and timing.ratio_text(times[ref], times[name]) or 'n/a (no torch in /usr/bin/python3)'))
    end
    row('forward (eval)', 'forward', 'torch forward')
    row('forward (eval, unfolded)', 'forward unfolded', 'torch forward')
    row('forward (eval, int8)', 'forward int8', 'torch forward') -- torch stays f32: int8 vs f32
    row('forward+backward', 'forward_backward', 'torch forward_backward')
    if backbone == 'resnet18' then row('decode 92x17', 'decode', 'torch decode') end
    print(('%-9s folding: unfolded/folded %s'):format(backbone,
        timing.ratio_text(times['forward unfolded'], times.forward)))
    local gflop = flops.backbone(backbone, size, size) / 1e9
    print(('%-9s backbone %.2f GFLOP per frame; eval forward %.1f GFLOP/s (whole model, backbone FLOPs only)')
        :format(backbone, gflop, gflop * frames / timing.median(times.forward)))
end
local g, glo, ghi = gemm_gflops()
local core = openblas_core()
print(('f32 GEMM 2048x2048 through libtorch matmul (OpenBLAS, %s kernels): %.1f GFLOP/s (min-max %.1f-%.1f), '
    .. '%d threads'):format(core, g, glo, ghi, threads))
local coretype = best_coretype()
if core == 'Prescott' and coretype and not os.getenv('OPENBLAS_CORETYPE') then
    local p = io.popen(('OPENBLAS_CORETYPE=%s %q run bench/bench_models.lua --gemm %d %d'):format(coretype,
        (os.getenv('LPOSE_BUILD') or 'build') .. '/lpose', rounds, threads))
    local cg, clo, chi = p:read('*a'):match('([%d.]+) ([%d.]+) ([%d.]+)')
    p:close()
    if cg then
        print(('  OpenBLAS did not recognise this CPU (Prescott is its fallback); with OPENBLAS_CORETYPE=%s: '
            .. '%s GFLOP/s (min-max %s-%s), the hardware\'s rate'):format(coretype, cg, clo, chi))
    end
end
