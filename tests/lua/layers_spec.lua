-- The Lua layer check (tools/layers/lua_requires.lua, `make check-lua-layers`):
-- the repository passes it, and each rule fails on a fake file that breaks it.
--
--   build/lpose run /usr/bin/busted --no-auto-insulate tests/lua/layers_spec.lua
local layers = dofile('tools/layers/lua_requires.lua')

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- check() of a fake file list: the one module every library file may
-- require (lpose.C), plus the files given as {path = text}.
local function violations(fake)
    local files = {
        { path = 'lua/lpose/C.lua', text = "local ffi = require('ffi')\nffi.cdef(require('lpose.cdef'))" },
        { path = 'lua/lpose/cdef.lua', text = 'return ""' },
        { path = 'lua/lpose/video.lua', text = "local lp = require('lpose.C')" },
        { path = 'lua/lpose/cli/init.lua', text = 'return {}' },
        { path = 'lua/lpose/cli/args.lua', text = 'return {}' },
        { path = 'lua/lpose/cli/report.lua', text = 'return {}' },
    }
    for path, text in pairs(fake) do files[#files + 1] = { path = path, text = text } end
    return table.concat(layers.check(files), '\n')
end

describe('check-lua-layers', function()
    it('passes on the repository', function()
        assert.are.same({}, layers.check(layers.files_under('.')))
    end)

    it('passes a fake tree that keeps the rules', function()
        assert.are.equal('', violations({
            ['lua/lpose/frames.lua'] = "local video = require('lpose.video')\n"
                .. "local ok, host = pcall(require, 'lpose.cli.host')",
            ['lua/lpose/cli/extract_frames.lua'] = "local args = require('lpose.cli.args')\n"
                .. "local v = require 'lpose.video'",
            ['bench/b.lua'] = "local timing = dofile('bench/timing.lua')",
            ['experiments/tour.lua'] = "local lpose = require('lpose')\n-- require('lpose.cli.args') in a comment\n"
                .. "local help = [[ require('ffi') in a long string ]]",
        }))
    end)

    it('fails when the library requires the CLI', function()
        local out = violations({ ['lua/lpose/train/checks.lua'] = "\nlocal c = require('lpose.cli.args').parse" })
        assert.are.equal("lua/lpose/train/checks.lua:2: requires 'lpose.cli.args': "
            .. 'the library does not require the CLI', out)
    end)

    it('fails when the CLI uses the FFI or lpose.C', function()
        local out = violations({ ['lua/lpose/cli/extract_frames.lua'] =
            "local ffi = require('ffi')\nlocal lp = require('lpose.C')\nlocal C = require('lpose').C" })
        assert.truthy(out:find("extract_frames.lua:1: requires 'ffi': the CLI calls library functions, not C",
            1, true), out)
        assert.truthy(out:find("extract_frames.lua:2: requires 'lpose.C'", 1, true), out)
        assert.truthy(out:find('extract_frames.lua:3: uses lpose.C', 1, true), out)
    end)

    it('fails on the other rules: cdef outside lpose.C, scripts on the CLI, scripts required, stale names', function()
        local out = violations({
            ['lua/lpose/data.lua'] = "local d = require('lpose.cdef')",
            ['bench/b.lua'] = "local r = require('lpose.cli.report')",
            ['lua/lpose/x.lua'] = "local e = require('experiments.tour')\ndofile('bench/timing.lua')",
            ['experiments/y.lua'] = "local f = require('lpose.train.filez')",
        })
        local function has(s) return out:find(s, 1, true) ~= nil end
        assert(has("data.lua:1: requires 'lpose.cdef': only lpose.C loads the C declarations"), out)
        assert(has("bench/b.lua:1: requires 'lpose.cli.report': experiments and bench use the library"), out)
        assert(has("x.lua:1: requires 'experiments.tour': only experiments/ itself uses its helpers"), out)
        assert(has("x.lua:2: loads 'bench/timing.lua': only bench/ itself uses its helpers"), out)
        assert.truthy(out:find("y.lua:1: requires 'lpose.train.filez': no such module under lua/", 1, true), out)
    end)

    it('exits 1 and names the file when run on a tree that breaks a rule', function()
        local root = os.tmpname()
        os.remove(root)
        assert(os.execute('mkdir -p ' .. q(root .. '/lua/lpose/cli')) == 0)
        local f = assert(io.open(root .. '/lua/lpose/cli/bad.lua', 'w'))
        f:write("local ffi = require('ffi')\n")
        f:close()
        local p = io.popen('luajit tools/layers/lua_requires.lua ' .. q(root) .. ' 2>&1; echo "rc=$?"')
        local out = p:read('*a')
        p:close()
        os.execute('rm -rf ' .. q(root))
        assert.truthy(out:find("lua/lpose/cli/bad.lua:1: requires 'ffi'", 1, true), out)
        assert.truthy(out:find('rc=1', 1, true), out)
    end)
end)
