-- lpose.cli.repl: the interactive prompt (docs/design/embedding.md, trepl style).
-- A line is first compiled as `return <line>` so expressions print
-- themselves; a chunk whose error ends in '<eof>' is incomplete and more
-- lines are read (luajit.c). On a terminal lines come from libedit
-- (lpose.lineedit), with tab completion from lpose.cli.complete; otherwise
-- from io.read, which is how tests drive it. `help` is a global
-- (lpose.help).
local protect = require('lpose.cli.protect')
local pretty = require('lpose.cli.pretty')
local complete = require('lpose.cli.complete')

local M = {}

M.help = [[
Start the interactive Lua prompt, with the lpose package as global `lpose`.

usage: lpose repl        (also: lpose with no arguments; lpose -e CODE -i)

An expression prints its values (tables in short form, tensors through
tostring, lpose's modules as a short summary); `=expr` is the same.
help() gives an overview, help(x) the reference entry of a module,
function, tensor or model, help('tensor:view') looks a name up. TAB
completes globals, fields and methods (lpose.ten<TAB>, x:vi<TAB>). Statements may span lines: the prompt
changes to "    >>" until the chunk is complete. Errors are printed and the
session goes on. Ctrl-C clears the line being typed or interrupts the
running computation; Ctrl-D exits. `local` variables last one chunk only:
use globals to keep values between lines.

On a terminal, lines are edited with libedit (~/.editrc, section "lpose:").
History goes to $LPOSE_HISTORY, else ~/.lpose_history, one line per entry,
appended as each line is entered. When stdin is not a terminal, lines are
read plainly, prompts go to stderr and results to stdout.]]

M.prompt = 'lpose> '
M.continuation = '    >> '
M.history_size = 1000 -- entries kept in the history file

-- ---------------------------------------------------------------- history

function M.history_path()
    local path = os.getenv('LPOSE_HISTORY')
    if path and path ~= '' then return path end
    local home = os.getenv('HOME')
    return home and home .. '/.lpose_history' or nil
end

-- The last history_size entries of the file, which is rewritten when it
-- has grown past twice that (entries are appended one at a time).
local function load_history(path)
    local f = path and io.open(path)
    if not f then return {} end
    local lines = {}
    for line in f:lines() do lines[#lines + 1] = line end
    f:close()
    local keep = {}
    for i = math.max(1, #lines - M.history_size + 1), #lines do keep[#keep + 1] = lines[i] end
    if #lines > 2 * M.history_size then
        local out = io.open(path, 'w')
        if out then
            out:write(table.concat(keep, '\n'), '\n')
            out:close()
        end
    end
    return keep
end

local function append_history(path, line)
    local f = path and io.open(path, 'a')
    if not f then return end
    f:write(line, '\n')
    f:close()
end

-- ---------------------------------------------------------------- compile, print

-- A function for the chunk `src`, or nil and the compile error.
function M.compile(src)
    src = src:match('^%s*=(.*)$') or src -- `=expr` is `return expr`
    local fn = loadstring('return ' .. src, '=stdin')
    if fn then return fn end
    return loadstring(src, '=stdin')
end

function M.incomplete(err)
    return err:sub(-7) == "'<eof>'"
end

local function print_values(n, ...)
    if n == 0 then return end
    local parts = {}
    for i = 1, n do parts[i] = pretty.show((select(i, ...))) end
    io.stdout:write(table.concat(parts, '\t'), '\n')
end

-- lpose's own Lua files: <dir>/lpose/ (this file is <dir>/lpose/cli/repl.lua).
local lpose_dir = debug.getinfo(1, 'S').source:match('^@(.*/lpose/)cli/repl%.lua$')

local function in_lpose(src)
    return src:find('lua/lpose/', 1, true) or src:find('/5.1/lpose/', 1, true)
        or (lpose_dir and src:find(lpose_dir, 1, true))
end

-- The traceback is worth printing when user functions were involved (more
-- than the typed chunk), or when the error arose inside lpose's own code
-- (its position is an lpose file: a bug). An error that lpose raised on
-- purpose for the line typed (a wrong argument, an engine message) prints
-- alone: lpose's frames in between are noise.
local function print_failure(failure)
    io.stdout:flush()
    io.stderr:write(failure.message, '\n')
    local frames = 0
    for line in failure.traceback:gmatch('\n\t([^\n]*)') do
        if not line:match('^%[C%]') and not in_lpose(line) then frames = frames + 1 end
    end
    local first = failure.message:match('^[^\n]*')
    local internal = first:match('^[^:]*lpose/[%w_/]+%.lua:%d+:') and in_lpose(first)
    if frames > 1 or internal then io.stderr:write(failure.traceback, '\n') end
end

-- Run one compiled chunk and print its values or its error.
function M.eval(fn)
    local function show(ok, ...)
        if ok then
            print_values(select('#', ...), ...)
        else
            print_failure((...))
        end
    end
    show(protect.call(fn))
    io.stdout:flush()
end

-- ---------------------------------------------------------------- session

-- A reader returns a line, nil at end of input, or nil, 'interrupted'.
local function tty_reader(lineedit)
    local function candidates(word, before)
        return complete.candidates(word, before)
    end
    return function(prompt) return lineedit.readline(prompt, candidates) end
end

local function plain_reader()
    return function(prompt)
        io.stdout:flush()
        io.stderr:write(prompt)
        return io.read('*l')
    end
end

local function preload_lpose()
    local ok, pkg = pcall(require, 'lpose')
    if ok then
        rawset(_G, 'lpose', pkg)
    else
        io.stderr:write('lpose: warning: the lpose package did not load (', tostring(pkg):match('^[^\n]*'),
            '); continuing without it\n')
    end
    if rawget(_G, 'help') == nil then
        local hok, help = pcall(require, 'lpose.help')
        if hok then rawset(_G, 'help', help) end
    end
end

local function banner()
    local ok, host = pcall(require, 'lpose.cli.host')
    local jit = rawget(_G, 'jit')
    io.stdout:write('lpose ', ok and host.version or '', ' (', jit and jit.version or _VERSION,
        '): help() for help, TAB completes, Ctrl-D exits, Ctrl-C interrupts\n')
end

-- One line of input: 'eof' at end of input.
local function step(session)
    local line, why = session.read(#session.buffer == 0 and M.prompt or M.continuation)
    if line == nil then
        if why ~= 'interrupted' then return 'eof' end
        session.buffer = {}
        if session.tty then io.stdout:write('\n') end
        return
    end
    if line:match('%S') then
        if session.lineedit then session.lineedit.add_history(line) end
        append_history(session.history, line)
    end
    session.buffer[#session.buffer + 1] = line
    local fn, err = M.compile(table.concat(session.buffer, '\n'))
    if not fn and M.incomplete(err) then return end
    session.buffer = {}
    if fn then
        M.eval(fn)
    else
        io.stdout:flush()
        io.stderr:write(err, '\n')
    end
end

-- opts.plain forces io.read even on a terminal. Returns true at Ctrl-D.
function M.start(opts)
    opts = opts or {}
    local ok, lineedit = pcall(require, 'lpose.lineedit')
    if not ok then lineedit = nil end
    local tty = lineedit ~= nil and not opts.plain and lineedit.isatty(0)
    local session = {
        buffer = {},
        history = M.history_path(),
        lineedit = tty and lineedit or nil,
        tty = tty,
        read = tty and tty_reader(lineedit) or plain_reader(),
    }
    if tty then
        banner()
        lineedit.stifle_history(M.history_size)
        for _, line in ipairs(load_history(session.history)) do lineedit.add_history(line) end
    end
    preload_lpose()
    while true do
        -- Each line runs protected too: a Ctrl-C or a failure in the REPL's
        -- own code (printing a huge table, say) must not end the session.
        local done, result = protect.call(step, session)
        if done and result == 'eof' then break end
        if not done then
            session.buffer = {}
            print_failure(result)
        end
    end
    if tty then io.stdout:write('\n') end
    return true
end

function M.command(args)
    return M.start({})
end

return M
