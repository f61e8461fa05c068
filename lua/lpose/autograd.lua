-- lpose.autograd: grad-mode scopes. Grad mode is thread-local in libtorch;
-- no_grad takes a closure so the mode is restored even when fn raises.
local C = require('lpose.C').lib

local M = {}

local function pack(...) return { n = select('#', ...), ... } end

local function with_grad_mode(enabled, fn, ...)
    local previous = C.lp_grad_is_enabled()
    C.lp_grad_set_enabled(enabled and 1 or 0)
    local results = pack(pcall(fn, ...))
    C.lp_grad_set_enabled(previous)
    if not results[1] then error(results[2], 0) end
    return unpack(results, 2, results.n)
end

--- lpose.no_grad(fn, ...) -> fn's results, computed without building a graph
function M.no_grad(fn, ...) return with_grad_mode(false, fn, ...) end

--- lpose.enable_grad(fn, ...) -> fn's results, with gradients recorded
function M.enable_grad(fn, ...) return with_grad_mode(true, fn, ...) end

function M.is_grad_enabled() return C.lp_grad_is_enabled() ~= 0 end

return M
