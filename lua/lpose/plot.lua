-- lpose.plot: figures from scripts and the REPL, drawn by the engine with
-- cairo + pango (engine/src/plot/; docs/reference/lua/plot.md).
--
--   lpose.plot.line{path = 'loss.png', title = 'Loss', xlabel = 'step', ylabel = 'loss',
--                   log_y = true, series = {{label = 'train', x = steps, y = losses}}}
--   lpose.plot.image{path = 'frame.png', image = 'frame.png', names = {'nose', 'tail'},
--                    keypoints = {{label = 'ground truth', xy = {{10, 20}, {30, 40}}}}}
--
-- Wrong arguments raise; a file that cannot be written returns nil, err.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')

local C = lp.lib
local argerror = lp.argerror

local M = {}

M.styles = { line = C.LP_PLOT_LINE, markers = C.LP_PLOT_MARKERS, ['line+markers'] = C.LP_PLOT_LINE_MARKERS }

-- A flat list of numbers from a Lua list or a tensor (any dtype/device).
local function numbers(fname, what, v)
    if tensor.is_tensor(v) then
        local f = v:to('f64'):to('cpu'):contiguous()
        local n = f:numel()
        local buf = ffi.new('double[?]', math.max(n, 1))
        lp.check(C.lp_tensor_to_buffer(tensor.handle(f, fname), buf, n * 8))
        return buf, n, v:size()
    end
    if type(v) ~= 'table' then argerror(fname, what .. ' must be a list of numbers or a tensor') end
    local n = #v
    local buf = ffi.new('double[?]', math.max(n, 1))
    for i = 1, n do
        local x = v[i]
        if type(x) ~= 'number' then argerror(fname, ('%s[%d] is not a number'):format(what, i)) end
        buf[i - 1] = x
    end
    return buf, n, { n }
end

local function check_path(fname, path)
    if type(path) ~= 'string' or path == '' then argerror(fname, 'path must be a file name (.png)') end
end

local function flags_of(p)
    return (p.log_x and C.LP_PLOT_LOG_X or 0) + (p.log_y and C.LP_PLOT_LOG_Y or 0)
end

local function add_panel(fname, fig, index, p)
    if type(p.series) ~= 'table' or #p.series == 0 then
        argerror(fname, ('panel %d: series must be a non-empty list of {x=, y=, label=}'):format(index + 1))
    end
    lp.check(C.lp_plot_axes(fig, index, p.title or '', p.xlabel or '', p.ylabel or '', flags_of(p)))
    if p.xlim or p.ylim then
        local xl, yl = p.xlim, p.ylim
        if not (xl and yl) then argerror(fname, 'give both xlim and ylim ({lo, hi}) or neither') end
        lp.check(C.lp_plot_limits(fig, index, xl[1], xl[2], yl[1], yl[2]))
    end
    for i, s in ipairs(p.series) do
        local label = s.label or ('series ' .. i)
        if s.y == nil then argerror(fname, ("series '%s' has no y"):format(label)) end
        local y, ny = numbers(fname, label .. '.y', s.y)
        local x, nx
        if s.x ~= nil then
            x, nx = numbers(fname, label .. '.x', s.x)
        else
            nx = ny
            x = ffi.new('double[?]', math.max(ny, 1))
            for j = 0, ny - 1 do x[j] = j + 1 end
        end
        if nx ~= ny then
            argerror(fname, ("series '%s': x has %d values but y has %d"):format(label, nx, ny))
        end
        if ny == 0 then argerror(fname, ("series '%s' is empty"):format(label)) end
        local style = M.styles[s.style or 'line']
        if not style then
            argerror(fname, ("series '%s': style must be line, markers or line+markers"):format(label))
        end
        lp.check(C.lp_plot_series(fig, index, label, x, y, ny, style, s.color or -1))
    end
    local top = p.top_axis
    if top then
        local xs, n = numbers(fname, 'top_axis.x', top.x or {})
        if type(top.labels) ~= 'table' or #top.labels ~= n or n == 0 then
            argerror(fname, 'top_axis needs x and as many labels')
        end
        local labels = ffi.new('const char*[?]', n)
        local keep = {}
        for i = 1, n do
            keep[i] = tostring(top.labels[i])
            labels[i - 1] = keep[i]
        end
        lp.check(C.lp_plot_top_axis(fig, index, top.label or '', xs, labels, n))
    end
end

