-- The lpose executable's command line, driven as a subprocess
-- (lua/lpose/cli/*.lua, engine/main/lpose.c). $LPOSE_TEST_BUILD names
-- the build directory (default: build).
local support = dofile('tests/lua/support.lua')
local EXE, q, write = support.exe(), support.q, support.write

local tmp = support.mktemp('cli_spec')

local function slurp(path) return support.slurp(path) or '' end


-- Run lpose with `args` (a shell-quoted list), optional stdin text;
-- returns exit code, stdout, stderr.
local function lpose(args, input)
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = q(a) end
    local cmd = q(EXE) .. ' ' .. table.concat(quoted, ' ')
    cmd = cmd .. ' > ' .. tmp .. '/out 2> ' .. tmp .. '/err < ' .. write(tmp .. '/in', input or '')
    os.execute(cmd .. '; echo $? > ' .. tmp .. '/rc')
    return tonumber(slurp(tmp .. '/rc')), slurp(tmp .. '/out'), slurp(tmp .. '/err')
end

describe('lpose command line', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('--version prints "lpose X.Y.Z" first, then LuaJIT', function()
        local rc, out = lpose({ '--version' })
        assert.are.equal(0, rc)
        assert.truthy(out:match('^lpose %d+%.%d+%.%d+\n'), out)
        assert.truthy(out:find('LuaJIT', 1, true))
        local rc2, out2 = lpose({ 'version' })
        assert.are.equal(0, rc2)
        assert.are.equal(out, out2)
    end)

    it('-e runs code, with the remaining arguments as ... and arg', function()
        local rc, out = lpose({ '-e', 'print(1 + 1, ...) print(arg[1], arg[2])', 'a', 'b c' })
        assert.are.equal(0, rc)
        assert.are.equal('2\ta\tb c\na\tb c\n', out)
    end)

    it('-e does not load the lpose package (fast start-up)', function()
        local rc, out = lpose({ '-e', 'print(package.loaded.lpose == nil, package.loaded["lpose.C"] == nil)' })
        assert.are.equal(0, rc)
        assert.are.equal('true\ttrue\n', out)
    end)

    it('run passes key=value and -- arguments to the script', function()
        local script = write(tmp .. '/args.lua', [[
local run = require('lpose.cli.run')
print(arg[0], arg[-1], select('#', ...))
print(table.concat({...}, ' '))
print(table.concat(arg, ' '))
print(table.concat(run.overrides, ' '))
]])
        local rc, out, err = lpose({ 'run', script, 'training.train_batch_size=8', '+x.y=1', 'plain', '~a.b',
                                     '--', 'z=3', '--flag' })
        assert.are.equal(0, rc, err)
        local lines = {}
        for line in out:gmatch('[^\n]*') do lines[#lines + 1] = line end
        assert.are.same({
            script .. '\trun\t7',
            'training.train_batch_size=8 +x.y=1 plain ~a.b -- z=3 --flag',
            'training.train_batch_size=8 +x.y=1 plain ~a.b -- z=3 --flag',
            'training.train_batch_size=8 +x.y=1 ~a.b',
        }, { lines[1], lines[3], lines[5], lines[7] })
    end)

    it('run skips a #! line and runs stdin with -', function()
        local script = write(tmp .. '/shebang.lua', '#!/usr/bin/env lua\nprint("shebang ok", ...)\n')
        local rc, out = lpose({ 'run', script, 'x' })
        assert.are.equal(0, rc)
        assert.are.equal('shebang ok\tx\n', out)
        rc, out = lpose({ '-', 'y' }, 'print("stdin ok", arg[0], ...)\n')
        assert.are.equal(0, rc)
        assert.are.equal('stdin ok\t-\ty\n', out)
    end)

    it('a missing script is an expected error: exit 1', function()
        local rc, out, err = lpose({ 'run', tmp .. '/nosuch.lua' })
        assert.are.equal(1, rc)
        assert.are.equal('', out)
        assert.truthy(err:match('^lpose: error: cannot open [^\n]*nosuch%.lua'), err)
    end)

    it('a script error("boom") exits 1 with the message and its traceback', function()
        local script = write(tmp .. '/boom.lua', 'local function f() error("boom") end\nf()\n')
        local rc, _, err = lpose({ 'run', script })
        assert.are.equal(1, rc)
        assert.truthy(err:match('^lpose: error: [^\n]*boom%.lua:1: boom\nstack traceback:\n'), err)
        assert.truthy(err:find("in function 'f'", 1, true), err)
        assert.falsy(err:find('lpose/cli/', 1, true), err) -- the CLI's own frames are left out
    end)

    it('a syntax error exits 1; a non-string error object exits 2', function()
        local rc, _, err = lpose({ 'run', write(tmp .. '/bad.lua', 'x = = 1\n') })
        assert.are.equal(1, rc)
        assert.truthy(err:match('^lpose: error: [^\n]*bad%.lua:1:'), err)
        rc, _, err = lpose({ '-e', 'error({})' })
        assert.are.equal(2, rc)
        assert.truthy(err:find('error object is a table value', 1, true), err)
    end)

    it('help lists every registered command, help COMMAND shows one', function()
        local rc, out = lpose({ 'help' })
        assert.are.equal(0, rc)
        for name in pairs(require('lpose.cli').commands) do
            assert.truthy(out:find('\n  ' .. name .. ' ', 1, true), name)
        end
        local rc2, out2 = lpose({ '--help' })
        assert.are.equal(0, rc2)
        assert.are.equal(out, out2)
        local rc3, out3 = lpose({ 'help', 'run' })
        assert.are.equal(0, rc3)
        assert.truthy(out3:find('usage: lpose run [--nproc N] SCRIPT', 1, true))
    end)

    it('an unknown command or option exits 1', function()
        local rc, out, err = lpose({ 'frob' })
        assert.are.equal(1, rc)
        assert.are.equal('', out)
        assert.are.equal("lpose: error: unknown command 'frob' (see 'lpose help')\n", err)
        local rc2, _, err2 = lpose({ 'help', 'frob' })
        assert.are.equal(1, rc2)
        assert.truthy(err2:find("unknown command 'frob'", 1, true))
        local rc3, _, err3 = lpose({ '--frob' })
        assert.are.equal(1, rc3)
        assert.truthy(err3:find("unknown option '--frob'", 1, true))
    end)

    it('Ctrl-C (SIGINT) interrupts a running script: exit 130', function()
        local py = '/usr/bin/python3'
        if not io.open(py) then return pending('needs ' .. py) end
        local script = write(tmp .. '/loop.lua', 'jit.off()\nprint("ready")\nio.stdout:flush()\nwhile true do end\n')
        -- lpose keeps SIGINT ignored when it starts that way (as a background job of a
        -- shell script does), so the child gets the default disposition back first.
        local driver = write(tmp .. '/sigint.py', [[
import signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
p.stdout.readline()  # "ready": the handler is armed and the loop is about to run
time.sleep(0.2)
p.send_signal(signal.SIGINT)
try:
    err = p.communicate(timeout=20)[1].decode()
except subprocess.TimeoutExpired:
    p.kill()
    err = 'TIMEOUT: SIGINT did not stop the script'
print(p.returncode)
print(err)
]])
        local f = io.popen(q(py) .. ' ' .. q(driver) .. ' ' .. q(EXE) .. ' run ' .. q(script))
        local out = f:read('*a')
        f:close()
        assert.truthy(out:match('^130\nlpose: error: [^\n]*interrupted!'), out)
    end)
end)
