-- lpose.config.yaml: YAML in and out for configs. Reading walks libyaml's
-- events (Debian lua-yaml) instead of lyaml.load so that quoted "20" stays a
-- string, [] and {} stay distinct, and 1e-3 is a float as in OmegaConf's
-- loader (PyYAML's YAML 1.1 rules would make it a string).
local tree = require('lpose.config.tree')

local M = {}
local NULL = tree.NULL

local BOOL = {
    ['true'] = true, True = true, TRUE = true, ['false'] = false, False = false, FALSE = false,
    yes = true, Yes = true, YES = true, no = false, No = false, NO = false,
    on = true, On = true, ON = true, off = false, Off = false, OFF = false,
}
local NULLS = { [''] = true, ['~'] = true, null = true, Null = true, NULL = true }

-- A plain scalar's value under PyYAML's SafeLoader with OmegaConf's float rule.
function M.scalar(s)
    if NULLS[s] then return NULL end
    if BOOL[s] ~= nil then return BOOL[s] end
    local t = s:gsub('_', '')
    if t:match('^[-+]?0x[0-9a-fA-F]+$') then
        return tonumber(t:match('0x(.*)$'), 16) * (t:match('^%-') and -1 or 1)
    end
    if t:match('^[-+]?0o?[0-7]+$') and t:match('^[-+]?0') then
        local sign, digits = t:match('^([-+]?)0o?([0-7]+)$')
        return tonumber(digits, 8) * (sign == '-' and -1 or 1)
    end
    if t:match('^[-+]?%d+$') then return tonumber(t) end
    if t:match('^[-+]?%.%d+$') or t:match('^[-+]?%d+%.?%d*$')
        or t:match('^[-+]?%d*%.?%d+[eE][-+]?%d+$') or t:match('^[-+]?%d+%.%d*[eE][-+]?%d+$') then
        return tonumber(t)
    end
    if t:match('^[-+]?%.[iI][nN][fF]$') then return t:match('^%-') and -math.huge or math.huge end
    if t:match('^%.[nN][aA][nN]$') then return 0 / 0 end
    if t:match('^[-+]?[1-9]%d*:[0-5]?%d[:0-9]*$') then -- YAML 1.1 base 60, as PyYAML reads it
        local v = 0
        for d in t:gsub('^[-+]', ''):gmatch('%d+') do v = v * 60 + tonumber(d) end
        return t:match('^%-') and -v or v
    end
    return s
end

-- Parse one YAML document into the internal tree. Returns value, lines where
-- lines[dotted.key] is the 1-based line of that key (for error messages).
function M.decode(text, name)
    local yaml = require('yaml')
    local parse = yaml.parser(text)
    local anchors, lines = {}, {}
    local ok, err = pcall(function()
        local function node(ev, path)
            local v
            if ev.type == 'SCALAR' then
                if ev.tag and ev.tag:match('str$') then v = ev.value
                elseif ev.plain_implicit and ev.style == 'PLAIN' then v = M.scalar(ev.value)
                else v = ev.value end
            elseif ev.type == 'ALIAS' then
                v = anchors[ev.anchor]
                if v == nil then error('unknown alias *' .. tostring(ev.anchor), 0) end
                return tree.copy(v)
            elseif ev.type == 'SEQUENCE_START' then
                v = tree.list()
                while true do
                    local e = parse()
                    if e.type == 'SEQUENCE_END' then break end
                    v[#v + 1] = node(e, path .. '.' .. #v)
                end
            elseif ev.type == 'MAPPING_START' then
                v = {}
                local merges, order = {}, {}
                tree.ordered(v, order)
                while true do
                    local e = parse()
                    if e.type == 'MAPPING_END' then
                        for _, m in ipairs(merges) do
                            for _, src in ipairs(tree.is_list(m) and m or { m }) do
                                if not tree.is_map(src) then error('<< must merge a mapping', 0) end
                                for mk, mv in pairs(src) do
                                    if v[mk] == nil then v[mk] = tree.copy(mv) end
                                end
                            end
                        end
                        break
                    end
                    local k = node(e, path)
                    if type(k) ~= 'string' then k = tostring(k == NULL and 'null' or k) end
                    local key = path == '' and k or path .. '.' .. k
                    lines[key] = e.start_mark.line + 1
                    local x = node(parse(), key)
                    if k == '<<' and e.style == 'PLAIN' then -- YAML merge key, as PyYAML: earlier keys win
                        merges[#merges + 1] = x
                    else
                        if v[k] == nil then order[#order + 1] = k end
                        v[k] = x
                    end
                end
            else
                error('unexpected YAML event ' .. tostring(ev.type), 0)
            end
            if ev.anchor then anchors[ev.anchor] = v end
            return v
        end
        local root = NULL
        for ev in parse do
            if ev.type == 'DOCUMENT_START' then
                local e = parse()
                if e.type ~= 'DOCUMENT_END' then root = node(e, '') end
                break
            end
        end
        return root
    end)
    if not ok then
        local msg = tostring(err):gsub('^.-:%d+: ', ''):gsub('%s+$', ''):gsub('\n', '; ')
        error(('%s: YAML error: %s'):format(name or 'config', msg), 0)
    end
    local root = err
    return root, lines
end

-- ---------------------------------------------------------------- writing

local RESERVED = {}
for k in pairs(BOOL) do RESERVED[k] = true end
for k in pairs(NULLS) do RESERVED[k] = true end

-- Strings that would read back as something else, or break the syntax, are
-- double-quoted with JSON-style escapes (valid YAML).
local function str(s)
    if s ~= '' and not RESERVED[s] and type(M.scalar(s)) == 'string'
        and s:match('^[%w_/.~][%w_/.%-]*$') then
        return s
    end
    return '"' .. s:gsub('[%c"\\]', function(c)
        local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t', ['\r'] = '\\r' }
        return named[c] or ('\\x%02x'):format(c:byte())
    end) .. '"'
end

-- A number as YAML; `float` forces a decimal point so 20.0 stays a float.
function M.number(x, float)
    if x ~= x then return '.nan' end
    if x == math.huge then return '.inf' elseif x == -math.huge then return '-.inf' end
    if x == math.floor(x) and math.abs(x) < 1e15 then
        return float and ('%d.0'):format(x) or ('%d'):format(x)
    end
    local s = ('%.17g'):format(x)
    for p = 6, 17 do -- shortest form that reads back exactly
        local c = ('%.' .. p .. 'g'):format(x)
        if tonumber(c) == x then s = c break end
    end
    if not s:find('[.eEn]') then s = s .. '.0' end
    return s
end

local function flow(v, float_at)
    if v == NULL then return 'null' end
    local t = type(v)
    if t == 'boolean' then return tostring(v) end
    if t == 'number' then return M.number(v, float_at and float_at()) end
    if t == 'string' then return str(v) end
    if tree.is_list(v) then
        local parts = {}
        for i = 1, #v do parts[i] = flow(v[i], float_at) end
        return '[' .. table.concat(parts, ', ') .. ']'
    end
    local parts = {}
    for _, k in ipairs(tree.keys(v)) do parts[#parts + 1] = str(tostring(k)) .. ': ' .. flow(v[k], float_at) end
    return '{' .. table.concat(parts, ', ') .. '}'
end

local function scalar_list(v)
    for i = 1, #v do
        local x = v[i]
        if type(x) == 'table' and x ~= NULL and not (tree.is_list(x) and scalar_list(x)) then return false end
    end
    return true
end

-- Emit the tree in block style. opts.order(path) -> ordered key list for a
-- map at `path`; opts.is_float(path) -> true to write integral numbers as x.0;
-- opts.comment(path) -> a comment line written above the key, or nil.
function M.encode(root, opts)
    opts = opts or {}
    local out = {}
    local function emit(v, path, indent)
        local keys = opts.order and opts.order(path, v) or tree.keys(v)
        for _, k in ipairs(keys) do
            local x = v[k]
            local key = path == '' and k or path .. '.' .. k
            local c = opts.comment and opts.comment(key)
            if c then out[#out + 1] = indent .. '# ' .. c end
            local isf = function() return opts.is_float and opts.is_float(key) end
            if tree.is_map(x) and next(x) ~= nil then
                out[#out + 1] = indent .. str(tostring(k)) .. ':'
                emit(x, key, indent .. '  ')
            elseif tree.is_list(x) and #x > 0 and not scalar_list(x) then
                out[#out + 1] = indent .. str(tostring(k)) .. ':'
                for i = 1, #x do
                    if tree.is_map(x[i]) and next(x[i]) ~= nil then
                        out[#out + 1] = indent .. '  -'
                        emit(x[i], key .. '.' .. (i - 1), indent .. '    ')
                    else
                        out[#out + 1] = indent .. '  - ' .. flow(x[i], isf)
                    end
                end
            else
                out[#out + 1] = indent .. str(tostring(k)) .. ': ' .. flow(x, isf)
            end
        end
    end
    emit(root, '', '')
    return table.concat(out, '\n') .. '\n'
end

return M