--- lpose.plot.line{path=, series=, title=, xlabel=, ylabel=, log_x=, log_y=, xlim=, ylim=,
---                 top_axis=, panels=, cols=, width=, height=} -> path | nil, err
-- series: list of {x=, y=, label=, style='line'|'markers'|'line+markers', color=0xRRGGBB}
-- (x, y: Lua lists or tensors; x defaults to 1..n). panels: a list of tables with the
-- panel keys above (series, title, ...) for several panels in one PNG, in rows of
-- `cols` (1); `title` is then the figure's. top_axis = {label=, x=, labels=}: a second
-- x axis (e.g. the step where each epoch starts, labelled with the epoch).
function M.line(o)
    local fname = 'lpose.plot.line'
    if type(o) ~= 'table' then argerror(fname, 'expected a table of options') end
    check_path(fname, o.path)
    local panels = o.panels or { o }
    if type(panels) ~= 'table' or #panels == 0 then argerror(fname, 'panels must be a non-empty list') end
    local cols = o.cols or 1
    local rows = math.ceil(#panels / cols)
    local width = o.width or (cols > 1 and 700 * cols or 900)
    local height = o.height or (#panels > 1 and 330 * rows + 40 or 520)
    local out = ffi.new('lp_plot*[1]')
    lp.check(C.lp_plot_new(width, height, rows, cols, o.panels and (o.title or '') or '', out))
    local fig = ffi.gc(out[0], C.lp_plot_free)
    for i, p in ipairs(panels) do add_panel(fname, fig, i - 1, p) end
    local st = C.lp_plot_save_png(fig, o.path)
    C.lp_plot_free(ffi.gc(fig, nil))
    if st == C.LP_STATUS_BAD_ARG then lp.check(st) end
    if st ~= 0 then return nil, lp.last_error() end
    return o.path
end

-- The image as a u8 RGB buffer: a tensor H W 3 (u8), a 2-D heatmap tensor
-- (colour-mapped) or an image file.
local function image_pixels(fname, o)
    local t = o.image
    if o.heatmap ~= nil then
        if not tensor.is_tensor(o.heatmap) or o.heatmap:dim() ~= 2 then
            argerror(fname, 'heatmap must be a 2-D tensor (height width)')
        end
        local v = o.heatmap:to('f32'):to('cpu'):contiguous()
        local h, w = v:size(1), v:size(2)
        local vals = ffi.new('float[?]', h * w)
        lp.check(C.lp_tensor_to_buffer(tensor.handle(v, fname), vals, h * w * 4))
        local lo, hi = o.vmin, o.vmax
        if lo == nil or hi == nil then
            local a, b = math.huge, -math.huge
            for i = 0, h * w - 1 do
                local x = vals[i]
                if x == x then a, b = math.min(a, x), math.max(b, x) end
            end
            if a == math.huge then a, b = 0, 0 end
            lo, hi = lo or a, hi or b
        end
        local rgb = ffi.new('uint8_t[?]', h * w * 3)
        lp.check(C.lp_plot_colormap(vals, h * w, lo, hi, rgb))
        return rgb, h, w, ('values %.3g to %.3g, viridis: dark low, yellow high'):format(lo, hi)
    end
    if type(t) == 'string' then
        local out = ffi.new('lp_tensor*[1]')
        if C.lp_image_read_rgb(t, out) ~= 0 then return nil, lp.last_error() end
        t = tensor.wrap(out[0])
    end
    if not tensor.is_tensor(t) or t:dim() ~= 3 or t:size(3) ~= 3 then
        argerror(fname, 'image must be an image path or a height width 3 tensor (u8 RGB)')
    end
    local u8 = t:to('u8'):to('cpu'):contiguous()
    local h, w = t:size(1), t:size(2)
    local rgb = ffi.new('uint8_t[?]', h * w * 3)
    lp.check(C.lp_tensor_to_buffer(tensor.handle(u8, fname), rgb, h * w * 3))
    return rgb, h, w
end

-- K (x, y) pairs from {{x, y}, ...} or a K 2 tensor.
local function keypoint_xy(fname, label, xy, K)
    if tensor.is_tensor(xy) then
        local buf, n = numbers(fname, label .. '.xy', xy)
        if n ~= 2 * K then
            argerror(fname, ("keypoints '%s': xy has %d values, expected %d (K 2)"):format(label, n, 2 * K))
        end
        return buf
    end
    if type(xy) ~= 'table' or #xy ~= K then
        argerror(fname, ("keypoints '%s': xy must list %d {x, y} pairs"):format(label, K))
    end
    local buf = ffi.new('double[?]', 2 * K)
    for k = 1, K do
        local p = xy[k]
        if type(p) ~= 'table' then argerror(fname, ("keypoints '%s': xy[%d] is not {x, y}"):format(label, k)) end
        buf[2 * k - 2] = tonumber(p[1]) or 0 / 0
        buf[2 * k - 1] = tonumber(p[2]) or 0 / 0
    end
    return buf
end

-- Skeleton pairs of names -> int32 indices; an unknown name is an error naming it.
local function skeleton_indices(fname, skeleton, names)
    local index = {}
    for i, n in ipairs(names) do index[n] = i - 1 end
    local edges = ffi.new('int32_t[?]', math.max(2 * #skeleton, 1))
    for e, pair in ipairs(skeleton) do
        if type(pair) ~= 'table' or #pair ~= 2 then argerror(fname, ('skeleton[%d] must be {name, name}'):format(e)) end
        for j = 1, 2 do
            local i = index[pair[j]]
            if not i then argerror(fname, ("skeleton[%d]: unknown keypoint '%s'"):format(e, tostring(pair[j]))) end
            edges[2 * (e - 1) + j - 1] = i
        end
    end
    return edges, #skeleton
end

--- lpose.plot.image{path=, image=|heatmap=, keypoints=, names=, skeleton=,
---                  confidence_thresh=0.9, title=, scale=, vmin=, vmax=} -> path | nil, err
-- image: a height width 3 u8 tensor or an image file; heatmap: a 2-D tensor,
-- colour-mapped (viridis over vmin..vmax, default its range). keypoints: a list of
-- sets {label=, xy={{x, y}, ...} or a K 2 tensor, confidence={...} or a K tensor},
-- each drawn with its own marker shape (circle, square, triangle, X); names: the K
-- keypoint names of the legend; skeleton: {{name, name}, ...} lines. Markers whose
-- confidence is below confidence_thresh are hollow, as the legend says.
function M.image(o)
    local fname = 'lpose.plot.image'
    if type(o) ~= 'table' then argerror(fname, 'expected a table of options') end
    check_path(fname, o.path)
    if (o.image == nil) == (o.heatmap == nil) then argerror(fname, 'give one of image= or heatmap=') end
    local rgb, h, w, note = image_pixels(fname, o)
    if not rgb then return nil, h end
    local sets = o.keypoints or {}
    if type(sets) ~= 'table' then argerror(fname, 'keypoints must be a list of {label=, xy=}') end
    local names = o.names
    local K = 0
    if #sets > 0 then
        local first = sets[1].xy
        K = tensor.is_tensor(first) and first:size(1) or (type(first) == 'table' and #first or 0)
    end
    if names == nil then
        names = {}
        for k = 1, K do names[k] = 'keypoint ' .. k end
    end
    if type(names) ~= 'table' then argerror(fname, 'names must be a list of keypoint names') end
    if #sets > 0 and #names ~= K then
        argerror(fname, ('%d names but the keypoints have %d points'):format(#names, K))
    end
    K = #names
    local keep = {}
    local c_names = ffi.new('const char*[?]', math.max(K, 1))
    for k = 1, K do
        keep[#keep + 1] = tostring(names[k])
        c_names[k - 1] = keep[#keep]
    end
    local c_sets = ffi.new('lp_plot_keypoints[?]', math.max(#sets, 1))
    for s, set in ipairs(sets) do
        local label = set.label or ('set ' .. s)
        keep[#keep + 1] = label
        c_sets[s - 1].label = label
        local xy = keypoint_xy(fname, label, set.xy, K)
        keep[#keep + 1] = xy
        c_sets[s - 1].xy = xy
        if set.confidence ~= nil then
            local conf, n = numbers(fname, label .. '.confidence', set.confidence)
            if n ~= K then argerror(fname, ("keypoints '%s': %d confidences for %d keypoints"):format(label, n, K)) end
            keep[#keep + 1] = conf
            c_sets[s - 1].confidence = conf
        end
    end
    local opts = ffi.new('lp_plot_image_options[1]')
    local title = o.title
    if note then title = title and (title .. ' (' .. note .. ')') or ('heatmap: ' .. note) end
    opts[0].title = title
    opts[0].keypoint_names = c_names
    opts[0].n_keypoints = K
    opts[0].sets = c_sets
    opts[0].n_sets = #sets
    if o.skeleton ~= nil then
        local edges, n = skeleton_indices(fname, o.skeleton, names)
        keep[#keep + 1] = edges
        opts[0].skeleton, opts[0].n_edges = edges, n
    end
    opts[0].confidence_thresh = o.confidence_thresh or require('lpose.config').default('eval.confidence_thresh_for_vid')
    opts[0].scale = o.scale or 0
    local st = C.lp_plot_image_png(rgb, h, w, w * 3, opts, o.path)
    if st == C.LP_STATUS_BAD_ARG then lp.check(st) end
    if st ~= 0 then return nil, lp.last_error() end
    return o.path
end

return M
