-- lpose: animal pose estimation with temporal context, as a scriptable
-- engine. `local lpose = require('lpose')` gives the whole public API;
-- submodules load on first use so `lpose -e ''` stays fast.
--
--   local lpose = require('lpose')
--   local x = lpose.tensor{{1, 2}, {3, 4}}
--   print(x:matmul(x):sum())
local lp = require('lpose.C')
local ffi = require('ffi')

local M = {}

M.C = lp.lib
M.version = ffi.string(lp.lib.lp_version())
M._VERSION = 'lpose ' .. M.version

local tensor = require('lpose.tensor')
local autograd = require('lpose.autograd')
local serialize = require('lpose.serialize')

M.tensor = tensor
M.is_tensor = tensor.is_tensor
M.zeros, M.ones, M.full, M.empty = tensor.zeros, tensor.ones, tensor.full, tensor.empty
M.arange, M.linspace, M.randn, M.rand = tensor.arange, tensor.linspace, tensor.randn, tensor.rand
M.cat, M.stack, M.where = tensor.cat, tensor.stack, tensor.where
M.no_grad, M.enable_grad, M.is_grad_enabled = autograd.no_grad, autograd.enable_grad, autograd.is_grad_enabled
M.save, M.load = serialize.save, serialize.load

--- lpose.manual_seed(seed): seeds libtorch's global generators
function M.manual_seed(seed) lp.check(lp.lib.lp_manual_seed(seed)) end

--- lpose.set_num_threads(n) / lpose.get_num_threads()
function M.set_num_threads(n) lp.check(lp.lib.lp_set_num_threads(n)) end
function M.get_num_threads() return lp.lib.lp_get_num_threads() end

--- lpose.cuda_device_count() -> number of usable CUDA devices (0 on CPU builds)
function M.cuda_device_count() return lp.lib.lp_cuda_device_count() end

-- Submodules loaded on first access: lpose.nn, lpose.optim, lpose.mem, ...
-- The metatable's __lazy field names them for the REPL's completion and help.
local lazy = {
    nn = 'lpose.nn', F = 'lpose.nn.functional', optim = 'lpose.optim', mem = 'lpose.mem',
    dtypes = 'lpose.dtypes', serialize = 'lpose.serialize', class = 'lpose.class',
    data = 'lpose.data', video = 'lpose.video', models = 'lpose.models',
    config = 'lpose.config', losses = 'lpose.losses', train = 'lpose.train',
    predict = 'lpose.predict', dataset = 'lpose.dataset', synth = 'lpose.synth',
    metrics = 'lpose.metrics', experiment = 'lpose.experiment', dist = 'lpose.dist',
    help = 'lpose.help', plot = 'lpose.plot', eks = 'lpose.eks',
    diagnostics = 'lpose.diagnostics', files = 'lpose.files',
}

return setmetatable(M, {
    __lazy = lazy,
    __index = function(self, key)
        local name = lazy[key]
        if name == nil then return nil end
        local mod = require(name)
        rawset(self, key, mod)
        return mod
    end,
})
