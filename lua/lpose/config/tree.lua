-- lpose.config.tree: the in-memory form of a config. Lua tables cannot hold
-- nil, yet LP distinguishes "key: null" from "no key" (step-mode configs
-- delete the epoch keys), so internally a null is the NULL sentinel and lists
-- carry the LIST metatable (an empty [] and {} must stay distinct for save).
local M = {}

M.NULL = setmetatable({}, { __tostring = function() return 'null' end, __name = 'lpose.config.null' })
M.LIST = { __name = 'lpose.config.list' }
local NULLS_KEY = '__lpose_nulls'

-- Key order of maps read from YAML or overrides (weak keys): LP runs a custom
-- training.imgaug mapping in file order, and save should not reshuffle it.
M.ORDER = setmetatable({}, { __mode = 'k' })

-- Record `keys` as the order of map t; returns t.
function M.ordered(t, keys)
    M.ORDER[t] = keys
    return t
end

local function carry_order(from, to)
    if M.ORDER[from] then
        local ks = {}
        for i, k in ipairs(M.ORDER[from]) do ks[i] = k end
        M.ORDER[to] = ks
    end
    return to
end

function M.list(t) return setmetatable(t or {}, M.LIST) end

function M.is_list(v) return type(v) == 'table' and getmetatable(v) == M.LIST end
function M.is_map(v) return type(v) == 'table' and v ~= M.NULL and getmetatable(v) ~= M.LIST end

-- Plain Lua input (from_table, .lua configs): a table whose keys are exactly
-- 1..n is a list; {} stays a map unless the schema later says list.
local function looks_like_list(t)
    local n = 0
    for k in pairs(t) do
        if type(k) ~= 'number' then return false end
        n = n + 1
    end
    return n > 0 and n == #t
end

-- Deep copy into the internal form; `null` is any value to read as null
-- (the public lpose.config.null, lyaml.null, cjson.null).
function M.import(v, is_null)
    if v == M.NULL or (is_null and is_null(v)) then return M.NULL end
    if type(v) ~= 'table' then return v end
    local mt = getmetatable(v)
    local out = {}
    for k, x in pairs(v) do out[k] = M.import(x, is_null) end
    if mt == M.LIST or (mt == nil and looks_like_list(v)) then return M.list(out) end
    if mt and rawget(mt, NULLS_KEY) then -- an exported map: put its nulls back
        for k in pairs(mt[NULLS_KEY]) do
            if out[k] == nil then out[k] = M.NULL end
        end
    end
    return carry_order(v, out)
end

-- The public form: a null map value becomes an absent key recorded in the
-- map's metatable (so `if cfg.model.checkpoint then` reads naturally, yet
-- save and is_null still see it). Nulls inside lists stay M.NULL.
function M.export(v)
    if type(v) ~= 'table' or v == M.NULL then return v end
    local out, nulls = {}, nil
    for k, x in pairs(v) do
        if x == M.NULL and not M.is_list(v) then
            nulls = nulls or {}
            nulls[k] = true
        else
            out[k] = M.export(x)
        end
    end
    if M.is_list(v) then return M.list(out) end
    if nulls then setmetatable(out, { [NULLS_KEY] = nulls, __name = 'lpose.config.section' }) end
    return carry_order(v, out)
end

-- Null keys recorded on an exported map (a set), or nil.
function M.nulls_of(t)
    local mt = getmetatable(t)
    return mt and mt ~= M.LIST and rawget(mt, NULLS_KEY) or nil
end

function M.copy(v) return M.import(v) end

-- Split 'a.b.c' into {'a','b','c'}.
function M.split(path)
    local parts = {}
    for p in (path .. '.'):gmatch('([^.]*)%.') do parts[#parts + 1] = p end
    return parts
end

-- Value at a dotted path, or nil when any step is missing (NULL is returned as is).
function M.get(t, path)
    local cur = t
    for _, p in ipairs(type(path) == 'table' and path or M.split(path)) do
        if not M.is_map(cur) and not M.is_list(cur) then return nil end
        if M.is_list(cur) then p = tonumber(p) and tonumber(p) + 1 or p end
        cur = cur[p]
        if cur == nil then return nil end
    end
    return cur
end

-- Set a dotted path, creating maps on the way (value nil deletes the key).
function M.set(t, path, value)
    local parts = type(path) == 'table' and path or M.split(path)
    local cur = t
    for i = 1, #parts - 1 do
        local nxt = cur[parts[i]]
        if nxt == nil or nxt == M.NULL then
            nxt = {}
            cur[parts[i]] = nxt
        elseif not M.is_map(nxt) then
            error(('%s is not a section'):format(table.concat(parts, '.', 1, i)), 0)
        end
        cur = nxt
    end
    cur[parts[#parts]] = value
end

-- Merge `over` into `base` in place: maps merge key by key, anything else
-- (lists included, as in OmegaConf) replaces.
function M.merge(base, over)
    for k, v in pairs(over) do
        if M.is_map(v) and M.is_map(base[k]) then
            M.merge(base[k], v)
        else
            if base[k] == nil and M.ORDER[base] then table.insert(M.ORDER[base], k) end
            base[k] = M.copy(v)
        end
    end
    return base
end

-- Keys of a map: in recorded order when known, then the rest sorted.
function M.keys(t)
    local ks, seen = {}, {}
    for _, k in ipairs(M.ORDER[t] or {}) do
        if t[k] ~= nil and not seen[k] then ks[#ks + 1] = k seen[k] = true end
    end
    local rest = {}
    for k in pairs(t) do
        if not seen[k] then rest[#rest + 1] = k end
    end
    table.sort(rest, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(rest) do ks[#ks + 1] = k end
    return ks
end

return M
