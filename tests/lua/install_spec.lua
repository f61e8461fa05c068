-- `make install`, then lpose from plain luajit with only the installed paths
-- (no $LPOSE_LIB, no source tree): the library is found next to the Lua
-- tree, a tensor op runs, `help` finds the installed docs. Also the LuaRocks
-- layout (the rockspec's INST_* variables, the library deployed beside C
-- modules and found through package.cpath), and the error that lists every
-- place tried when the library is missing.
-- $LPOSE_TEST_BUILD names the build directory (default: build).
local support = dofile('tests/lua/support.lua')
local q, slurp = support.q, support.slurp

local build = os.getenv('LPOSE_TEST_BUILD')
if not build or build == '' then build = 'build' end

local tmp = support.mktemp('install_spec')

-- Run a shell command; returns exit status and output (stdout and stderr).
local function sh(cmd)
    local out = tmp .. '/out'
    os.execute('(' .. cmd .. ') > ' .. q(out) .. ' 2>&1; echo $? > ' .. q(tmp .. '/rc'))
    return tonumber(slurp(tmp .. '/rc')), slurp(out) or ''
end

-- Plain luajit in `dir` (not the repository) with the given Lua paths and
-- none of lpose's environment variables.
local function luajit(dir, lua_path, cpath, code, env)
    return sh(('cd %s && env -u LPOSE_LIB -u LPOSE_LUA_PATH -u LPOSE_DOCS -u LPOSE_CONFIG_DEFAULT %s '
        .. 'LUA_PATH=%s LUA_CPATH=%s luajit -e %s'):format(q(dir), env or '', q(lua_path), q(cpath), q(code)))
end

local function exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() end
    return f ~= nil
end

local CODE = [[
local lpose = require('lpose')
local x = lpose.tensor{{1, 2}, {3, 4}}
io.write('lib=', require('lpose.C').library_path, '\n')
io.write('sum=', x:matmul(x):sum():item(), '\n')
io.write('index=', x[2][1], '\n')
io.write('docs=', tostring(require('lpose.help').docs_dir()), '\n')
io.write('config=', require('lpose.config').default_file(), '\n')
io.write('help=', require('lpose.help').text('tensor:view'):match('^[^\n]*'), '\n')
]]

