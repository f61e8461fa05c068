-- lpose.nn.functional: stateless network ops over tensors (NCHW), named
-- like torch.nn.functional. Pairs such as stride are a number or {h, w}.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')

local C, check, argerror = lp.lib, lp.check, lp.argerror
local handle, wrap, pair = tensor.handle, tensor.wrap, tensor._pair

local M = {}

local out1 = ffi.new('lp_tensor*[1]')
local p1, p2, p3, p4 = ffi.new('int64_t[2]'), ffi.new('int64_t[2]'), ffi.new('int64_t[2]'), ffi.new('int64_t[2]')

local function opt_handle(t, fname)
    if t == nil then return nil end
    return handle(t, fname)
end

--- F.conv2d(x, weight [, bias, {stride=1, padding=0, dilation=1, groups=1}])
-- x: batch C_in H W, weight: C_out C_in/groups kh kw -> batch C_out H' W'
function M.conv2d(x, weight, bias, o)
    o = o or {}
    local f = 'F.conv2d'
    check(C.lp_nn_conv2d(handle(x, f), handle(weight, f), opt_handle(bias, f), pair(p1, o.stride, f, 1),
        pair(p2, o.padding, f, 0), pair(p3, o.dilation, f, 1), o.groups or 1, out1))
    return wrap(out1[0])
end

--- F.conv_transpose2d(x, weight [, bias, {stride, padding, output_padding, groups, dilation}])
-- weight: C_in C_out/groups kh kw
function M.conv_transpose2d(x, weight, bias, o)
    o = o or {}
    local f = 'F.conv_transpose2d'
    check(C.lp_nn_conv_transpose2d(handle(x, f), handle(weight, f), opt_handle(bias, f),
        pair(p1, o.stride, f, 1), pair(p2, o.padding, f, 0), pair(p3, o.output_padding, f, 0),
        o.groups or 1, pair(p4, o.dilation, f, 1), out1))
    return wrap(out1[0])
end

--- F.batch_norm(x, running_mean, running_var [, weight, bias, training, momentum=0.1, eps=1e-5])
-- In training mode the running stats (when given) are updated in place.
function M.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    local f = 'F.batch_norm'
    check(C.lp_nn_batch_norm(handle(x, f), opt_handle(weight, f), opt_handle(bias, f),
        opt_handle(running_mean, f), opt_handle(running_var, f), training and 1 or 0,
        momentum or 0.1, eps or 1e-5, out1))
    return wrap(out1[0])
end

function M.relu(x) return x:relu() end

--- F.max_pool2d(x, kernel [, {stride=kernel, padding=0, dilation=1, ceil_mode=false}])
function M.max_pool2d(x, kernel, o)
    o = o or {}
    local f = 'F.max_pool2d'
    check(C.lp_nn_max_pool2d(handle(x, f), pair(p1, kernel, f), pair(p2, o.stride, f, kernel),
        pair(p3, o.padding, f, 0), pair(p4, o.dilation, f, 1), o.ceil_mode and 1 or 0, out1))
    return wrap(out1[0])
end

--- F.avg_pool2d(x, kernel [, {stride=kernel, padding=0, ceil_mode=false, count_include_pad=true}])
function M.avg_pool2d(x, kernel, o)
    o = o or {}
    local f = 'F.avg_pool2d'
    local include = o.count_include_pad
    if include == nil then include = true end
    check(C.lp_nn_avg_pool2d(handle(x, f), pair(p1, kernel, f), pair(p2, o.stride, f, kernel),
        pair(p3, o.padding, f, 0), o.ceil_mode and 1 or 0, include and 1 or 0, out1))
    return wrap(out1[0])
end

function M.adaptive_avg_pool2d(x, size)
    local f = 'F.adaptive_avg_pool2d'
    check(C.lp_nn_adaptive_avg_pool2d(handle(x, f), pair(p1, size, f), out1))
    return wrap(out1[0])
end

--- F.pixel_shuffle(x, r): batch C*r*r H W -> batch C H*r W*r
function M.pixel_shuffle(x, r)
    check(C.lp_nn_pixel_shuffle(handle(x, 'F.pixel_shuffle'), r, out1))
    return wrap(out1[0])
end

local interp_modes = { nearest = C.LP_INTERP_NEAREST, bilinear = C.LP_INTERP_BILINEAR,
    bicubic = C.LP_INTERP_BICUBIC }

--- F.interpolate(x, {size={h, w}, mode='bilinear', align_corners=false})
function M.interpolate(x, o)
    local f = 'F.interpolate'
    if type(o) ~= 'table' or o.size == nil then argerror(f, 'expected {size={h, w}, mode=...}') end
    local mode = interp_modes[o.mode or 'bilinear']
    if mode == nil then argerror(f, "unknown mode '" .. tostring(o.mode) .. "' (nearest, bilinear, bicubic)") end
    check(C.lp_nn_interpolate(handle(x, f), pair(p1, o.size, f), mode, o.align_corners and 1 or 0, out1))
    return wrap(out1[0])
end

local pad_modes = { constant = C.LP_PAD_CONSTANT, reflect = C.LP_PAD_REFLECT,
    replicate = C.LP_PAD_REPLICATE }

--- F.pad(x, {left, right, top, bottom, ...} [, mode='constant' [, value=0]])
function M.pad(x, pads, mode, value)
    local f = 'F.pad'
    if type(pads) ~= 'table' or #pads == 0 or #pads % 2 ~= 0 then
        argerror(f, 'expected an even-length list of pads')
    end
    local m = pad_modes[mode or 'constant']
    if m == nil then argerror(f, "unknown mode '" .. tostring(mode) .. "'") end
    local buf = ffi.new('int64_t[?]', #pads)
    for i = 1, #pads do buf[i - 1] = pads[i] end
    check(C.lp_nn_pad(handle(x, f), buf, #pads, m, value or 0, out1))
    return wrap(out1[0])
end

function M.softmax(x, dim) return x:softmax(dim) end
function M.log_softmax(x, dim) return x:log_softmax(dim) end

--- F.linear(x, weight [, bias]): x W^T + b
function M.linear(x, weight, bias)
    local f = 'F.linear'
    check(C.lp_tensor_linear(handle(x, f), handle(weight, f), opt_handle(bias, f), out1))
    return wrap(out1[0])
end

return M
