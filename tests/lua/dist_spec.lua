-- Specs for lpose.dist, the loader's sharding and data-parallel training
-- with real processes over Gloo on loopback: a step of 2 processes moves
-- the weights as 1 process on the combined batch does (synchronised or
-- frozen batch norm); a killed or hung worker makes the other exit
-- non-zero; rank 0 alone writes the model directory.
local lpose = require('lpose')
local dist = require('lpose.dist')
local S = dofile('tests/lua/support.lua')

local exe, q = S.exe(), S.q
local SCRIPT = 'tests/lua/scripts/dist_train.lua'

-- Run a shell command; returns exit status and combined output.
local function sh(cmd)
    local p = io.popen(cmd .. ' 2>&1; echo "::status=$?"')
    local out = p:read('*a')
    p:close()
    local status = tonumber(out:match('::status=(%d+)%s*$'))
    return status, out
end

-- The parity runs take ONE step of plain SGD (issue 11). The 1- and
-- 2-process runs compute the same gradient with its sums grouped
-- differently (per-rank partial sums, an all-reduce, batch-norm statistics
-- from per-rank sums), so they differ by f32 rounding only, and SGD moves
-- each weight by lr x its gradient, so the weights differ by that rounding
-- too. Adam does not keep it small (m / sqrt(v) is ~ +-1 whatever the
-- gradient's size: rounding noise on a near-zero gradient becomes a whole
-- lr step), nor do several steps (this net's gradients are tiny against its
-- curvature: at SGD lr 10 a 1-ulp difference grew 15-45x a step; 4 Adam steps
-- at lr 1e-3 differed by 1.4e-4 with AVX-512 kernels, 1.5e-3 with AVX2 and
-- 3.4e-3 with SSE4.1). lr 1000 makes the largest update (0.04) dwarf the
-- weights' own rounding (1 ulp of |w| < 2 is 1.2e-7: 3e-6 of it).
local SGD = 'LPOSE_TEST_SGD=1'
local ONE_STEP = table.concat({ 'training.max_epochs=1', 'training.min_epochs=1', 'training.limit_train_batches=1',
    q('training.lr_scheduler_params.multisteplr.milestones=[1]'), 'training.optimizer_params.learning_rate=1000' }, ' ')

-- Bounds for step_diff's two numbers, from the arithmetic (measured on one
-- Intel CPU with each kernel set forced: DNNL_MAX_CPU_ISA=AVX512_CORE, AVX2,
-- SSE41 with OPENBLAS_CORETYPE and ATEN_CPU_CAPABILITY to match):
-- * weights, as a fraction of the largest update: batch norm's backward
--   subtracts nearly equal terms, so f32 rounding in this net's gradient
--   reaches 1e-3 of it: the same 1-process step with AVX-512 and with AVX2
--   kernels differs by 1.0e-3 (backbone.conv1.weight); 2 processes vs 1 by
--   3e-6 (AVX-512) and 1.8e-4 (AVX2, SSE4.1). 1e-2 is 10x the spread
--   between kernels; a wrong algorithm gives ~1 (gradients summed instead
--   of averaged 1.0, not averaged at all 0.97, batch norm not synchronised
--   1.04, synchronised forward but local backward sums 0.51, half the batch
--   in 1 process 1.3).
-- * running statistics, as a fraction of each tensor's largest value:
--   forward sums only, no cancellation: <= 6e-7 between processes and
--   between kernels; 1e-4 is 150x that; unsynchronised batch norm gives
--   0.18, an unbiased variance with one rank's count n / (n - 1) 1.9e-3.
local UPDATE_RTOL, STATS_RTOL = 1e-2, 1e-4

