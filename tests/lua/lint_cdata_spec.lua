-- Specs for tools/lint_cdata.lua (run by `make lint`): it must flag Lua code
-- that lets FFI cdata numbers into arithmetic, and leave plain code alone.
-- (`make lint` leaves this file out: its snippets are the patterns on purpose.)
local ffi = require('ffi')
local support = dofile('tests/lua/support.lua')
local q, write = support.q, support.write

local tmp = support.mktemp('lint_cdata_spec')

local function lint(source)
    local path = write(tmp .. '/snippet.lua', source)
    local p = io.popen(('luajit tools/lint_cdata.lua lua/lpose/cdef.lua %s 2>&1; echo "rc=$?"'):format(q(path)))
    local out = p:read('*a')
    p:close()
    return tonumber(out:match('rc=(%d+)%s*$')), out
end

describe('tools/lint_cdata.lua', function()
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('is right about LuaJIT: number * float cdata is computed in int64', function()
        -- the bug the lint exists for (predict.labeled truncated coordinates this way)
        assert.are.equal('180LL', tostring(30.0776 * ffi.new('float', 6.1875)))
    end)

    it('flags boxed scalars, unwrapped 64-bit returns and 64-bit array reads', function()
        for _, src in ipairs({
            "local x = 2.5 * ffi.new('float', 3)\n",
            "local n = C.lp_tensor_numel(h) / 2\n",
            "local size = ffi.new('int64_t[2]')\nlocal w = size[1] * 0.5\n",
            "local s = ffi.new('lp_predict_stats[1]')\nlocal fps = s[0].n_frames / 3\n",
            "local size = ffi.new('int64_t[2]')\nif size[0] ~= 3 then end\n",
        }) do
            local rc, out = lint(src)
            assert.are.equal(1, rc, src .. out)
        end
    end)

    it('accepts tonumber, writes, float fields and marked lines', function()
        for _, src in ipairs({
            "local n = tonumber(C.lp_tensor_numel(h)) / 2\n",
            "local size = ffi.new('int64_t[2]')\nsize[0], size[1] = 3, 4\nlocal w = tonumber(size[1]) * 0.5\n",
            "local b = ffi.new('int64_t[4]')\nfor i = 1, 4 do b[i - 1] = i end\n",
            "local s = ffi.new('lp_predict_stats[1]')\nlocal t = s[0].seconds_total / 3\n",
            "local h = ffi.new('uint64_t', 1) -- cdata-ok: 64-bit hash\n",
            "local buf = ffi.new('float[?]', 3)\nlocal y = buf[0] * 2\n",
        }) do
            local rc, out = lint(src)
            assert.are.equal(0, rc, src .. out)
        end
    end)
end)
