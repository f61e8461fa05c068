-- experiments/tensor_tour.lua: the engine end to end on a toy keypoint task.
--
-- What it does: makes images of one bright Gaussian blob on noise, trains a
-- 3-layer conv net that outputs a heatmap, decodes it with a spatial
-- soft-argmax, and prints the pixel error before and after training.
-- It exercises tensors, nn.functional, autograd and Adam; no data needed.
--
-- Run:    build/lpose run experiments/tensor_tour.lua [steps=150] [seed=0]
-- Writes: nothing; prints one line per 25 steps and the final pixel error.
local lpose = require('lpose')
local F = lpose.F

local opts = { steps = 150, seed = 0, size = 32, batch = 16 }
for _, kv in ipairs(arg or {}) do
    local k, v = kv:match('^([%w_]+)=(.+)$')
    if k and opts[k] then opts[k] = tonumber(v) end
end
lpose.manual_seed(opts.seed)
local S = opts.size

-- Coordinate grids (S,) for rendering blobs and for the soft-argmax.
local coords = lpose.arange(S, { dtype = 'f32' })

-- A batch of images (B,1,S,S) with blobs at random (x, y), and those (B,2).
local function make_batch(seed)
    local xy = lpose.rand(opts.batch, 2, { seed = seed }) * (S - 8) + 4
    local x = xy:select(2, 1):view(-1, 1, 1)
    local y = xy:select(2, 2):view(-1, 1, 1)
    local dx = (coords:view(1, 1, S) - x) ^ 2
    local dy = (coords:view(1, S, 1) - y) ^ 2
    local blob = ((dx + dy) / -8):exp()
    local noise = lpose.randn(opts.batch, S, S, { seed = seed + 1 }) * 0.2
    return (blob + noise):unsqueeze(2), xy
end

-- Parameters of a small fully convolutional net.
local function param(...)
    return (lpose.randn(...) * 0.1):requires_grad_(true)
end
local w1, b1 = param(8, 1, 3, 3), lpose.zeros(8, { requires_grad = true })
local w2, b2 = param(8, 8, 3, 3), lpose.zeros(8, { requires_grad = true })
local w3, b3 = param(1, 8, 3, 3), lpose.zeros(1, { requires_grad = true })
local params = { w1, b1, w2, b2, w3, b3 }

-- images (B,1,S,S) -> predicted keypoints (B,2) by spatial soft-argmax
local function forward(images)
    local h = F.conv2d(images, w1, b1, { padding = 1 }):relu()
    h = F.conv2d(h, w2, b2, { padding = 1 }):relu()
    h = F.conv2d(h, w3, b3, { padding = 1 })
    local p = (h:view(opts.batch, S * S) * 10):softmax(2):view(opts.batch, S, S)
    local px = (p:sum(2) * coords):sum(2)
    local py = (p:sum(3) * coords):sum(2)
    return lpose.stack({ px, py }, 2)
end

local function pixel_error(pred, truth)
    return (pred - truth):norm(2, 2):mean():item()
end

local test_images, test_xy = make_batch(1000)
local before = lpose.no_grad(function() return pixel_error(forward(test_images), test_xy) end)
local opt = lpose.optim.Adam(params, { lr = 0.01 })
for step = 1, opts.steps do
    local images, xy = make_batch(step * 2)
    local loss = (forward(images) - xy):square():mean()
    opt:zero_grad()
    loss:backward()
    opt:step()
    if step % 25 == 0 then print(('step %4d  loss %.3f'):format(step, loss:item())) end
end
local after = lpose.no_grad(function() return pixel_error(forward(test_images), test_xy) end)
print(('pixel error on held-out images: %.2f px before training, %.2f px after'):format(before, after))