-- Checkpoints a and b, each one step from init (init.lpt, LPOSE_TEST_SGD):
-- max |a - b| over the f32 parameters as a fraction of the largest update
-- max |a - init|, and the largest max |a - b| / max |a| over the batch-norm
-- running statistics.
local function step_diff(init_path, path_a, path_b)
    local init, a, b = assert(lpose.load(init_path)), assert(lpose.load(path_a)), assert(lpose.load(path_b))
    local diff, update, stats, n = 0, 0, 0, 0
    for name, t in pairs(a) do
        local key = name:match('^model%.(.*)$')
        if key and t:dtype() == 'f32' then
            local d = (t - b[name]):abs():max():item()
            if key:find('running_', 1, true) then
                local scale = t:abs():max():item()
                stats = math.max(stats, scale > 0 and d / scale or d)
            else
                diff = math.max(diff, d)
                update = math.max(update, (t - init[key]):abs():max():item())
            end
            n = n + 1
        end
    end
    assert.is_true(n > 100, 'expected the TCN model tensors in ' .. path_a)
    assert.is_true(update > 1e-3, 'the step moved no weight: ' .. update)
    return diff / update, stats
end

local function losses(model_dir)
    local out = {}
    for line in io.lines(model_dir .. '/metrics.csv') do
        local step, v = line:match('^(%d+),%d+,train,train_supervised_loss,(.+)$')
        if step then out[#out + 1] = tonumber(v) end
    end
    return out
end

describe('lpose.dist without a group', function()
    it('acts as a world of one', function()
        assert.is_false(dist.is_initialized())
        assert.equal(0, dist.rank())
        assert.equal(1, dist.world_size())
        assert.is_true(dist.is_main())
        local t = lpose.tensor({ 1, 2 })
        dist.all_reduce(t, 'avg')
        dist.broadcast({ t }, 0)
        dist.barrier()
        assert.same({ 1, 2 }, t:totable())
        assert.has_error(function() dist.all_reduce(t, 'median') end,
            "lpose.dist.all_reduce: op must be 'sum', 'avg', 'max' or 'min', got 'median'")
    end)

    it('finds the first host of a Slurm node list', function()
        assert.equal('gpu07', dist.first_host('gpu[07-09,12],cpu1'))
        assert.equal('node3', dist.first_host('node3,node4'))
        assert.equal('a1', dist.first_host('a[1,3]'))
        assert.equal('solo', dist.first_host('solo'))
    end)

    it('reads torchrun and Slurm variables', function()
        local code = 'local e = lpose.dist.env() '
            .. 'print(e.rank, e.world_size, e.local_rank, e.master_addr, e.master_port)'
        local _, out = sh(('RANK=3 WORLD_SIZE=8 LOCAL_RANK=1 MASTER_ADDR=h0 MASTER_PORT=1234 %s -e %s'):format(exe,
            q(code)))
        assert.equal('3\t8\t1\th0\t1234', out:match('^[^\n]*'))
        _, out = sh(('env -u RANK -u WORLD_SIZE -u MASTER_ADDR SLURM_PROCID=5 SLURM_NTASKS=8 SLURM_LOCALID=1 '
            .. "SLURM_JOB_NODELIST='gpu[07-09]' MASTER_PORT=29500 %s -e %s"):format(exe, q(code)))
        assert.equal('5\t8\t1\tgpu07\t29500', out:match('^[^\n]*'))
        local status
        status, out = sh(('RANK=x WORLD_SIZE=2 %s -e %s'):format(exe, q(code)))
        assert.equal(1, status)
        assert.truthy(out:find('environment variable RANK=x is not an integer', 1, true))
    end)
end)

describe('data-parallel training', function()
    local dir, project
    setup(function()
        dir = S.mktemp('dist')
        project = dir .. '/project'
        assert(lpose.synth.generate(project, { n_videos = 3, n_test_videos = 1, n_frames = 40, width = 64,
            height = 64, n_labeled_per_video = 8, seed = 5 }))
    end)
    teardown(function() os.execute('rm -rf ' .. q(dir)) end)

    it('shards each batch so the ranks together load one batch of the combined size', function()
        local ds = assert(lpose.dataset.open({ data_dir = project, csv_file = 'CollectedData.csv', height = 64,
            width = 64, context = false, imgaug = 'dlc' }))
        local rows = {}
        for i = 1, 13 do rows[i] = i - 1 end -- batches of 8 and 5: the short one splits 3 + 2
        local function loader(batch, shard)
            return ds:loader({ indices = rows, batch_size = batch, seed = 3, workers = 1, shard = shard })
        end
        local whole = loader(8)
        local parts = { loader(4, { index = 0, count = 2 }), loader(4, { index = 1, count = 2 }) }
        assert.equal(2, #whole)
        assert.equal(2, #parts[1])
        for b = 1, 2 do
            local w = whole:next()
            local p0, p1 = parts[1]:next(), parts[2]:next()
            local joined = lpose.cat({ p0.indices, p1.indices }, 1)
            assert.same(w.indices:totable(), joined:totable())
            -- the same augmentation draws as the unsharded loader
            local imgs = lpose.cat({ p0.images, p1.images }, 1)
            assert.equal(0, (imgs - w.images):abs():max():item())
            if b == 2 then assert.same({ 3, 2 }, { p0.indices:size(1), p1.indices:size(1) }) end
        end
    end)

    -- One SGD step (ONE_STEP) of 1 process on the batch of 8 vs 2 processes on
    -- 4 each; `extra` overrides both. Returns step_diff's numbers and the run
    -- directories.
    local function parity(name, extra)
        local one, two = dir .. '/' .. name .. '_one', dir .. '/' .. name .. '_two'
        local status, out = sh(('%s %s run %s %s %s %s %s'):format(SGD, exe, SCRIPT, q(project), q(one), ONE_STEP,
            extra))
        assert.equal(0, status, out)
        status, out = sh(('%s %s run --nproc 2 %s %s %s %s %s'):format(SGD, exe, SCRIPT, q(project), q(two), ONE_STEP,
            extra))
        assert.equal(0, status, out)
        assert.truthy(out:find('rank 1 of 2: 1 steps done', 1, true), out)
        local params, stats = step_diff(one .. '/init.lpt', one .. '/checkpoints/last.lpt',
            two .. '/checkpoints/last.lpt')
        print(('# %s: one SGD step of 2 processes vs 1 on the combined batch: weights differ by %.2g of the largest '
            .. 'update (bound %g), running statistics by %.2g (bound %g)'):format(name, params, UPDATE_RTOL, stats,
            STATS_RTOL))
        -- the logged loss is the mean over the ranks: the combined batch's (a forward
        -- pass on equal weights: differences of f32 sums, ~1e-7 here with every kernel set)
        local l1, l2 = losses(one), losses(two)
        assert.equal(1, #l1)
        assert.equal(1, #l2)
        assert.is_true(math.abs(l1[1] - l2[1]) <= 1e-5 * l1[1], l1[1] .. ' vs ' .. l2[1])
        return params, stats, one, two
    end

    it('2 processes with synchronised batch norm train as 1 process on the combined batch', function()
        local params, stats, one = parity('sync', '')
        assert.is_true(params < UPDATE_RTOL, ('weights differ by %.3g of the largest update'):format(params))
        assert.is_true(stats < STATS_RTOL, ('running statistics differ by %.3g'):format(stats))
        -- the check can tell: half the batch in one process lands far beyond the bounds
        local status, out = sh(('%s %s run %s %s %s %s training.train_batch_size=4'):format(SGD, exe, SCRIPT,
            q(project), q(dir .. '/half'), ONE_STEP))
        assert.equal(0, status, out)
        local half_params, half_stats = step_diff(one .. '/init.lpt', one .. '/checkpoints/last.lpt',
            dir .. '/half/checkpoints/last.lpt')
        assert.is_true(half_params > 10 * UPDATE_RTOL and half_stats > 10 * STATS_RTOL,
            ('half batch: weights %.3g, statistics %.3g'):format(half_params, half_stats))
    end)

    it('2 processes with frozen batch norm train as 1 process on the combined batch', function()
        local params, stats = parity('frozen', 'training.freeze_batchnorm=true')
        assert.is_true(params < UPDATE_RTOL, ('weights differ by %.3g of the largest update'):format(params))
        assert.equal(0, stats) -- frozen statistics stay rank 0's initial ones, bit for bit
    end)

    it('without synchronised batch norm each process normalises its own half', function()
        local status, out = sh(('%s %s run --nproc 2 %s %s %s %s training.sync_batchnorm=false'):format(SGD, exe,
            SCRIPT, q(project), q(dir .. '/nosync'), ONE_STEP))
        assert.equal(0, status, out)
        local params, stats = step_diff(dir .. '/sync_one/init.lpt', dir .. '/sync_one/checkpoints/last.lpt',
            dir .. '/nosync/checkpoints/last.lpt')
        assert.is_true(params > 10 * UPDATE_RTOL and stats > 10 * STATS_RTOL,
            ('weights %.3g, statistics %.3g'):format(params, stats))
    end)

    it('writes the model directory once, from rank 0', function()
        local files = S.slurp(dir .. '/sync_two/metrics.csv')
        local _, rows = files:gsub('\n', '')
        local _, rows_one = S.slurp(dir .. '/sync_one/metrics.csv'):gsub('\n', '')
        assert.equal(rows_one, rows) -- no rows from rank 1
        for _, f in ipairs({ 'checkpoints/last.lpt', 'checkpoints/best.lpt', 'config.yaml', 'train_status.json' }) do
            assert.truthy(S.slurp(dir .. '/sync_two/' .. f), f)
        end
        local p = io.popen('ls -A ' .. q(dir .. '/sync_two/checkpoints'))
        local listing = p:read('*a')
        p:close()
        assert.equal('best.lpt\nlast.lpt\n', listing) -- no temporary or per-rank files
    end)

    -- Two ranks started by hand (as torchrun would), rank 1 killed or stopped at step 2.
    local function two_ranks(name, extra_env)
        local port = 20000 + math.random(0, 9999)
        local base = ('%s WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=%d'):format(extra_env, port)
        local cmd1 = ('%s RANK=1 %s run %s %s %s 2 >/dev/null 2>&1'):format(base, exe, SCRIPT, q(project),
            q(dir .. '/' .. name))
        local p1 = io.popen(cmd1 .. ' & echo $!')
        local pid1 = p1:read('*l')
        p1:close()
        local status, out = sh(('%s RANK=0 %s run %s %s %s 2'):format(base, exe, SCRIPT, q(project),
            q(dir .. '/' .. name)))
        os.execute('kill -KILL ' .. pid1 .. ' 2>/dev/null')
        return status, out
    end

    it('a killed worker makes the other exit non-zero, naming the failure', function()
        local status, out = two_ranks('killed', '')
        assert.equal(1, status, out)
        assert.truthy(out:find('rank 0 of 2: communication with the other ranks failed', 1, true), out)
    end)

    it('a hung worker makes the other exit non-zero after the timeout', function()
        -- the message is the timeout's own (no assertion on time: a slow machine is no failure)
        local status, out = two_ranks('hung', 'LPOSE_TEST_STOP=1 LPOSE_DIST_TIMEOUT=4')
        assert.equal(1, status, out)
        assert.truthy(out:find('stuck for longer than the 4 s timeout', 1, true), out)
    end)

    it('lpose run --nproc stops the job when a rank dies and returns its status', function()
        local status, out = sh(('%s run --nproc 2 %s %s %s 2 training.max_epochs=4'):format(exe, SCRIPT,
            q(project), q(dir .. '/launcher')))
        assert.equal(137, status, out)
        assert.truthy(out:find('rank 1 exited with status 137; stopping the other ranks', 1, true), out)
        status, out = sh(('%s run --nproc 0 %s'):format(exe, SCRIPT))
        assert.equal(1, status)
        assert.truthy(out:find("--nproc needs a positive integer, got '0'", 1, true), out)
    end)

    it('refuses a num_gpus that does not match the job', function()
        local status, out = sh(('%s run %s %s %s training.num_gpus=2'):format(exe, SCRIPT, q(project), q(dir .. '/ng')))
        assert.equal(1, status)
        assert.truthy(out:find('training.num_gpus=2 x training.num_nodes=1 asks for 2 processes, but this job has 1',
            1, true), out)
    end)
end)
