-- lpose.cli: the command line (docs/design/house-style.md §3). engine/main/lpose.c calls
-- main(arg) and exits with what it returns.
--
--   lpose                         REPL (line editing on a terminal)
--   lpose -e CODE [-i] [ARGS...]  run CODE, then the REPL with -i
--   lpose - [ARGS...]             run the script read from stdin
--   lpose COMMAND [ARGS...]       a command from M.commands
--
-- Exit status, and who decides it:
--   0    success;
--   1    an expected failure: bad usage, unknown command, a script that is
--        missing or does not compile, or user code (script, -e, stdin)
--        that raises a string; printed as "lpose: error: <message>", for
--        user code followed by the traceback of the user's frames;
--   130  interrupted by Ctrl-C or SIGTERM: user code, or a command (lpose
--        predict says which videos were finished; an interrupt that no
--        command handles prints "lpose: interrupted", from lpose.c);
--   2    a crash: user code raised a non-string error object, or an error
--        escaped the CLI itself (a bug in lpose; lpose.c prints
--        "lpose: internal error:" and the full traceback).
--
-- A command module exports `help` (text; the first line is the summary
-- that `lpose help` lists) and `command(args) -> true | nil, err, exitcode`
-- where args holds the strings after the command name, plus args.program
-- (arg[0]) and args.command (the name). Each command parses its own options
-- with lpose.cli.args (one parser, one set of messages); `run` passes its
-- script's arguments through verbatim, which a single global parser would
-- reject. Keep top-level requires of
-- command modules light: `lpose help` and start-up load them.
local M = {}

-- Adding a command is one line here, a module and docs/reference/cli/<name>.md.
M.commands = {
    ['check-frames'] = 'lpose.cli.check_frames',
    eks = 'lpose.cli.eks',
    ['extract-frames'] = 'lpose.cli.extract_frames',
    help = 'lpose.cli.help',
    predict = 'lpose.cli.predict',
    repl = 'lpose.cli.repl',
    report = 'lpose.cli.report',
    run = 'lpose.cli.run',
    synth = 'lpose.cli.synth',
    train = 'lpose.cli.train',
    version = 'lpose.cli.version',
}

M.usage = [[
usage: lpose [-e CODE]... [-i] [ARGS...]
       lpose - [ARGS...]
       lpose COMMAND [ARGS...]

With no arguments, start the REPL.

Options:
  -e CODE        run CODE (repeatable); ARGS become arg[1..] and `...`
  -i             start the REPL after -e, even when stdin is not a terminal
  -              run the script read from stdin
  -v, --version  print the versions and exit
  -h, --help     print this help and exit]]

-- The REPL: SIGTERM ends the session instead of interrupting the current
-- line as Ctrl-C does (lpose.c handles SIGTERM like Ctrl-C elsewhere).
local function no_sigterm_trap()
    local ok, host = pcall(require, 'lpose.cli.host')
    if ok then host.trap_sigterm(false) end
end

local function start_repl()
    no_sigterm_trap()
    return require('lpose.cli.repl').start({})
end

-- The command's module, or nil and an error message.
function M.load_command(name)
    local modname = M.commands[name]
    if not modname then
        return nil, "unknown command '" .. tostring(name) .. "' (see 'lpose help')"
    end
    return require(modname)
end

local function report(err, code)
    io.stdout:flush()
    io.stderr:write('lpose: error: ', tostring(err), '\n')
    return code or 1
end

-- A command's result as an exit status; nil, nil, code exits silently. An
-- error that a pcall made of Ctrl-C's "interrupted!" still exits 130.
local function finish(ok, err, code)
    if ok then return 0 end
    if err == nil then return code or 1 end
    if code == nil and type(err) == 'string' and err:match('interrupted!$') then code = 130 end
    return report(err, code)
end

local function slice(list, first)
    local out = {}
    for i = first, #list do out[#out + 1] = list[i] end
    return out
end

-- `lpose -e CODE ... [-i]`: each chunk runs with arg[1..] and `...` = ARGS.
local function run_options(argv)
    local chunks, interactive, i = {}, false, 1
    while i <= #argv do
        local a = argv[i]
        if a == '-e' then
            if argv[i + 1] == nil then return report("'-e' needs an argument") end
            chunks[#chunks + 1] = argv[i + 1]
            i = i + 2
        elseif a == '-i' then
            interactive, i = true, i + 1
        elseif a == '--' then
            i = i + 1
            break
        elseif a:sub(1, 1) == '-' and a ~= '-' then
            return report("unknown option '" .. a .. "' (see 'lpose help')")
        else
            break
        end
    end
    local rest = slice(argv, i)
    local run = require('lpose.cli.run')
    if #chunks == 0 and rest[1] == '-' then -- `lpose -i -`: stdin script first
        local ok, err, code = run.run_file('-', slice(rest, 2), { argv[0], '-' })
        if not ok then return finish(ok, err, code) end
    else
        rawset(_G, 'arg', run.arg_table(argv[0], rest, {}))
        for _, code_text in ipairs(chunks) do
            local ok, err, code = run.run_string(code_text, '=(command line)', rest)
            if not ok then return finish(ok, err, code) end
        end
    end
    if interactive then
        return finish(start_repl())
    end
    return 0
end

-- `lpose` as a global for `-e` code, scripts and the REPL, loaded on first
-- use so that start-up does not pay for libtorch's Lua side when unused.
-- Modules and experiments still write `local lpose = require('lpose')`.
local function lazy_lpose_global()
    local mt = getmetatable(_G) or {}
    local previous = mt.__index
    mt.__index = function(t, key)
        if key == 'lpose' then
            local lpose = require('lpose')
            rawset(t, 'lpose', lpose)
            return lpose
        end
        if type(previous) == 'function' then return previous(t, key) end
        if type(previous) == 'table' then return previous[key] end
        return nil
    end
    setmetatable(_G, mt)
end

-- Dispatch `argv` (lpose.c's arg table) and return the exit status.
function M.main(argv)
    argv = argv or {}
    lazy_lpose_global()
    local first = argv[1]
    if first == nil then
        return finish(start_repl())
    elseif first == '-v' or first == '--version' then
        return finish(require('lpose.cli.version').command({}))
    elseif first == '-h' or first == '--help' then
        return finish(require('lpose.cli.help').command({}))
    elseif first:sub(1, 1) == '-' then
        return run_options(argv)
    end
    local mod, err = M.load_command(first)
    if not mod then
        if first:match('%.lua$') then err = err .. "; to run a script: lpose run " .. first end
        return report(err)
    end
    if first == 'repl' then no_sigterm_trap() end
    local args = slice(argv, 2)
    args.program, args.command = argv[0], first
    return finish(mod.command(args))
end

return M