describe('install', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    describe('make install', function()
        local prefix = tmp .. '/prefix'
        local lua_dir = prefix .. '/share/lua/5.1'
        local lua_path = lua_dir .. '/?.lua;' .. lua_dir .. '/?/init.lua;;'
        local installed, install_log

        setup(function()
            local rc
            rc, install_log = sh('make install BUILD=' .. q(build) .. ' PREFIX=' .. q(prefix))
            installed = rc == 0
        end)

        it('installs the executable, the library, the headers, the Lua tree, configs and docs', function()
            assert(installed, install_log)
            for _, f in ipairs({ 'bin/lpose', 'lib/liblpose.so', 'include/lpose.h', 'share/lua/5.1/lpose/init.lua',
                'share/lua/5.1/lpose/C.lua', 'share/lua/5.1/lpose/help.lua', 'share/lua/5.1/lpose/cli/repl.lua',
                'share/lua/5.1/lpose/configs/config_default.yaml', 'share/lua/5.1/lpose/docs/reference/lua/index.md',
                'share/lua/5.1/lpose/docs/reference/lua/tensor.md', 'share/lua/5.1/lpose/docs/guides/repl.md',
                -- the report page's inlined assets (lpose.diagnostics.page reads them beside itself)
                'share/lua/5.1/lpose/diagnostics/assets/uPlot.iife.min.js',
                'share/lua/5.1/lpose/diagnostics/assets/report.js' }) do
                assert(exists(prefix .. '/' .. f), 'not installed: ' .. f)
            end
        end)

        it('plain luajit requires lpose with only the installed Lua path (no LPOSE_LIB)', function()
            assert(installed, install_log)
            local rc, out = luajit(tmp, lua_path, ';;', CODE)
            assert.are.equal(0, rc, out)
            assert.truthy(out:find('lib=' .. prefix .. '/lib/liblpose.so\n', 1, true), out)
            assert.truthy(out:find('sum=54\n', 1, true), out)
            assert.truthy(out:find('index=3\n', 1, true), out)
            assert.truthy(out:find('docs=' .. lua_dir .. '/lpose/docs\n', 1, true), out)
            assert.truthy(out:find('config=' .. lua_dir .. '/lpose/configs/config_default.yaml\n', 1, true), out)
            assert.truthy(out:find('help=t:view(...)\n', 1, true), out)
        end)

        it('the installed executable finds its library in ../lib', function()
            assert(installed, install_log)
            local rc, out = sh(q(prefix .. '/bin/lpose') .. ' -e ' .. q('io.write(lpose.ones(3):sum():item())'))
            assert.are.equal(0, rc, out)
            assert.are.equal('3', out)
        end)

        it('without the library, the error lists every place tried and why', function()
            assert(installed, install_log)
            os.rename(prefix .. '/lib/liblpose.so', prefix .. '/lib/liblpose.so.away')
            local rc, out = luajit(tmp, lua_path, ';;', 'require("lpose")')
            local rc2, out2 = luajit(tmp, lua_path, ';;', 'require("lpose")', 'LPOSE_LIB=/nonexistent/liblpose.so')
            os.rename(prefix .. '/lib/liblpose.so.away', prefix .. '/lib/liblpose.so')
            assert.are_not.equal(0, rc)
            assert.truthy(out:find('cannot load liblpose.so; tried:', 1, true), out)
            assert.truthy(out:find('$LPOSE_LIB: not set', 1, true), out)
            assert.truthy(out:find(prefix .. '/lib/liblpose.so (the install prefix): ' .. prefix
                .. '/lib/liblpose.so: cannot open shared object file', 1, true), out)
            assert.truthy(out:find('lpose (the system library path): liblpose.so: cannot open shared object file', 1,
                true), out)
            assert.are_not.equal(0, rc2)
            assert.truthy(out2:find('/nonexistent/liblpose.so ($LPOSE_LIB): /nonexistent/liblpose.so: cannot open', 1,
                true), out2)
        end)
    end)

    describe('the rockspec', function()
        local rock = tmp .. '/rock'

        it('passes only variables the Makefile reads', function()
            local spec = {}
            local chunk = assert(loadfile('lpose-scm-1.rockspec'))
            setfenv(chunk, spec)
            chunk()
            local makefile = assert(slurp('Makefile'))
            assert.are.equal('make', spec.build.type)
            for _, vars in ipairs({ spec.build.build_variables, spec.build.install_variables }) do
                for name in pairs(vars) do
                    assert.truthy(makefile:find('$(' .. name .. ')', 1, true), 'the Makefile never reads ' .. name)
                end
            end
            for _, name in ipairs({ 'INST_PREFIX', 'INST_BINDIR', 'INST_LIBDIR', 'INST_LUADIR' }) do
                assert.truthy(spec.build.install_variables[name], 'the rockspec does not set ' .. name)
            end
        end)

        it("installs a rock that works from LuaRocks' layout (library found through package.cpath)", function()
            -- what LuaRocks runs: make install with the rock's own folders, then it deploys
            -- lua/ to the tree's Lua dir and lib/ to its C module dir (here: used in place)
            local rc, log = sh(('make install BUILD=%s INST_PREFIX=%s INST_BINDIR=%s INST_LIBDIR=%s INST_LUADIR=%s')
                :format(q(build), q(rock), q(rock .. '/bin'), q(rock .. '/lib'), q(rock .. '/lua')))
            assert.are.equal(0, rc, log)
            local rock_path = rock .. '/lua/?.lua;' .. rock .. '/lua/?/init.lua;;'
            local rc2, out = luajit(tmp, rock_path, rock .. '/lib/?.so;;', CODE)
            assert.are.equal(0, rc2, out)
            assert.truthy(out:find('lib=' .. rock .. '/lib/liblpose.so\n', 1, true), out)
            assert.truthy(out:find('sum=54\n', 1, true), out)
            assert.truthy(out:find('docs=' .. rock .. '/lua/lpose/docs\n', 1, true), out)
        end)
    end)
end)
