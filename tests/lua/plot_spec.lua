-- lpose.plot and loss_curves.png: PNGs read back with the engine's image
-- reader (lpose.data.read_image_rgb): size, not blank, data where the axes say,
-- and the argument errors a script writer meets.
local lpose = require('lpose')
local plot = require('lpose.plot')
local data = require('lpose.data')
local train_plot = require('lpose.train.plot')
local support = dofile('tests/lua/support.lua')

local tmp = support.mktemp('plot')

-- Pixels of an H W 3 u8 image tensor for which pred(r, g, b) holds, in a box.
local function count(img, pred, x0, y0, x1, y1)
    local t = img:totable()
    local n = 0
    for y = y0 or 1, y1 or #t do
        for x = x0 or 1, x1 or #t[1] do
            local p = t[y][x]
            if pred(p[1], p[2], p[3]) then n = n + 1 end
        end
    end
    return n
end
local function not_white(r, g, b) return r < 240 or g < 240 or b < 240 end

describe('lpose.plot.line', function()
    it('takes tensors and lists, writes a PNG of the asked size that is not blank', function()
        local path = tmp .. '/line.png'
        local x = lpose.linspace(0, 10, 50)
        assert.are.equal(path, plot.line{ path = path, title = 'sin', xlabel = 'time (s)', ylabel = 'value',
            width = 500, height = 300,
            series = { { label = 'sin', x = x, y = x:sin() },
                       { label = 'list', y = { 1, 0, 1 }, style = 'markers' } } })
        local img = assert(data.read_image_rgb(path))
        assert.are.same({ 300, 500, 3 }, img:size())
        assert.is_true(count(img, not_white) > 1000)
    end)

    it('puts a constant series on the row its y value maps to', function()
        local path = tmp .. '/const.png'
        plot.line{ path = path, width = 400, height = 300, xlim = { 0, 1 }, ylim = { 0, 4 },
            series = { { label = 'three', x = { 0, 1 }, y = { 3, 3 }, color = 0x00c000 } } }
        local img = assert(data.read_image_rgb(path)):totable()
        -- the green rows in the middle column; the plotting area spans y 0..4, so the
        -- line is a quarter of the way down from the top of the area, whose top and
        -- bottom are the frame's rows: dark across the whole middle (text is not)
        local col = 200
        local frame, green = {}, {}
        for y = 1, #img do
            local all_dark = true
            for x = 150, 250 do
                local p = img[y][x]
                if not (p[1] < 60 and p[2] < 60 and p[3] < 60) then all_dark = false; break end
            end
            if all_dark then frame[#frame + 1] = y end
            local p = img[y][col]
            if p[2] > 150 and p[1] < 100 and p[3] < 100 then green[#green + 1] = y end
        end
        assert.are.equal(2, #frame)
        assert.is_true(#green >= 1)
        local top, bottom = frame[1], frame[#frame]
        local mean = 0
        for _, y in ipairs(green) do mean = mean + y end
        mean = mean / #green
        -- a 1.6 px line, anti-aliased, on a frame drawn at whole pixels: 1.5 px slack
        assert.is_true(math.abs(mean - (top + (bottom - top) * 0.25)) <= 1.5,
            ('line at row %.2f, frame %d..%d'):format(mean, top, bottom))
    end)

    it('raises for empty series, mismatched lengths and missing paths', function()
        local ok, err = pcall(plot.line, { path = tmp .. '/e.png', series = { { label = 'e', y = {} } } })
        assert.is_false(ok)
        assert.truthy(err:find("series 'e' is empty", 1, true))
        ok, err = pcall(plot.line, { path = tmp .. '/m.png', series = { { label = 'm', x = { 1, 2 }, y = { 1 } } } })
        assert.is_false(ok)
        assert.truthy(err:find("series 'm': x has 2 values but y has 1", 1, true))
        ok, err = pcall(plot.line, { series = { { y = { 1 } } } })
        assert.is_false(ok)
        assert.truthy(err:find('lpose.plot.line: path', 1, true))
        ok, err = pcall(plot.line, { path = tmp .. '/n.png', series = {} })
        assert.is_false(ok)
        assert.truthy(err:find('series must be a non-empty list', 1, true))
    end)

    it('returns nil, err naming the path when the file cannot be written', function()
        local res, err = plot.line{ path = tmp .. '/no/such/dir/x.png', series = { { y = { 1, 2 } } } }
        assert.is_nil(res)
        assert.truthy(err:find(tmp .. '/no/such/dir/x.png', 1, true))
    end)
end)

describe('lpose.plot.image', function()
    it('draws a frame tensor with keypoint sets and a legend', function()
        local path = tmp .. '/frame.png'
        local img = lpose.full({ 60, 80, 3 }, 100, { dtype = 'u8' })
        plot.image{ path = path, image = img, title = 'gt vs prediction', names = { 'nose', 'tail' },
            skeleton = { { 'nose', 'tail' } }, scale = 4,
            keypoints = { { label = 'ground truth', xy = { { 10, 10 }, { 50, 40 } } },
                          { label = 'prediction', xy = lpose.tensor{ { 12, 11 }, { 52, 38 } },
                            confidence = { 0.95, 0.2 } } } }
        local out = assert(data.read_image_rgb(path))
        assert.is_true(out:size(1) > 240 and out:size(2) > 320) -- 4 x (60, 80), a title, a legend
        -- the legend panel (right of the image) holds light text
        assert.is_true(count(out, function(r, g, b) return r > 200 and g > 200 and b > 200 end,
            322, 1, out:size(2), out:size(1)) > 50)
    end)

    it('colour-maps a heatmap', function()
        local path = tmp .. '/heatmap.png'
        local hm = lpose.zeros(16, 16)
        plot.image{ path = path, heatmap = hm, scale = 8 }
        local out = assert(data.read_image_rgb(path))
        assert.is_true(out:size(1) > 128 and out:size(2) > 128) -- 8 x 16, a title, a legend
        -- all zeros map to viridis' low end (0x440154) inside the image
        local p = out:totable()[out:size(1) - 10][10]
        assert.are.same({ 0x44, 0x01, 0x54 }, p)
    end)

    it('raises for an unknown skeleton name, naming it', function()
        local ok, err = pcall(plot.image, { path = tmp .. '/s.png', image = lpose.zeros({ 8, 8, 3 }, { dtype = 'u8' }),
            names = { 'nose', 'tail' }, skeleton = { { 'nose', 'paw' } },
            keypoints = { { xy = { { 1, 1 }, { 2, 2 } } } } })
        assert.is_false(ok)
        assert.truthy(err:find("skeleton[1]: unknown keypoint 'paw'", 1, true))
    end)

    it('returns nil, err for an image file that does not exist', function()
        local res, err = plot.image{ path = tmp .. '/x.png', image = tmp .. '/missing.png' }
        assert.is_nil(res)
        assert.truthy(err:find('missing.png', 1, true))
    end)
end)

describe('loss_curves.png', function()
    -- a metrics.csv as the logger writes it: supervised and unsupervised, train and val
    local csv = tmp .. '/metrics.csv'
    local lines = { 'step,epoch,stage,name,value' }
    for step = 1, 40 do
        local epoch = math.floor((step - 1) / 10)
        local sup = 0.5 * 0.9 ^ step
        lines[#lines + 1] = ('%d,%d,train,train_supervised_loss,%.9g'):format(step, epoch, sup)
        lines[#lines + 1] = ('%d,%d,train,train_temporal_loss,%.9g'):format(step, epoch, step % 3)
        lines[#lines + 1] = ('%d,%d,train,lr-Adam/head,0.001'):format(step, epoch)
        lines[#lines + 1] = ('%d,%d,train,train_supervised_rmse,%.9g'):format(step, epoch, 20 * 0.95 ^ step)
        if step % 10 == 0 then
            lines[#lines + 1] = ('%d,%d,val,val_supervised_loss,%.9g'):format(step, epoch, sup * 1.5)
        end
    end
    support.write(csv, table.concat(lines, '\n') .. '\n')

    it('reads every series and the first step of each epoch', function()
        local series, starts = assert(train_plot.read_metrics(csv))
        assert.are.equal(40, #series.train_supervised_loss.values)
        assert.are.equal(4, #series.val_supervised_loss.values)
        assert.are.same({ epoch = 3, step = 31 }, starts[4])
    end)

    it('draws one panel per loss family (3 here) in a PNG of the expected size', function()
        local png = tmp .. '/loss_curves.png'
        assert.are.equal(png, train_plot.loss_curves_from_csv(csv, png))
        local img = assert(data.read_image_rgb(png))
        assert.are.same({ 40 + 340 * 3, 1100, 3 }, img:size())
        assert.is_true(count(img, not_white) > 5000)
    end)

    it('returns nil, err for a file without losses', function()
        local empty = tmp .. '/empty.csv'
        support.write(empty, 'step,epoch,stage,name,value\n1,0,train,lr-Adam/head,0.001\n')
        local res, err = train_plot.loss_curves_from_csv(empty, tmp .. '/none.png')
        assert.is_nil(res)
        assert.truthy(err:find('no losses logged', 1, true))
    end)
end)
