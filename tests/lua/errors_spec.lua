-- How `lpose run` reports failures (lua/lpose/cli/protect.lua): an error lpose
-- raises on purpose is one line without lpose's frames, LPOSE_DEBUG=1 adds the
-- traceback, a bug in the user's script shows the user's frames only, and a
-- bug inside lpose keeps the whole traceback and exits 2.
local protect = require('lpose.cli.protect')
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('errors_spec')

local function lpose(args, env)
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = q(a) end
    os.execute(('%s %s %s > %s 2> %s; echo $? > %s'):format(env or '', q(support.exe()), table.concat(quoted, ' '),
        q(tmp .. '/out'), q(tmp .. '/err'), q(tmp .. '/rc')))
    return tonumber(slurp(tmp .. '/rc')), slurp(tmp .. '/out'), slurp(tmp .. '/err')
end

describe('lpose run error reports', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('a bad override is one line naming the key, exit 1', function()
        local rc, _, err = lpose({ 'run', 'tcn_supervised', 'training.max_epoch=3' })
        assert.are.equal(1, rc)
        assert.are.equal("lpose: error: override 'training.max_epoch=3': key 'training.max_epoch' is not in the "
            .. "config: did you mean 'max_epochs'?\n", err)
    end)

    it('a bad YAML file is one line naming the file and line, exit 1', function()
        local bad = write(tmp .. '/bad.yaml', 'training:\n  max_epochs: [\n')
        local rc, _, err = lpose({ 'run', 'tcn_supervised', 'config=' .. bad })
        assert.are.equal(1, rc)
        assert.truthy(err:match('^lpose: error: [^\n]*bad%.yaml[^\n]*line[^\n]*\n$'), err)
    end)

    it('LPOSE_DEBUG=1 adds the traceback', function()
        local rc, _, err = lpose({ 'run', 'tcn_supervised', 'training.max_epoch=3' }, 'LPOSE_DEBUG=1')
        assert.are.equal(1, rc)
        assert.truthy(err:find('\nstack traceback:\n', 1, true), err)
        assert.truthy(err:find('lua/lpose/config', 1, true), err)
    end)

    it("an error lpose raises on the user's behalf names the user's line only", function()
        local script = write(tmp .. '/view.lua', "local lpose = require('lpose')\nlpose.tensor({1, 2}):view(1, 2, 3)\n")
        local rc, _, err = lpose({ 'run', script })
        assert.are.equal(1, rc)
        assert.truthy(err:match('^lpose: error: [^\n]*view%.lua:2: lp_tensor_view: [^\n]*\n$'), err)
    end)

    it("a bug in the user's script shows the user's frames, not lpose's", function()
        local script = write(tmp .. '/bug.lua', table.concat({
            "local lpose = require('lpose')",
            'local function f(t) return t.x end',
            'local function g() return f(lpose.config.null == nil and {} or nil) end', 'g()' }, '\n') .. '\n')
        local rc, _, err = lpose({ 'run', script })
        assert.are.equal(1, rc)
        assert.truthy(err:match("^lpose: error: [^\n]*bug%.lua:2: attempt to index"), err)
        assert.truthy(err:find('\nstack traceback:\n', 1, true), err)
        assert.truthy(err:find("in function 'g'", 1, true), err)
        assert.falsy(err:find('lua/lpose/', 1, true), err)
    end)

    it('a run-time error inside lpose is internal: whole traceback, exit 2', function()
        local failure = { error = '/x/lua/lpose/train/init.lua:12: attempt to index a nil value',
                          message = '/x/lua/lpose/train/init.lua:12: attempt to index a nil value',
                          traceback = 'stack traceback:\n\t/x/lua/lpose/train/init.lua:12: in function \'f\'',
                          raised_in = '/x/lua/lpose/train/init.lua' }
        assert.are.equal('internal', protect.kind(failure))
        local text, code = protect.report(failure)
        assert.are.equal(2, code)
        assert.truthy(text:find('a bug in lpose', 1, true))
        assert.truthy(text:find('lua/lpose/train/init.lua:12: in function', 1, true))
    end)
end)
