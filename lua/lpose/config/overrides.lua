-- lpose.config.overrides: command-line overrides in Hydra's grammar
-- (docs/spec/lp-data-train.md §4.11):
--   key=value    set an existing key        +key=value   add a key that is absent
--   ++key=value  set or add                 ~key  ~key=value   delete (if equal)
-- Values: int, float, true/false, null (case-insensitive, as Hydra), quoted
-- '...' / "..." strings, lists [a, [b, c]], dicts {a: 1}, and unquoted text
-- (which may hold ${...}). A value is then typed by the schema of its key,
-- or by the value it replaces: model.model_name=123 is the string "123".
local tree = require('lpose.config.tree')
local types = require('lpose.config.types')

local M = {}
local NULL = tree.NULL

-- ---------------------------------------------------------------- parsing

-- A parsed value node: {prim = value, raw = text, quoted = bool} | {list = {...}} | {dict = {k = node}}.
local function primitive(raw)
    local s = raw:match('^%s*(.-)%s*$')
    local l = s:lower()
    if l == 'null' then return NULL end
    if l == 'true' then return true elseif l == 'false' then return false end
    local t = s:gsub('_', '')
    if t:match('^[-+]?%d+$') then return tonumber(t) end
    if t:match('^[-+]?%d+%.%d*$') or t:match('^[-+]?%.%d+$') or t:match('^[-+]?%d*%.?%d+[eE][-+]?%d+$')
        or t:match('^[-+]?%d+%.%d*[eE][-+]?%d+$') then
        return tonumber(t)
    end
    if l == 'inf' or l == '+inf' then return math.huge elseif l == '-inf' then return -math.huge end
    if l == 'nan' then return 0 / 0 end
    return s
end

