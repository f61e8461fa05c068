-- bench/flops.lua: the multiply-accumulates of a torchvision ResNet backbone
-- (conv1 .. layer4, as lpose's trackers use it) counted from its layer
-- shapes, so benchmarks can say how far from the hardware they run. Counts
-- convolutions only (batch norm, ReLU, pooling and adds are < 1 %).
-- FLOPs = 2 x MACs, the convention of GEMM GFLOP/s.
local M = {}

local ARCH = {
    resnet18 = { blocks = { 2, 2, 2, 2 }, bottleneck = false },
    resnet34 = { blocks = { 3, 4, 6, 3 }, bottleneck = false },
    resnet50 = { blocks = { 3, 4, 6, 3 }, bottleneck = true },
}

-- output size of a convolution or pooling along one side
local function out_size(n, k, s, p) return math.floor((n + 2 * p - k) / s) + 1 end

--- flops.backbone_macs(name, height, width) -> multiply-accumulates per frame
function M.backbone_macs(name, height, width)
    local arch = assert(ARCH[name], 'unknown backbone ' .. tostring(name))
    local macs = 0
    local h, w = out_size(height, 7, 2, 3), out_size(width, 7, 2, 3)
    local function conv(cin, cout, k, s, p)
        local oh, ow = out_size(h, k, s, p), out_size(w, k, s, p)
        macs = macs + oh * ow * cout * cin * k * k
        return oh, ow
    end
    macs = macs + h * w * 64 * 3 * 49                      -- conv1 7x7/2
    h, w = out_size(h, 3, 2, 1), out_size(w, 3, 2, 1)       -- maxpool 3x3/2
    local cin = 64
    for layer, n in ipairs(arch.blocks) do
        local planes = 64 * 2 ^ (layer - 1)
        for b = 1, n do
            local s = (b == 1 and layer > 1) and 2 or 1
            local cout = arch.bottleneck and planes * 4 or planes
            local h0, w0 = h, w
            if arch.bottleneck then
                conv(cin, planes, 1, 1, 0)
                local oh, ow = conv(planes, planes, 3, s, 1)
                h, w = oh, ow
                conv(planes, cout, 1, 1, 0)
            else
                local oh, ow = conv(cin, planes, 3, s, 1)
                h, w = oh, ow
                conv(planes, planes, 3, 1, 1)
            end
            if s ~= 1 or cin ~= cout then                   -- downsample 1x1 on the block input
                local hh, ww = h, w
                h, w = h0, w0
                conv(cin, cout, 1, s, 0)
                h, w = hh, ww
            end
            cin = cout
        end
    end
    return macs
end

--- flops.backbone(name, height, width) -> FLOPs per frame (2 x MACs)
function M.backbone(name, height, width) return 2 * M.backbone_macs(name, height, width) end

return M
