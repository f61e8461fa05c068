-- lpose.config.types: the schema's type strings (see schema.lua) parsed into
-- checkers, plus the wording errors use for types and values.
local tree = require('lpose.config.tree')

local M = {}
local NULL = tree.NULL

local cache = {}

-- Split at top-level '|' (not inside list<...>).
local function split_union(s)
    local parts, depth, start = {}, 0, 1
    for i = 1, #s do
        local c = s:sub(i, i)
        if c == '<' then depth = depth + 1
        elseif c == '>' then depth = depth - 1
        elseif c == '|' and depth == 0 then
            parts[#parts + 1] = s:sub(start, i - 1)
            start = i + 1
        end
    end
    parts[#parts + 1] = s:sub(start)
    return parts
end

-- 'string|list<int>?' -> {alts = {{kind='string'}, {kind='list', elem={...}}}, nullable = true}
function M.parse(s)
    if cache[s] then return cache[s] end
    local t = { nullable = false, alts = {} }
    local body = s
    if body:sub(-1) == '?' then t.nullable, body = true, body:sub(1, -2) end
    for _, part in ipairs(split_union(body)) do
        local inner = part:match('^list<(.*)>$')
        if inner then
            t.alts[#t.alts + 1] = { kind = 'list', elem = M.parse(inner) }
        else
            t.alts[#t.alts + 1] = { kind = part }
        end
    end
    cache[s] = t
    return t
end

local function is_int(v) return type(v) == 'number' and v == math.floor(v) and v > -math.huge and v < math.huge end

local check_type
local function check_alt(a, v)
    local k = a.kind
    if k == 'any' then return true end
    if k == 'int' then return is_int(v) end
    if k == 'float' or k == 'number' then return type(v) == 'number' end
    if k == 'bool' then return type(v) == 'boolean' end
    if k == 'string' then return type(v) == 'string' end
    if k == 'map' then return tree.is_map(v) end
    if k == 'list' then
        if not tree.is_list(v) then return false end
        for i = 1, #v do
            if not check_type(a.elem, v[i]) then return false end
        end
        return true
    end
    error('schema: unknown type ' .. tostring(k))
end

function check_type(t, v)
    if v == NULL then return t.nullable end
    for _, a in ipairs(t.alts) do
        if check_alt(a, v) then return true end
    end
    return false
end

-- true if v fits type string s.
function M.check(s, v) return check_type(M.parse(s), v) end

-- The alternative of s that v fits ('int', 'list', ...), for typed writing.
function M.kind_of(s, v)
    for _, a in ipairs(M.parse(s).alts) do
        if check_alt(a, v) then return a end
    end
end

local function describe_t(t)
    local out = {}
    for _, a in ipairs(t.alts) do
        if a.kind == 'list' then out[#out + 1] = 'list of ' .. describe_t(a.elem)
        elseif a.kind == 'map' then out[#out + 1] = 'mapping'
        else out[#out + 1] = a.kind end
    end
    if t.nullable then out[#out + 1] = 'null' end
    return table.concat(out, ' or ')
end

-- 'string or list of string or null'
function M.describe(s) return describe_t(M.parse(s)) end

-- A value as it would appear in YAML, short, for messages.
function M.show(v)
    if v == NULL or v == nil then return 'null' end
    if type(v) == 'string' then return ('%q'):format(v) end
    if type(v) == 'number' then return require('lpose.config.yaml').number(v) end
    if type(v) ~= 'table' then return tostring(v) end
    local parts = {}
    if tree.is_list(v) then
        for i = 1, math.min(#v, 8) do parts[i] = M.show(v[i]) end
        if #v > 8 then parts[#parts + 1] = '...' end
        return '[' .. table.concat(parts, ', ') .. ']'
    end
    for _, k in ipairs(tree.keys(v)) do
        if #parts == 4 then parts[#parts + 1] = '...' break end
        parts[#parts + 1] = tostring(k) .. ': ' .. M.show(v[k])
    end
    return '{' .. table.concat(parts, ', ') .. '}'
end

-- The YAML-ish type name of a value: int, float, bool, string, list, mapping, null.
function M.name(v)
    if v == NULL or v == nil then return 'null' end
    if type(v) == 'number' then return is_int(v) and 'int' or 'float' end
    if type(v) == 'boolean' then return 'bool' end
    if tree.is_list(v) then return 'list' end
    if type(v) == 'table' then return 'mapping' end
    return type(v)
end

M.is_int = is_int
return M
