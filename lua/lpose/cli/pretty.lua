-- lpose.cli.pretty: short, readable text for the values the REPL prints.
-- Tables are shown to a few levels and items, on one line when they fit;
-- anything with a __tostring (tensors, modules) prints through tostring.
-- lpose's own module tables print as a short summary (lpose.help.summary),
-- not as every function's address.
local M = {}

M.max_depth = 3  -- deeper tables print as {...}
M.max_items = 40 -- per table, then "... (N more)"
M.width = 78     -- a table shorter than this stays on one line

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local
    nil not or repeat return then true until while]]):gmatch('%a+') do keywords[w] = true end

local function quote(s)
    return (string.format('%q', s):gsub('\\\n', '\\n'))
end

local type_order = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return (type_order[ta] or 9) < (type_order[tb] or 9) end
    if ta == 'number' or ta == 'string' then return a < b end
    return tostring(a) < tostring(b)
end

-- Keys outside the array part 1..n, in a stable order.
local function hash_keys(t, n)
    local keys = {}
    for k in pairs(t) do
        if not (type(k) == 'number' and k >= 1 and k <= n and k % 1 == 0) then keys[#keys + 1] = k end
    end
    table.sort(keys, key_less)
    return keys
end

local show

-- The name of an lpose module table (package.loaded), or nil.
local function lpose_module(t)
    for name, mod in pairs(package.loaded) do
        if rawequal(mod, t) and type(name) == 'string' and (name == 'lpose' or name:match('^lpose%.')) then
            return name
        end
    end
    return nil
end

local function key_text(k, seen, depth)
    if type(k) == 'string' and k:match('^[%a_][%w_]*$') and not keywords[k] then return k end
    return '[' .. show(k, '', seen, depth) .. ']'
end

function show(v, indent, seen, depth)
    local tv = type(v)
    if tv == 'string' then return quote(v) end
    if tv ~= 'table' then return tostring(v) end -- cdata tensors use their __tostring
    local mt = getmetatable(v)
    if type(mt) == 'table' and mt.__tostring then return tostring(v) end
    local module = lpose_module(v)
    if module then
        if depth == 0 then
            local ok, help = pcall(require, 'lpose.help')
            if ok then return help.summary(v, module) end
        end
        return '<module ' .. module .. '>'
    end
    if seen[v] then return '<cycle ' .. tostring(v) .. '>' end
    if next(v) == nil then return '{}' end
    if depth >= M.max_depth then return '{...}' end
    seen[v] = true
    local inner = indent .. '  '
    local items, n = {}, #v
    local keys = hash_keys(v, n)
    local total = n + #keys
    for i = 1, math.min(n, M.max_items) do
        items[#items + 1] = show(v[i], inner, seen, depth + 1)
    end
    for _, k in ipairs(keys) do
        if #items >= M.max_items then break end
        items[#items + 1] = key_text(k, seen, depth + 1) .. ' = ' .. show(v[k], inner, seen, depth + 1)
    end
    if total > #items then items[#items + 1] = '... (' .. (total - #items) .. ' more)' end
    seen[v] = nil
    local line = '{ ' .. table.concat(items, ', ') .. ' }'
    if #indent + #line <= M.width and not line:find('\n') then return line end
    return '{\n' .. inner .. table.concat(items, ',\n' .. inner) .. '\n' .. indent .. '}'
end

-- Text for one value. Top-level strings print raw, as print() would.
function M.show(v)
    if type(v) == 'string' then return v end
    return show(v, '', {}, 0)
end

return M
