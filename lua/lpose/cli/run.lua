-- lpose.cli.run: `lpose run SCRIPT [key=value ...] [-- ARGS...]`, which
-- behaves like `luajit SCRIPT ARGS` (docs/design/house-style.md §3): the global `arg` holds
-- arg[0] = SCRIPT and arg[1..] = every later argument, verbatim, and the
-- chunk receives the same arguments as `...`. The key=value arguments
-- before a `--` are also listed, in order, in M.overrides for the config
-- loader. Also runs `-e` code and `lpose -` (stdin) for lpose.cli.
local protect = require('lpose.cli.protect')

local M = {}

M.help = [[
Run a Lua script inside lpose.

usage: lpose run [--nproc N] SCRIPT [key=value ...] [-- ARGS...]

SCRIPT is a Lua file, or the name of a bundled experiment (tcn_semi,
baseline, demo, ...: the files of experiments/), found from any directory.
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

local function collect_overrides(args)
    local is_override = require('lpose.config.overrides').is_override
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
    return nil, protect.report(failure)
end

function M.run_string(code, chunkname, args)
    local chunk, err = loadstring(code, chunkname)
    if not chunk then return nil, err, 1 end
    return M.call(chunk, args)
end

--- run.experiment_dirs() -> folders of the bundled experiments: the
-- repository's experiments/ (a build tree) and lpose/experiments beside the
-- installed Lua modules (make install).
function M.experiment_dirs()
    local here = debug.getinfo(1, 'S').source:match('^@(.*)/cli/run%.lua$') or 'lua/lpose'
    local root = here:match('^(.*)/lua/lpose$') or (here == 'lua/lpose' and '.')
    return { root and (root .. '/experiments') or (here .. '/../../experiments'), here .. '/experiments' }
end

local readable = require('lpose.files').exists

-- The bundled experiments' names, sorted.
local function experiment_names()
    local names, seen = {}, {}
    for _, dir in ipairs(M.experiment_dirs()) do
        local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
        for name in p:lines() do
            local stem = name:match('^(.+)%.lua$')
            if stem and not seen[stem] then names[#names + 1], seen[stem] = stem, true end
        end
        p:close()
    end
    table.sort(names)
    return names
end

--- run.find_script(script) -> path | nil, err
-- A path as given when the file exists; else, for a bare name (tcn_semi or
-- tcn_semi.lua), the bundled experiment of that name, so `lpose run tcn_semi`
-- works from any directory.
function M.find_script(script)
    if script == '-' or readable(script) then return script end
    if not script:find('/', 1, true) then
        local name = script:gsub('%.lua$', '') .. '.lua'
        for _, dir in ipairs(M.experiment_dirs()) do
            if readable(dir .. '/' .. name) then return dir .. '/' .. name end
        end
    end
    return nil, ("cannot open script '%s': no such file, nor a bundled experiment (%s)"):format(script,
        table.concat(experiment_names(), ', '))
end

-- Run the file at `path` ('-' is stdin) with `args`; `prefix` is the
-- command line before it, for arg's negative indices.
function M.run_file(path, args, prefix)
    local chunk, err
    if path == '-' then
        chunk, err = loadfile() -- stdin, chunkname "=stdin"
    else
        local found, ferr = M.find_script(path)
        if not found then return nil, ferr, 1 end
        path = found
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
