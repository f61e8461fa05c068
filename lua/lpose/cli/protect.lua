-- lpose.cli.protect: call user code (a script, -e code, a REPL line) so
-- that Ctrl-C interrupts it and a failure comes back as a value with a
-- traceback of the user's frames only (the CLI's own frames are noise).
--
-- Inside the lpose executable the call goes through lpose.cli.host.pcall,
-- which arms the SIGINT hook of engine/main/lpose.c; from plain luajit it
-- is xpcall.
local M = {}

local ok_host, host = pcall(require, 'lpose.cli.host')
local pcall_armed = ok_host and host.pcall or xpcall

local MAX_FRAMES = 40

-- One traceback line in Lua 5.1's format.
local function frame_line(info)
    local where = info.short_src .. ':' .. (info.currentline > 0 and info.currentline .. ':' or '')
    local what
    if info.namewhat ~= '' then
        what = "function '" .. info.name .. "'"
    elseif info.what == 'main' then
        what = 'main chunk'
    elseif info.what == 'C' then
        what = '?'
    else
        what = 'function <' .. info.short_src .. ':' .. info.linedefined .. '>'
    end
    return '\t' .. where .. ' in ' .. what
end

-- Number of stack levels from the caller of this function down.
local function depth()
    local n = 2
    while debug.getinfo(n + 1, 'l') do n = n + 1 end
    return n - 1
end

local function pass(...) return ... end

-- Text for an error value; non-string errors are flagged as such.
function M.message(e)
    if type(e) == 'string' or type(e) == 'number' then return tostring(e) end
    local mt = getmetatable(e)
    if type(mt) == 'table' and mt.__tostring then
        local ok, s = pcall(tostring, e)
        if ok and type(s) == 'string' then return s end
    end
    return '(error object is a ' .. type(e) .. ' value)'
end

-- Exit status for a failure of user code: 1 for a string error (the
-- script's own, expected failure) and for error() with no value (lua.c and
-- luajit.c exit 1 silently; busted ends that way), 130 after Ctrl-C (as
-- shells do), 2 for any other error object, which nothing should raise on
-- purpose.
function M.exit_code(e)
    if e == nil or type(e) == 'number' then return 1 end
    if type(e) ~= 'string' then return 2 end
    return e:match('interrupted!$') and 130 or 1
end

-- Lua's and LuaJIT's own run-time error messages: raised by the VM, never on purpose.
local RUNTIME = { 'attempt to ', 'bad argument #', 'stack overflow', 'table index is ', "invalid key to 'next'",
    "'for' ", 'loop in gettable', 'loop in settable', 'cannot convert ', 'cannot be indexed', 'has no member named',
    'wrong number of arguments', 'not enough memory' }

local function runtime_error(message)
    local text = message:gsub('^[^\n]-:%d+: ', '')
    for _, p in ipairs(RUNTIME) do
        if text:sub(1, #p) == p or text:find(' ' .. p, 1, true) then return true end
    end
    return false
end

local function in_lpose(src) return src:find('lpose/', 1, true) ~= nil and src:find('lua/lpose/', 1, true) ~= nil
    or src:match('^%.%.%.[^/]*/?lpose/') ~= nil end

--- protect.kind(failure) -> 'expected' | 'user' | 'internal'
-- expected: an error lpose raised on purpose (its clear messages: bad
-- override, bad YAML, bad CSV cell). user: an error raised in the user's own
-- code, on purpose (error('...')) or not (attempt to index nil). internal: a
-- run-time error inside lpose's own Lua tree, or a non-string error: a bug.
function M.kind(failure)
    if type(failure.error) ~= 'string' then return 'internal' end
    local src = failure.message:match('^([^\n]-):%d+: ')
    if runtime_error(failure.message) then
        return (src and in_lpose(src)) and 'internal' or 'user'
    end
    return in_lpose(failure.raised_in or '') and 'expected' or 'user'
end

--- protect.report(failure) -> text, exit status
-- What the CLI prints for a failure of user code: an expected error is its
-- message alone (one line that names the file, line, key or frame) and exits
-- 1; a bug in the user's code adds the traceback of the user's frames
-- (lpose's own frames left out) and exits 1; a bug in lpose keeps the whole
-- traceback and exits 2. LPOSE_DEBUG=1 adds the whole traceback to every one.
function M.report(failure)
    local code = M.exit_code(failure.error)
    if code == 130 then return failure.message, code end
    local kind = M.kind(failure)
    local debug_on = (os.getenv('LPOSE_DEBUG') or '') ~= '' and os.getenv('LPOSE_DEBUG') ~= '0'
    if kind == 'internal' then
        return 'internal error (a bug in lpose: please report it with this traceback): ' .. failure.message
            .. '\n' .. failure.traceback, 2
    elseif debug_on then
        return failure.message .. '\n' .. failure.traceback, code
    elseif kind == 'user' then
        local lines = { 'stack traceback:' }
        for line in failure.traceback:gmatch('\n(\t[^\n]*)') do
            local src = line:match('^\t([^:]*):') or ''
            if not in_lpose(src) then lines[#lines + 1] = line end
        end
        return failure.message .. '\n' .. table.concat(lines, '\n'), code
    end
    return failure.message, code
end

-- call(fn, ...) -> true, results... | false, failure
-- failure = { error = raw error value, message = string, traceback = string }
function M.call(fn, ...)
    local base = depth() -- levels of M.call and its callers
    local function handler(e)
        local total = depth() -- levels of handler and everything below it
        -- The user's frames lie between handler (level 1) and the protected
        -- call, which adds one C frame (host.pcall or xpcall) above M.call.
        local last = total - base - 1
        local lines = { 'stack traceback:' }
        for level = 2, last do
            if level - 1 > MAX_FRAMES then
                lines[#lines + 1] = '\t...'
                break
            end
            local info = debug.getinfo(level, 'Snl')
            if not info then break end
            lines[#lines + 1] = frame_line(info)
        end
        -- where the error was raised: the first Lua frame (error() itself is a C frame)
        local raised_in
        for level = 2, last do
            local info = debug.getinfo(level, 'S')
            if not info then break end
            if info.what ~= 'C' then
                raised_in = info.short_src
                break
            end
        end
        return { error = e, message = M.message(e), traceback = table.concat(lines, '\n'), raised_in = raised_in }
    end
    return pass(pcall_armed(fn, handler, ...)) -- not a tail call: the frames above are counted
end

--- protect.command(fn, on_interrupt, ...) -> results of fn | nil, err, exit status
-- A command's body (`lpose train`, `lpose predict`) run as `lpose run` runs a
-- script: Ctrl-C armed, a failure reported by protect.report. on_interrupt
-- (optional): called after Ctrl-C / SIGTERM, which then exits 130 silently.
function M.command(fn, on_interrupt, ...)
    local results = { n = 0 }
    local function keep(...) results = { n = select('#', ...), ... } end
    keep(M.call(fn, ...))
    if results[1] then return unpack(results, 2, results.n) end
    local failure = results[2]
    if on_interrupt and M.exit_code(failure.error) == 130 then
        on_interrupt()
        return nil, nil, 130
    end
    if failure.error == nil then return nil, nil, 1 end
    return nil, M.report(failure)
end

return M
