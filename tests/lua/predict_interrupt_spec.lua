-- `lpose predict` under Ctrl-C and SIGTERM: it stops within about a window,
-- exits 130, names the finished and unfinished videos, and leaves neither a
-- temporary file nor a partial CSV; a second Ctrl-C ends it at once, also
-- cleanly; stale PATH.tmp-<pid> files of dead processes are removed by the
-- next write of PATH. A ~4000-frame 64x64 clip keeps the run long enough to
-- interrupt; the time bounds below only guard against hangs.
local models = require('lpose.models')
local metrics = require('lpose.metrics')

local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('predict_interrupt_spec')
local EXE = support.exe()
local HANG_GUARD = 20 -- seconds from the signal to the exit: a hang, not a speed check

local function sh(cmd) return os.execute(cmd) == 0 end
local have_ffmpeg = sh('ffmpeg -version >/dev/null 2>&1')
-- Background jobs of a non-interactive shell start with SIGINT ignored, and
-- lpose keeps an ignored SIGINT ignored (nohup): give the child the default.
local have_env = sh('env --default-signal=INT true 2>/dev/null')

local function gen(name, n)
    local path = tmp .. '/' .. name
    local ok = sh(('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x64:rate=25 -frames:v %d '
        .. '-pix_fmt yuv420p %s >/dev/null 2>&1'):format(n, q(path)))
    return ok and path or nil
end

local function now()
    local p = io.popen('date +%s.%N')
    local t = tonumber(p:read('*l'))
    p:close()
    return t
end

local function sleep(s) sh('sleep ' .. s) end

