-- lpose.train.plot: the loss-curve PNG written at the end of training
-- (loss_curves.png in the model directory): train supervised loss per step
-- (light) and its running mean, validation loss per check (dots), on a log
-- scale. Drawn into an RGB buffer here and saved with the engine's PNG
-- writer, so no plotting library is needed.
local ffi = require('ffi')
local lp = require('lpose.C')

local M = {}

local W, H, MARGIN = 640, 400, 40

local function canvas()
    local px = ffi.new('uint8_t[?]', W * H * 3)
    ffi.fill(px, W * H * 3, 255)
    return px
end

local function dot(px, x, y, r, g, b, size)
    size = size or 1
    for dy = -size + 1, size - 1 do
        for dx = -size + 1, size - 1 do
            local xx, yy = math.floor(x + dx), math.floor(y + dy)
            if xx >= 0 and xx < W and yy >= 0 and yy < H then
                local o = (yy * W + xx) * 3
                px[o], px[o + 1], px[o + 2] = r, g, b
            end
        end
    end
end

local function line(px, x0, y0, x1, y1, r, g, b)
    local n = math.max(math.abs(x1 - x0), math.abs(y1 - y0), 1)
    for i = 0, n do
        dot(px, x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n, r, g, b)
    end
end

--- plot.loss_curves(logger, path) -> true | nil, err
function M.loss_curves(logger, path)
    local train = logger:series('train_supervised_loss')
    local val = logger:series('val_supervised_loss')
    if #train == 0 then return nil, 'nothing logged' end
    local lo, hi, max_step = math.huge, -math.huge, 1
    for _, s in ipairs({ train, val }) do
        for _, p in ipairs(s) do
            if p.value > 0 then
                lo, hi = math.min(lo, p.value), math.max(hi, p.value)
            end
            max_step = math.max(max_step, p.step)
        end
    end
    if lo == math.huge then return nil, 'no positive losses' end
    if hi <= lo then hi = lo * 10 end
    local llo, lhi = math.log(lo), math.log(hi)
    local function xy(step, value)
        local x = MARGIN + (W - 2 * MARGIN) * step / max_step
        local y = H - MARGIN - (H - 2 * MARGIN) * (math.log(math.max(value, lo)) - llo) / (lhi - llo)
        return x, y
    end
    local px = canvas()
    line(px, MARGIN, H - MARGIN, W - MARGIN, H - MARGIN, 0, 0, 0) -- axes
    line(px, MARGIN, MARGIN, MARGIN, H - MARGIN, 0, 0, 0)
    for decade = math.ceil(llo / math.log(10)), math.floor(lhi / math.log(10)) do
        local _, y = xy(0, 10 ^ decade)
        line(px, MARGIN - 5, y, MARGIN, y, 0, 0, 0)            -- a tick per power of ten
    end
    for _, p in ipairs(train) do
        local x, y = xy(p.step, p.value)
        dot(px, x, y, 170, 200, 235)
    end
    local window, sum, prev = {}, 0, nil
    for _, p in ipairs(train) do                                 -- running mean of 20 steps
        window[#window + 1] = p.value
        sum = sum + p.value
        if #window > 20 then sum = sum - table.remove(window, 1) end
        local x, y = xy(p.step, sum / #window)
        if prev then line(px, prev[1], prev[2], x, y, 30, 90, 200) end
        prev = { x, y }
    end
    for _, p in ipairs(val) do
        local x, y = xy(p.step, p.value)
        dot(px, x, y, 220, 60, 40, 3)
    end
    if lp.lib.lp_image_write_png(path, px, W, H, 3, W * 3) ~= 0 then return nil, lp.last_error() end
    return true
end

return M
