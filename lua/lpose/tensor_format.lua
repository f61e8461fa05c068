-- lpose.tensor_format: tostring(tensor). Prints a header line with shape,
-- dtype and device, then the values, summarised PyTorch-style (first and
-- last `edgeitems` of each long dim, "...") once numel passes `threshold`.
local M = {}

local function shape_string(shape)
    return '(' .. table.concat(shape, ', ') .. (#shape == 1 and ',' or '') .. ')'
end

-- Indices (1-based) kept along a dim of length n.
local function kept(n, summarise, edge)
    local idx = {}
    if summarise and n > 2 * edge then
        for i = 1, edge do idx[#idx + 1] = i end
        idx[#idx + 1] = false -- the "..." marker
        for i = n - edge + 1, n do idx[#idx + 1] = i end
    else
        for i = 1, n do idx[#idx + 1] = i end
    end
    return idx
end

local function number_formatter(values, dtype, precision)
    if dtype == 'bool' then
        return function(v) return v ~= 0 and 'true' or 'false' end
    end
    if dtype:match('^[iu]') then
        return function(v) return string.format('%d', v) end
    end
    local maxabs, minabs, all_int = 0, math.huge, true
    for _, v in ipairs(values) do
        if v == v and v ~= math.huge and v ~= -math.huge then
            local a = math.abs(v)
            if a > maxabs then maxabs = a end
            if a > 0 and a < minabs then minabs = a end
            if v ~= math.floor(v) then all_int = false end
        end
    end
    local sci = maxabs >= 1e8 or (minabs < 1e-4 and minabs ~= math.huge)
    local fmt = sci and ('%.' .. precision .. 'e') or (all_int and '%.0f.' or ('%.' .. precision .. 'f'))
    return function(v)
        if v ~= v then return 'nan' end
        if v == math.huge then return 'inf' end
        if v == -math.huge then return '-inf' end
        return string.format(fmt, v)
    end
end

function M.tostring(t, tensor, opts)
    local shape = t:size()
    local header = string.format('tensor(shape=%s, dtype=%s, device=%s%s)', shape_string(shape),
        t:dtype(), t:device(), t:requires_grad() and ', requires_grad' or '')
    local numel = t:numel()
    if numel == 0 then return header .. '\n[]' end
    local summarise = numel > opts.threshold

    -- Gather only the printed elements: index_select each long dim down.
    local small = t:detach()
    local kept_per_dim = {}
    for d = 1, #shape do
        local idx = kept(shape[d], summarise, opts.edgeitems)
        kept_per_dim[d] = idx
        if #idx < shape[d] then
            local sel = {}
            for _, i in ipairs(idx) do if i then sel[#sel + 1] = i end end
            local next_small = small:index_select(d, sel)
            small:free()
            small = next_small
        end
    end
    local values = small:totable()
    local flat = {}
    local function collect(v)
        if type(v) == 'table' then for _, x in ipairs(v) do collect(x) end
        else flat[#flat + 1] = type(v) == 'boolean' and (v and 1 or 0) or v end
    end
    collect(values)
    small:free()
    local fmt = number_formatter(flat, t:dtype(), opts.precision)
    local width = 0
    for _, v in ipairs(flat) do width = math.max(width, #fmt(v)) end

    local function render(node, depth, indent)
        if type(node) ~= 'table' then
            local s = fmt(type(node) == 'boolean' and (node and 1 or 0) or node)
            return string.rep(' ', width - #s) .. s
        end
        local parts, pos = {}, 1
        for _, i in ipairs(kept_per_dim[depth]) do
            if i then
                parts[#parts + 1] = render(node[pos], depth + 1, indent .. ' ')
                pos = pos + 1
            else
                parts[#parts + 1] = '...'
            end
        end
        if depth == #shape then return '[' .. table.concat(parts, ', ') .. ']' end
        local sep = ',\n' .. string.rep('\n', #shape - depth - 1) .. indent .. ' '
        return '[' .. table.concat(parts, sep) .. ']'
    end
    if #shape == 0 then return header .. '\n' .. fmt(flat[1]) end
    return header .. '\n' .. render(values, 1, '')
end

return M