local function list(dir)
    local out = {}
    local p = io.popen('ls -1 ' .. q(dir) .. ' 2>/dev/null')
    for name in p:lines() do out[#out + 1] = name end
    p:close()
    return out
end

local function has(dir, pattern)
    for _, name in ipairs(list(dir)) do
        if name:find(pattern) then return name end
    end
    return nil
end

-- A pid that belongs to no process: a shell that has exited and been reaped.
local function dead_pid()
    local p = io.popen('sh -c \'echo $$\'')
    local pid = tonumber(p:read('*l'))
    p:close()
    return pid
end

-- Start `lpose predict ARGS` in the background; returns a handle.
local function start(args, name)
    local run = { out = tmp .. '/' .. name .. '.out', err = tmp .. '/' .. name .. '.err',
                  rc = tmp .. '/' .. name .. '.rc', pidfile = tmp .. '/' .. name .. '.pid' }
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = q(a) end
    local cmd = ('env --default-signal=INT %s predict %s > %s 2> %s & echo $! > %s; wait $!; echo $? > %s')
        :format(q(EXE), table.concat(quoted, ' '), q(run.out), q(run.err), q(run.pidfile), q(run.rc))
    os.remove(run.rc)
    os.remove(run.pidfile)
    sh('sh -c ' .. q(cmd) .. ' >/dev/null 2>&1 &')
    for _ = 1, 100 do
        run.pid = tonumber(slurp(run.pidfile) or '')
        if run.pid then break end
        sleep(0.05)
    end
    return run
end

-- Wait until cond() holds or `limit` seconds pass; returns whether it held.
local function wait_for(cond, limit)
    local t0 = now()
    while now() - t0 < limit do
        if cond() then return true end
        sleep(0.05)
    end
    return cond() and true or false
end

-- Wait for the exit; returns rc, seconds since `t0` (nil on a hang: killed).
local function finish(run, t0, limit)
    local done = wait_for(function() return slurp(run.rc) ~= nil and slurp(run.rc) ~= '' end,
        limit or HANG_GUARD)
    if not done then
        sh('kill -KILL ' .. run.pid .. ' 2>/dev/null')
        return nil
    end
    return tonumber(slurp(run.rc)), now() - t0
end

describe('lpose predict interrupted', function()
    local mdir, short, long = tmp .. '/model', nil, nil

    setup(function()
        if not (have_ffmpeg and have_env) then return end
        short, long = gen('short.mp4', 20), gen('long.mp4', 4000)
        sh('mkdir -p ' .. q(mdir))
        write(mdir .. '/config.yaml', table.concat({
            'data:', '  image_resize_dims:', '    height: 64', '    width: 64',
            '  num_keypoints: 3', '  keypoint_names: [nose, ear, tail]',
            'model:', '  model_type: heatmap_mhcrnn', '  backbone: resnet18',
            'dali:', '  context:', '    predict:', '      sequence_length: 16',
        }, '\n') .. '\n')
        local m = models.new({ model = { model_type = 'heatmap_mhcrnn', backbone = 'resnet18' },
                               data = { num_keypoints = 3, image_resize_dims = { height = 64, width = 64 } } })
        assert(m:save(mdir .. '/model.lpt'))
        m:free()
    end)
    teardown(function() sh('rm -rf ' .. q(tmp)) end)

    local function skip()
        if not have_ffmpeg then return 'ffmpeg cannot make clips' end
        if not have_env then return 'env --default-signal is missing' end
        if not (short and long) then return 'ffmpeg cannot make clips' end
    end

    -- Predict short.mp4 then long.mp4 into `out`; signal once long.mp4 is being written.
    local function interrupt(name, signal, second)
        local out = tmp .. '/' .. name
        sh('mkdir -p ' .. q(out))
        local stale = out .. '/long.csv.tmp-' .. dead_pid()
        write(stale, 'partial rows of a killed run')
        local run = start({ mdir, short, long, '--output', out }, name)
        assert.truthy(run.pid, 'lpose did not start')
        local writing = wait_for(function()
            return slurp(out .. '/short.csv') ~= nil and has(out, '^long%.csv%.tmp%-' .. run.pid .. '$') ~= nil
        end, 120)
        if not writing then sh('kill -KILL ' .. run.pid) end
        assert.is_true(writing, 'long.mp4 was never written: ' .. tostring(slurp(run.err)))
        local t0 = now()
        sh('kill -' .. signal .. ' ' .. run.pid)
        if second then
            sleep(second)
            sh('kill -' .. signal .. ' ' .. run.pid .. ' 2>/dev/null')
        end
        local rc, seconds = finish(run, t0)
        assert.truthy(rc, ('no exit within %d s of SIG%s'):format(HANG_GUARD, signal))
        return { rc = rc, seconds = seconds, out = out, stale = stale, err = slurp(run.err) or '',
                 stdout = slurp(run.out) or '' }
    end

    local function check_clean(r)
        assert.is_nil(has(r.out, '%.tmp%-'), 'a temporary file is left: ' .. table.concat(list(r.out), ' '))
        assert.is_nil(slurp(r.out .. '/long.csv'), 'the unfinished video has a CSV')
        assert.is_nil(slurp(r.out .. '/long_temporal_norm.csv'))
        local t = assert(metrics.read_csv(r.out .. '/short.csv'))  -- the finished one is complete
        assert.are.equal(20, #t.index)
    end

    it('exits 130 after Ctrl-C, names what was finished and removes what was not', function()
        local why = skip()
        if why then return pending(why) end
        local r = interrupt('sigint', 'INT')
        assert.are.equal(130, r.rc, r.err)
        assert.truthy(r.err:find('interrupted; 1 of 2 videos finished', 1, true), r.err)
        assert.truthy(r.err:find('finished: ' .. short, 1, true), r.err)
        assert.truthy(r.err:find('not finished: ' .. long, 1, true), r.err)
        assert.falsy(r.err:find('internal error', 1, true), r.err)
        assert.falsy(r.err:find('traceback', 1, true), r.err)
        check_clean(r)
        print(('# Ctrl-C to exit: %.2f s'):format(r.seconds))
    end)

    it('treats SIGTERM like Ctrl-C', function()
        local why = skip()
        if why then return pending(why) end
        local r = interrupt('sigterm', 'TERM')
        assert.are.equal(130, r.rc, r.err)
        assert.truthy(r.err:find('not finished: ' .. long, 1, true), r.err)
        check_clean(r)
    end)

    it('ends at once on a second Ctrl-C, leaving no partial file', function()
        local why = skip()
        if why then return pending(why) end
        local r = interrupt('twice', 'INT', 0.01)
        assert.are.equal(130, r.rc, r.err) -- 128 + SIGINT, or the first one's clean exit
        check_clean(r)
    end)

    it("removes a dead process's stale temporary file the next time the output is written", function()
        local why = skip()
        if why then return pending(why) end
        local out = tmp .. '/stale'
        sh('mkdir -p ' .. q(out))
        local stale = out .. '/short.csv.tmp-' .. dead_pid()
        local f = assert(io.open('/proc/self/stat'))
        local live = out .. '/short.csv.tmp-' .. f:read('*l'):match('^(%d+)')
        f:close()
        write(stale, 'x')
        write(live, 'x')
        local run = start({ mdir, short, '--output', out }, 'stale')
        local rc = finish(run, now(), 120)
        assert.are.equal(0, rc, slurp(run.err))
        assert.is_nil(slurp(stale))
        assert.are.equal('x', slurp(live)) -- its process (this one) is alive
        os.remove(live)
        assert.are.equal(20, #assert(metrics.read_csv(out .. '/short.csv')).index)
    end)
end)
