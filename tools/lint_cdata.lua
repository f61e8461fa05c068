-- tools/lint_cdata.lua: finds Lua code that lets FFI cdata numbers into
-- arithmetic. LuaJIT computes `number op cdata` in 64-bit integers when the
-- cdata is a boxed scalar (ffi.new('float', x) included) or a 64-bit integer
-- read out of C: 30.0776 * ffi.new('float', 6.1875) is 180LL, and an int64 n
-- gives n / 2 as an integer division. Reported numbers were truncated this
-- way once (predict.labeled); this check keeps the pattern out.
--
-- Usage: luajit tools/lint_cdata.lua lua/lpose/cdef.lua FILE.lua...
-- Flags, per line:
--   1. ffi.new of a scalar numeric type (no [n]): a boxed number;
--   2. a call of a C function that returns a 64-bit integer, not inside tonumber(...);
--   3. a read of an element of a local 64-bit integer array, or of a 64-bit
--      field of a local struct array (ffi.new('int64_t[2]'), ffi.new('lp_x[1]'))
--      that is neither an assignment target nor inside tonumber(...).
-- A line that means it (64-bit hashing, passing a value straight back to C)
-- says so with a comment containing `cdata-ok:` and the reason.
-- Exit status 1 when anything is flagged.
local cdef_path = arg[1]
local int64 = '^%s*(u?int64_t)%s'
local scalar_types = { 'float', 'double', 'u?int%d+_t', 'int', 'long', 'size_t', 'char', 'short', 'bool' }

local function read(path)
    local f = assert(io.open(path, 'rb'))
    local s = f:read('*a')
    f:close()
    return s
end

-- From the cdef: functions returning 64-bit integers, and the 64-bit fields of each struct.
local function scan_cdef(text)
    local fns, fields = {}, {}
    for line in text:gmatch('[^\n]+') do
        local name = line:match('^u?int64_t%s+([%w_]+)%s*%(') or line:match('^size_t%s+([%w_]+)%s*%(')
        if name then fns[name] = true end
    end
    for body, name in text:gmatch('typedef%s+struct%s*[%w_]*%s*(%b{})%s*([%w_]+)%s*;') do
        for line in body:gmatch('[^\n;]+') do
            local field = (line:match(int64 .. '%s*([%w_]+)%s*$') and line:match('([%w_]+)%s*$'))
                or line:match('^%s*size_t%s+([%w_]+)%s*$')
            if field then
                fields[name] = fields[name] or {}
                fields[name][field] = true
            end
        end
    end
    return fns, fields
end

local function is_scalar_type(t)
    if t:find('[%[*]') then return false end
    t = t:gsub('^%s*const%s+', ''):gsub('^%s*unsigned%s+', ''):gsub('%s+$', '')
    for _, pat in ipairs(scalar_types) do
        if t:match('^' .. pat .. '$') then return true end
    end
    return false
end

-- Is position `pos` of `line` inside an open `tonumber(` call?
local function in_tonumber(line, pos)
    local before = line:sub(1, pos - 1)
    local depth, i = 0, #before
    while i > 0 do
        local c = before:sub(i, i)
        if c == ')' then
            depth = depth + 1
        elseif c == '(' then
            if depth == 0 then return before:sub(1, i - 1):match('tonumber%s*$') ~= nil end
            depth = depth - 1
        end
        i = i - 1
    end
    return false
end

local fns, struct_fields = scan_cdef(read(cdef_path))
local flagged = 0

local function flag(path, n, line, why)
    flagged = flagged + 1
    io.stdout:write(('%s:%d: %s\n    %s\n'):format(path, n, why, line:gsub('^%s+', '')))
end

for i = 2, #arg do
    local path = arg[i]
    local arrays = {} -- local name -> true (64-bit integer array) or {field = true} (struct array)
    local n = 0
    for line in (read(path) .. '\n'):gmatch('([^\n]*)\n') do
        n = n + 1
        local code = line:gsub('%-%-.*$', '')
        local ok_marked = line:find('cdata-ok:', 1, true) ~= nil
        -- local declarations of arrays we track
        for name, ctype in code:gmatch("([%w_]+)%s*=%s*ffi%.new%(%s*['\"]([^'\"]+)['\"]") do
            local base = ctype:match('^%s*([%w_]+)%s*%[')
            if base == 'int64_t' or base == 'uint64_t' or base == 'size_t' then
                arrays[name] = true
            elseif base and struct_fields[base] then
                arrays[name] = struct_fields[base]
            end
        end
        if not ok_marked then
            for ctype in code:gmatch("ffi%.new%(%s*['\"]([^'\"]+)['\"]") do
                if is_scalar_type(ctype) then
                    flag(path, n, line, ("ffi.new('%s', ...) is a boxed scalar: arithmetic with it runs in "
                        .. "64-bit integers; use a Lua number or a [1] array"):format(ctype))
                end
            end
            for pos, fn in code:gmatch('()[%w_]+%.([%w_]+)%s*%(') do
                if fns[fn] and not in_tonumber(code, pos) then
                    flag(path, n, line, fn .. ' returns a 64-bit integer (cdata): wrap the call in tonumber()')
                end
            end
            -- the `=` of an assignment statement: what stands before it is written, not read
            local stmt = code:gsub('^(%s*for%s.-%sdo%s)', function(p) return (' '):rep(#p) end)
            local assign_at = stmt:find('[^=~<>]=[^=]')
            assign_at = assign_at and assign_at + 1
            if code:match('^%s*if%s') or code:match('^%s*while%s') or code:match('^%s*return%s') then
                assign_at = nil
            end
            for pos, name, rest in code:gmatch('()([%w_]+)(%b[][%.%w_]*)') do
                local kind = arrays[name]
                local prev = code:sub(pos - 1, pos - 1)
                if kind and prev ~= '.' and prev ~= ':' then
                    local field = rest:match('^%b[]%.([%w_]+)$')
                    local risky = kind == true and not rest:match('^%b[]%.') or (type(kind) == 'table' and field
                        and kind[field])
                    local assigned = assign_at and pos < assign_at
                    if risky and not assigned and not in_tonumber(code, pos) then
                        flag(path, n, line, ('%s%s is a 64-bit integer (cdata): read it with tonumber()'):format(
                            name, rest))
                    end
                end
            end
        end
    end
end

if flagged > 0 then
    io.stdout:write(('%d place(s) let cdata numbers into Lua arithmetic (see tools/lint_cdata.lua)\n'):format(flagged))
    os.exit(1)
end
