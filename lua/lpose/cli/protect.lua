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
        return { error = e, message = M.message(e), traceback = table.concat(lines, '\n') }
    end
    return pass(pcall_armed(fn, handler, ...)) -- not a tail call: the frames above are counted
end

return M
