-- lpose.cli.complete: tab completion for the REPL (lpose.lineedit calls
-- M.candidates from libedit when TAB is pressed).
--
--   lpose.ten<TAB>  -> lpose.tensor       x:vi<TAB> -> x:view(      pri<TAB> -> print(
--
-- The word before the cursor is a chain of names (`a.b.c`, `a.b:c`). The
-- chain before the last '.' or ':' is looked up from the globals, indexing
-- as Lua would (so lpose's lazy submodules load; nothing is called), and
-- the names of the value that start with the last part are the candidates:
-- table keys and those reached through __index tables (class methods), the
-- methods and fields of lpose's FFI boxes (lpose.box), string methods.
-- After ':' only functions count. Functions get a '(' appended.
local M = {}

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local
    nil not or repeat return then true until while]]):gmatch('%a+') do keywords[#keywords + 1] = w end

local function is_ident(k) return type(k) == 'string' and k:match('^[%a_][%w_]*$') ~= nil end

-- Is the end of `text` inside a string literal ('...' or "...")?
local function in_string(text)
    local quote, i = nil, 1
    while i <= #text do
        local c = text:sub(i, i)
        if quote then
            if c == '\\' then i = i + 1
            elseif c == quote then quote = nil end
        elseif c == '"' or c == "'" then
            quote = c
        elseif c == '-' and text:sub(i, i + 1) == '--' then
            return false -- a comment: nothing to complete, but not a string either
        end
        i = i + 1
    end
    return quote ~= nil
end
M.in_string = in_string

local function safe_index(v, k)
    local ok, r = pcall(function() return v[k] end)
    if ok then return r end
    return nil
end

-- The value of a chain of names `a.b.c` (no ':'), or nil.
local function resolve(chain, env)
    local v = env
    for part in chain:gmatch('[^%.]+') do
        if not is_ident(part) then return nil end
        local tv = type(v)
        if tv ~= 'table' and tv ~= 'cdata' and tv ~= 'userdata' and tv ~= 'string' then return nil end
        v = safe_index(v, part)
        if v == nil then return nil end
    end
    return v
end

-- name -> the value (or true when it must not be looked at) of everything
-- `v` answers to.
local function members(v)
    local out = {}
    local function add(k, val)
        if is_ident(k) and out[k] == nil then out[k] = val == nil and true or val end
    end
    local tv = type(v)
    if tv == 'cdata' then
        local ok, box = pcall(require, 'lpose.box')
        local spec = ok and box.kind_of(v)
        if spec then
            for k, f in pairs(spec.methods) do add(k, f) end
            for k in pairs(spec.fields or {}) do add(k, true) end
        end
        return out
    end
    if tv == 'string' then
        for k, f in pairs(string) do add(k, f) end
        return out
    end
    if tv ~= 'table' then return out end
    -- the table, then the __index tables behind it (classes), a few levels
    local t, seen = v, {}
    for _ = 1, 8 do
        if type(t) ~= 'table' or seen[t] then break end
        seen[t] = true
        for k, val in pairs(t) do add(k, val) end
        local mt = getmetatable(t)
        if type(mt) ~= 'table' then break end
        local lazy = rawget(mt, '__lazy') -- lpose's submodules, not loaded yet
        if type(lazy) == 'table' then for k in pairs(lazy) do add(k, true) end end
        t = rawget(mt, '__index')
    end
    return out
end

local function sorted(set)
    local list = {}
    for k in pairs(set) do list[#list + 1] = k end
    table.sort(list)
    return list
end

--- complete.candidates(word [, before [, env]]) -> {replacement, ...} | nil
-- word: the text before the cursor back to a space, quote or bracket
-- ("lpose.ten", "2*x:su"); the replacements keep what precedes the names;
-- before: the line before the word; env: the globals
-- (default _G). nil means "complete a file name" (the cursor is in a
-- string); {} means nothing fits.
function M.candidates(word, before, env)
    env = env or _G
    before = before or ''
    if in_string(before) then return nil end
    -- the chain of names at the end of the word: "a*lpose.ten" -> "a*", "lpose.ten"
    local head, chain = word:match('^(.-)([%a_][%w_%.:]*)$')
    if not head then
        if word ~= '' and not word:match('[^%w_%.:]$') then return {} end -- "1.5"
        head, chain = word, ''
    end
    if head:match('[%w_%.:]$') then return {} end -- "1e5x", "x[1].y"
    local base, sep, prefix = chain:match('^(.*)([%.:])([%w_]*)$')
    local names
    if not base then
        base, sep, prefix = '', '', chain
        names = members(env)
        for _, k in ipairs(keywords) do if names[k] == nil then names[k] = 'keyword' end end
    else
        if base == '' or base:find(':', 1, true) then return {} end
        local v = resolve(base, env)
        if v == nil then return {} end
        names = members(v)
    end
    local out = {}
    local hidden = prefix:sub(1, 1) ~= '_'
    for _, k in ipairs(sorted(names)) do
        if k:sub(1, #prefix) == prefix and not (hidden and k:sub(1, 1) == '_') then
            local val = names[k]
            local is_fn = type(val) == 'function'
            if sep ~= ':' or is_fn then
                out[#out + 1] = head .. base .. sep .. k .. (is_fn and '(' or '')
            end
        end
    end
    return out
end

return M