local function parser(text)
    local pos = 1
    local function fail(msg) error({ override = msg .. (' at character %d of the value'):format(pos) }, 0) end
    local function ws() pos = text:find('[^ \t]', pos) or #text + 1 end
    local value
    local function quoted()
        local q = text:sub(pos, pos)
        local buf = {}
        pos = pos + 1
        while true do
            local c = text:sub(pos, pos)
            if c == '' then fail('unterminated ' .. q .. ' string') end
            if c == '\\' and (text:sub(pos + 1, pos + 1) == q or text:sub(pos + 1, pos + 1) == '\\') then
                buf[#buf + 1] = text:sub(pos + 1, pos + 1)
                pos = pos + 2
            elseif c == q then
                pos = pos + 1
                break
            else
                buf[#buf + 1] = c
                pos = pos + 1
            end
        end
        return { prim = table.concat(buf), raw = table.concat(buf), quoted = true }
    end
    -- Unquoted text up to a delimiter; ${...} may contain delimiters.
    local function bare(stops)
        local start = pos
        while pos <= #text do
            local c = text:sub(pos, pos)
            if c == '$' and text:sub(pos + 1, pos + 1) == '{' then
                local depth = 0
                pos = pos + 1 -- at the '{'
                repeat
                    local d = text:sub(pos, pos)
                    if d == '{' then depth = depth + 1 elseif d == '}' then depth = depth - 1 end
                    pos = pos + 1
                until depth == 0 or pos > #text
            elseif stops:find(c, 1, true) then
                break
            else
                pos = pos + 1
            end
        end
        local raw = text:sub(start, pos - 1):match('^%s*(.-)%s*$')
        return { prim = primitive(raw), raw = raw }
    end
    function value(stops)
        ws()
        local c = text:sub(pos, pos)
        local node
        if c == '[' then
            pos = pos + 1
            node = { list = {} }
            ws()
            if text:sub(pos, pos) == ']' then pos = pos + 1 return node end
            while true do
                node.list[#node.list + 1] = value(',]')
                ws()
                local d = text:sub(pos, pos)
                pos = pos + 1
                if d == ']' then break end
                if d ~= ',' then fail("expected ',' or ']'") end
            end
        elseif c == '{' then
            pos = pos + 1
            node = { dict = {}, order = {} }
            ws()
            if text:sub(pos, pos) == '}' then pos = pos + 1 return node end
            while true do
                ws()
                local k = text:sub(pos, pos):match('["\']') and quoted().prim or bare(':').raw
                if text:sub(pos, pos) ~= ':' then fail("expected ':' in a dict") end
                pos = pos + 1
                if node.dict[k] == nil then node.order[#node.order + 1] = k end
                node.dict[k] = value(',}')
                ws()
                local d = text:sub(pos, pos)
                pos = pos + 1
                if d == '}' then break end
                if d ~= ',' then fail("expected ',' or '}'") end
            end
        elseif c == '"' or c == "'" then
            node = quoted()
        else
            node = bare(stops)
            if node.raw:match('^%a[%w_]*%(') then
                fail('Hydra sweep functions (choice, range, ...) are not supported')
            end
        end
        ws()
        return node
    end
    return function()
        local node = value(',')
        if text:sub(pos, pos) == ',' then
            fail('a comma outside [] is a Hydra sweep, which lpose does not run; write a list as [a,b]')
        end
        if pos <= #text then fail('unexpected text ' .. ('%q'):format(text:sub(pos))) end
        return node
    end
end

--- overrides.is_override(arg) -> true when a command-line argument is meant as
-- an override (key=value, +key=value, ++key=value, ~key, ~key=value); M.parse
-- then says what is wrong with it, if anything.
function M.is_override(s)
    if type(s) ~= 'string' or not s:match('^[+~]*[%a_][%w_%.%-]*=?') then return false end
    return s:find('=', 1, true) ~= nil or s:sub(1, 1) == '~'
end

-- 'training.max_epochs=5' -> {op = 'set'|'add'|'upsert'|'delete', key = 'training.max_epochs', value = node|nil}
function M.parse(text)
    if type(text) ~= 'string' then error(('override must be a string, got %s'):format(type(text)), 0) end
    local op, rest = 'set', text
    if rest:sub(1, 2) == '++' then op, rest = 'upsert', rest:sub(3)
    elseif rest:sub(1, 1) == '+' then op, rest = 'add', rest:sub(2)
    elseif rest:sub(1, 1) == '~' then op, rest = 'delete', rest:sub(2) end
    local key, eq, v = rest:match('^([^=]*)(=?)(.*)$')
    key = key:match('^%s*(.-)%s*$')
    if not key:match('^[%a_][%w_%-]*[%.%w_%-]*$') or key:find('..', 1, true) or key:sub(-1) == '.' then
        error(("override '%s': bad key %q (expected section.key=value)"):format(text, key), 0)
    end
    if eq == '' and op ~= 'delete' then
        error(("override '%s': missing '=' (expected %s=value)"):format(text, key), 0)
    end
    local node
    if eq ~= '' then
        local ok, res = pcall(parser(v))
        if not ok then
            error(("override '%s': %s"):format(text, type(res) == 'table' and res.override or tostring(res)), 0)
        end
        node = res
    end
    return { op = op, key = key, value = node, text = text }
end

-- ---------------------------------------------------------------- typing

-- The node as a plain value, typed by schema type string `t` (or nil = as parsed).
local function to_value(node, t)
    local alts = t and types.parse(t) or nil
    local function want(kind)
        if not alts then return nil end
        for _, a in ipairs(alts.alts) do if a.kind == kind then return a end end
    end
    if node.list then
        local la = want('list')
        local elem = la and la.elem or nil
        local out = tree.list()
        for i, n in ipairs(node.list) do
            out[i] = to_value(n, elem and M.type_string(elem) or nil)
        end
        return out
    elseif node.dict then
        local out = {}
        for k, n in pairs(node.dict) do out[k] = to_value(n) end
        return tree.ordered(out, node.order)
    end
    local v = node.prim
    if node.quoted or not alts or v == NULL then return v end
    -- Unquoted 123 / true where the key wants a string: keep the text (Hydra
    -- would give an int and the typed LP dataclass would then complain).
    if type(v) ~= 'string' and not types.check(t, v) and want('string') then return node.raw end
    return v
end

-- Back from a parsed type to its string (for list elements).
function M.type_string(p)
    local parts = {}
    for _, a in ipairs(p.alts) do
        parts[#parts + 1] = a.kind == 'list' and ('list<' .. M.type_string(a.elem) .. '>') or a.kind
    end
    return table.concat(parts, '|') .. (p.nullable and '?' or '')
end

-- A type string for a key that has no schema entry: the type of the value it replaces.
local function type_of_existing(v)
    if v == nil or v == NULL then return nil end
    if type(v) == 'number' then return 'number' end
    if type(v) == 'boolean' then return 'bool' end
    if type(v) == 'string' then return 'string' end
    return nil
end

-- ---------------------------------------------------------------- applying

-- Apply one parsed override to the internal-form cfg. user_set[path] is true
-- for keys the user's file (or an earlier override) set; `+` is refused only
-- for those, so LP command lines that add keys lpose's defaults already
-- carry (+training.limit_train_batches=5) still work.
function M.apply(cfg, o, user_set)
    local schema = require('lpose.config.schema')
    local validate = require('lpose.config.validate')
    local function fail(msg) error(("override '%s': %s"):format(o.text, msg), 0) end
    local parts = tree.split(o.key)
    local existing = tree.get(cfg, parts)
    local node = schema.node(o.key)
    local t = node and schema.is_leaf(node) and node.entry[2] or type_of_existing(existing)
    if o.op == 'delete' then
        if existing == nil then fail(("key '%s' is not in the config, nothing to delete"):format(o.key)) end
        if o.value then
            local want = to_value(o.value, t)
            if types.show(want) ~= types.show(existing) then
                fail(('%s is %s, not %s; not deleted'):format(o.key, types.show(existing), types.show(want)))
            end
        end
        tree.set(cfg, parts, nil)
        user_set[o.key] = true
        return
    end
    if o.op == 'set' and existing == nil then
        local hint = validate.suggest(o.key)
        if node then
            fail(("key '%s' is not in the config; add it with '+%s'"):format(o.key, o.text))
        end
        fail(("key '%s' is not in the config%s"):format(o.key, hint ~= '' and ':' .. hint or
            (" (use '+%s' to add a new key)"):format(o.text)))
    end
    if o.op == 'add' and existing ~= nil and user_set[o.key] then
        fail(("key '%s' already exists (value %s); use '%s' or '+%s'"):format(o.key, types.show(existing),
            o.text:sub(2), o.text))
    end
    local v = to_value(o.value, t)
    local interp = type(v) == 'string' and v:find('${', 1, true)
    if t and node and schema.is_leaf(node) and not interp and not types.check(t, v) then
        fail(('%s: expected %s, got %s (%s)'):format(o.key, types.describe(t), types.show(v), types.name(v)))
    end
    local ok, err = pcall(tree.set, cfg, parts, v)
    if not ok then fail(err) end
    user_set[o.key] = true
end

return M
