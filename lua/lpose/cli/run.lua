-- lpose.cli.run: `lpose run SCRIPT [key=value ...] [-- ARGS...]`, which
-- behaves like `luajit SCRIPT ARGS` (design.md §7): the global `arg` holds
-- arg[0] = SCRIPT and arg[1..] = every later argument, verbatim, and the
-- chunk receives the same arguments as `...`. The key=value arguments
-- before a `--` are also listed, in order, in M.overrides for the config
-- loader. Also runs `-e` code and `lpose -` (stdin) for lpose.cli.
local protect = require('lpose.cli.protect')

local M = {}

M.help = [[
Run a Lua script inside lpose.

usage: lpose run [--nproc N] SCRIPT [key=value ...] [-- ARGS...]

The script sees the global `arg` (arg[0] = SCRIPT, arg[1..] = the other
arguments, verbatim) and receives the same arguments as `...`, as with
`luajit SCRIPT ARGS`. key=value arguments before `--` are config overrides
(Hydra style: training.train_batch_size=8, +new.key=1, ++key=v, ~key):
scripts read them with require('lpose.cli.run').overrides. SCRIPT `-` reads stdin. A first
line starting with # is skipped, so `lpose run /usr/bin/busted` works.

--nproc N starts N processes running SCRIPT as one distributed job on this
machine (data-parallel training: docs/guides/multi-gpu.md). They get
torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT) and share the cores (LPOSE_NUM_THREADS) unless
set; if one fails, the others are stopped and its status is returned.

Exit status: 0 on success, 1 if the script is missing, does not compile or
raises a string error (message and traceback go to stderr), 130 after
Ctrl-C, 2 if it raises a non-string error object.]]

-- The key=value overrides of the last script run, in command-line order.
M.overrides = {}

-- A Hydra-style override, the grammar of lpose.config.overrides: key=value,
-- +key=value, ++key=value, ~key and ~key=value, with dotted keys.
local function is_override(s)
    if not s:match('^[+~]*[%a_][%w_%.%-]*=?') then return false end
    return s:find('=', 1, true) ~= nil or s:sub(1, 1) == '~'
end

local function collect_overrides(args)
    local out = {}
    for _, a in ipairs(args) do
        if a == '--' then break end
        if is_override(a) then out[#out + 1] = a end
    end
    return out
end

-- luajit's layout: arg[0] = script, arg[1..] = args, and the command line
-- before the script at negative indices (prefix {'lpose', 'run'} gives
-- arg[-2] = 'lpose', arg[-1] = 'run').
function M.arg_table(script, args, prefix)
    local t = { [0] = script }
    for i = 1, #prefix do t[i - #prefix - 1] = prefix[i] end
    for i = 1, #args do t[i] = args[i] end
    return t
end

-- Call a loaded chunk with `args` as `...`: true | nil, err, exitcode.
function M.call(chunk, args)
    local ok, failure = protect.call(chunk, unpack(args, 1, #args))
    if ok then return true end
    if failure.error == nil then return nil, nil, 1 end -- error(): exit 1 silently, as luajit does
    return nil, failure.message .. '\n' .. failure.traceback, protect.exit_code(failure.error)
end

function M.run_string(code, chunkname, args)
    local chunk, err = loadstring(code, chunkname)
    if not chunk then return nil, err, 1 end
    return M.call(chunk, args)
end

-- Run the file at `path` ('-' is stdin) with `args`; `prefix` is the
-- command line before it, for arg's negative indices.
function M.run_file(path, args, prefix)
    local chunk, err
    if path == '-' then
        chunk, err = loadfile() -- stdin, chunkname "=stdin"
    else
        chunk, err = loadfile(path)
    end
    if not chunk then return nil, err, 1 end
    M.overrides = collect_overrides(args)
    rawset(_G, 'arg', M.arg_table(path, args, prefix))
    return M.call(chunk, args)
end

-- `--nproc N` / `--nproc=N` before SCRIPT: N, the remaining arguments
local function take_nproc(args)
    local first = args[1]
    local n, skip
    if first == '--nproc' then
        n, skip = args[2], 2
    elseif type(first) == 'string' and first:match('^%-%-nproc=') then
        n, skip = first:match('^%-%-nproc=(.*)$'), 1
    else
        return nil, args
    end
    local count = tonumber(n)
    if not count or count < 1 or count ~= math.floor(count) then
        return false, ("--nproc needs a positive integer, got '%s'"):format(tostring(n))
    end
    local rest = {}
    for i = skip + 1, #args do rest[#rest + 1] = args[i] end
    return count, rest
end

function M.command(args)
    local nproc, rest_or_err = take_nproc(args)
    if nproc == false then return nil, rest_or_err, 1 end
    if nproc then
        if rest_or_err[1] == nil then
            return nil, "missing SCRIPT: usage: lpose run --nproc N SCRIPT [key=value ...]", 1
        end
        local status = require('lpose.launch').run(nproc, rest_or_err)
        if status == 0 then return true end
        return nil, nil, status
    end
    local script = args[1]
    if script == '-h' or script == '--help' then
        print(M.help)
        return true
    end
    if script == nil then
        return nil, "missing SCRIPT: usage: lpose run [--nproc N] SCRIPT [key=value ...] [-- ARGS...]", 1
    end
    local rest = {}
    for i = 2, #args do rest[#rest + 1] = args[i] end
    return M.run_file(script, rest, { args.program or 'lpose', args.command or 'run' })
end

return M
