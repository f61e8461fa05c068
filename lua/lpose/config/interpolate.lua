-- lpose.config.interpolate: OmegaConf-style ${...} in string values, resolved
-- after merging and overrides. Supported, as LP's configs use them:
--   ${data.video_dir}  ${.sibling}  ${..uncle}   references (a whole-string
--                      reference keeps the referenced value's type)
--   ${oc.env:VAR}  ${oc.env:VAR,default}  ${env:VAR,default}   environment
--   ${LP_ROOT_PATH:}   LP's custom resolver (the LP repo root; see resolve())
--   ${now:%Y-%m-%d}    Hydra's clock resolver (strftime)
-- and \${ for a literal "${". The hydra section is Hydra's own and stays
-- verbatim (it refers to ${hydra.job.num}, which only Hydra defines).
local tree = require('lpose.config.tree')

local M = {}
local NULL = tree.NULL

-- Parse "abc ${x.y} d" into pieces: strings and {expr = 'x.y'}; nested
-- ${} inside a resolver's arguments are kept as text and resolved later.
local function pieces(s, where)
    local out, i, buf = {}, 1, {}
    while i <= #s do
        local c = s:sub(i, i)
        if c == '\\' and s:sub(i + 1, i + 2) == '${' then
            buf[#buf + 1] = '${'
            i = i + 3
        elseif c == '$' and s:sub(i + 1, i + 1) == '{' then
            local depth, j = 1, i + 2
            while j <= #s and depth > 0 do
                local d = s:sub(j, j)
                if d == '{' then depth = depth + 1 elseif d == '}' then depth = depth - 1 end
                j = j + 1
            end
            if depth > 0 then error(('%s: unterminated interpolation in %q'):format(where, s), 0) end
            if #buf > 0 then out[#out + 1] = table.concat(buf) buf = {} end
            out[#out + 1] = { expr = s:sub(i + 2, j - 2) }
            i = j
        else
            buf[#buf + 1] = c
            i = i + 1
        end
    end
    if #buf > 0 then out[#out + 1] = table.concat(buf) end
    return out
end

function M.has(s) return type(s) == 'string' and s:find('${', 1, true) ~= nil end

-- Text of a value inside a longer string, as OmegaConf's str() would.
local function text(v)
    if v == NULL then return 'None' end
    if type(v) == 'boolean' then return v and 'True' or 'False' end
    if type(v) == 'number' then return require('lpose.config.yaml').number(v) end
    if type(v) == 'table' then return require('lpose.config.types').show(v) end
    return v
end

-- Split resolver args at top-level commas; strip quotes.
local function args_of(s)
    local out, depth, start = {}, 0, 1
    if s == '' then return out end
    for i = 1, #s do
        local c = s:sub(i, i)
        if c == '{' then depth = depth + 1 elseif c == '}' then depth = depth - 1
        elseif c == ',' and depth == 0 then
            out[#out + 1] = s:sub(start, i - 1)
            start = i + 1
        end
    end
    out[#out + 1] = s:sub(start)
    for i, a in ipairs(out) do
        a = a:match('^%s*(.-)%s*$')
        out[i] = a:match("^'(.*)'$") or a:match('^"(.*)"$') or a
    end
    return out
end

-- opts.env(name) -> value (default os.getenv); opts.lp_root; opts.now (os.time()).
function M.resolve(cfg, opts)
    opts = opts or {}
    local getenv = opts.env or os.getenv
    local now = opts.now or os.time()
    local done, active, stack = {}, {}, {}

    local resolve_value
    local function lp_root()
        local r = opts.lp_root or getenv('LP_ROOT_PATH')
        if r and r ~= '' then return r end
        -- lpose's checkout: .../lua/lpose/config/interpolate.lua -> ...
        local src = debug.getinfo(1, 'S').source:gsub('^@', '')
        local root = src:match('^(.*)/lua/lpose/config/interpolate%.lua$') or '.'
        return root
    end

    local function lookup(ref, at)
        local target
        if ref:sub(1, 1) == '.' then -- relative: . = the key's own section
            local dots = #ref:match('^%.+')
            local parts = tree.split(at)
            local base = {}
            for i = 1, #parts - dots do base[i] = parts[i] end
            local rest = ref:sub(dots + 1)
            target = table.concat(base, '.')
            if rest ~= '' then target = target == '' and rest or target .. '.' .. rest end
        else
            target = ref:gsub('%[(%d+)%]', '.%1')
        end
        local v = tree.get(cfg, target)
        if v == nil then
            error(('%s: interpolation ${%s} refers to missing key %s%s'):format(at, ref, target,
                require('lpose.config.validate').suggest(target)), 0)
        end
        v = resolve_value(v, target)
        return type(v) == 'table' and v ~= NULL and tree.copy(v) or v
    end

    local resolve_string
    local function call(expr, at)
        local name, rest = expr:match('^([%w_%.%-]+):(.*)$')
        if not name then return lookup(expr, at) end
        local args = args_of(rest)
        for i, a in ipairs(args) do
            if M.has(a) then args[i] = text(resolve_string(a, at)) end
        end
        if name == 'oc.env' or name == 'env' then
            local v = getenv(args[1] or '')
            if v ~= nil then return v end
            if args[2] ~= nil then return args[2] == 'null' and NULL or args[2] end
            error(("%s: environment variable '%s' not found (${%s})"):format(at, tostring(args[1]), expr), 0)
        elseif name == 'LP_ROOT_PATH' then
            return lp_root()
        elseif name == 'now' then
            return os.date(args[1] or '%Y-%m-%d_%H-%M-%S', now)
        end
        error(("%s: unsupported resolver '%s' in ${%s} (supported: oc.env, env, LP_ROOT_PATH, now)")
            :format(at, name, expr), 0)
    end

    function resolve_string(s, at)
        local ps = pieces(s, at)
        if #ps == 1 and type(ps[1]) == 'table' then return call(ps[1].expr, at) end
        local out = {}
        for i, p in ipairs(ps) do out[i] = type(p) == 'table' and text(call(p.expr, at)) or p end
        return table.concat(out)
    end

    -- Resolve the value stored at `at` (cycle-checked, memoized per key).
    function resolve_value(v, at)
        if done[at] ~= nil then return done[at] end
        if type(v) == 'string' and M.has(v) then
            if active[at] then
                stack[#stack + 1] = at
                local from = 1
                for i, p in ipairs(stack) do if p == at then from = i break end end
                error('lpose.config: interpolation cycle: ' .. table.concat(stack, ' -> ', from), 0)
            end
            active[at] = true
            stack[#stack + 1] = at
            local r = resolve_string(v, at)
            stack[#stack] = nil
            active[at] = nil
            done[at] = r
            return r
        elseif tree.is_map(v) or tree.is_list(v) then
            local ks = tree.is_list(v) and nil or tree.keys(v)
            local n = ks and #ks or #v
            for i = 1, n do
                local k = ks and ks[i] or i
                local sub = at == '' and tostring(k) or at .. '.' .. (ks and tostring(k) or tostring(k - 1))
                if not (at == '' and k == 'hydra') then v[k] = resolve_value(v[k], sub) end
            end
        end
        return v
    end

    if opts.only then return resolve_string(opts.only, opts.at or '') end
    resolve_value(cfg, '')
    return cfg
end

-- Resolve one string (e.g. hydra.run.dir) against cfg, leaving cfg alone.
function M.string(s, cfg, opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.only = s
    return M.resolve(tree.copy(cfg), o)
end

-- Escape every ${ of a resolved tree (outside hydra) as \${, so that a
-- literal that came from \${...} is not read as an interpolation again.
function M.escape(t, at)
    for _, k in ipairs(tree.keys(t)) do
        local v = t[k]
        if not ((at or '') == '' and k == 'hydra') then
            if type(v) == 'string' then
                t[k] = v:gsub('%${', '\\${')
            elseif tree.is_map(v) or tree.is_list(v) then
                M.escape(v, 'x')
            end
        end
    end
    return t
end

return M
