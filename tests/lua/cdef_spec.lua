-- The generated FFI declarations must match engine/include/lpose.h and the
-- compiled library (enum values, struct sizes): ljsyscall-style checks.
local ffi = require('ffi')
local lpose = require('lpose')
local C = lpose.C

describe('cdef', function()
    it('is what tools/gen_cdef.lua makes of the header today', function()
        local p = io.popen('luajit tools/gen_cdef.lua engine/include/lpose.h')
        local generated = p:read('*a')
        p:close()
        local f = assert(io.open('lua/lpose/cdef.lua'))
        local committed = f:read('*a')
        f:close()
        assert.equal(generated, committed)
    end)

    it('agrees with the library on enums and sizes', function()
        assert.equal(4, C.lp_dtype_size(C.LP_DTYPE_F32))
        assert.equal(8, C.lp_dtype_size(C.LP_DTYPE_I64))
        assert.equal(1, C.lp_dtype_size(C.LP_DTYPE_BOOL))
        assert.equal('bf16', ffi.string(C.lp_dtype_name(C.LP_DTYPE_BF16)))
        assert.equal('LP_STATUS_IO', ffi.string(C.lp_status_name(C.LP_STATUS_IO)))
        assert.equal(24, ffi.sizeof('lp_mem_stats'))
        local p = C.lp_optim_default_params(C.LP_OPTIM_ADAM)
        assert.equal(0.9, p.beta1)
        assert.equal(1e-3, p.lr)
    end)
end)
