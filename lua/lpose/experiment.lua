-- lpose.experiment: what every experiment script does first: build the
-- config from the command line.
--
--   lpose run experiments/tcn_semi.lua [config=PATH] [section.key=value ...]
--
-- - config=PATH: a Lightning Pose config.yaml (or a .lua config) to start
--   from; without it the experiment's own base config is used.
-- - section.key=value, +section.key=value, ~section.key: overrides (Hydra's
--   grammar, lpose.config).
-- - With no data configured (no config=, no data.data_dir=), the synthetic
--   dataset is generated once into a cache folder ($LPOSE_CACHE or
--   ~/.cache/lpose) and used, so every experiment runs on a fresh machine.
local config = require('lpose.config')

local M = {}

-- The repository root, from this file's path (lua/lpose/experiment.lua).
local function repo_root()
    local src = debug.getinfo(1, 'S').source:match('^@(.*)$') or ''
    return src:match('^(.*)/lua/lpose/experiment%.lua$') or '.'
end
M.repo_root = repo_root


--- experiment.split_args(args) -> config_path | nil, overrides, rest
-- args: the script's arguments (`...`). config=PATH names the config;
-- key=value, +key=value, ++key=value, ~key are overrides (Hydra's grammar);
-- everything after `--` is the script's own (rest). Any other argument is an
-- error: an argument that was not understood is never dropped silently.
function M.split_args(args)
    local is_override = require('lpose.config.overrides').is_override
    local config_path, overrides, rest = nil, {}, {}
    args = args or {}
    for i, a in ipairs(args) do
        if a == '--' then
            for j = i + 1, #args do rest[#rest + 1] = args[j] end
            break
        end
        local path = a:match('^config=(.*)$')
        if path then
            if path == '' then error('config=: expected a path to a config file', 0) end
            config_path = path
        elseif is_override(a) then
            overrides[#overrides + 1] = a
        else
            error(("argument '%s' is not understood: expected config=PATH, key=value, +key=value, "
                .. "++key=value or ~key (a script's own arguments go after --)"):format(tostring(a)), 0)
        end
    end
    return config_path, overrides, rest
end

local function sets_data_dir(overrides)
    for _, o in ipairs(overrides) do
        if o:match('^%+*data%.data_dir=') then return true end
    end
    return false
end

--- experiment.config(args, {base = 'configs/config_synthetic.yaml', overrides = {...}}) -> cfg, info
-- `opts.overrides` are the experiment's own settings (e.g. model.model_type=heatmap),
-- applied before the user's, so the command line always wins.
function M.config(args, opts)
    opts = opts or {}
    local config_path, user = M.split_args(args)
    local overrides = {}
    for _, o in ipairs(opts.overrides or {}) do overrides[#overrides + 1] = o end
    for _, o in ipairs(user) do overrides[#overrides + 1] = o end
    local info = {}
    local base = (opts.base or 'configs/config_synthetic.yaml'):gsub('^configs/', '')
    local file = config_path or config.bundled_file(base)
    if not config_path and not sets_data_dir(user) then
        local synth = require('lpose.synth')
        local summary, err = synth.ensure(nil, opts.synth)
        if not summary then error('cannot generate the synthetic dataset: ' .. tostring(err), 0) end
        table.insert(overrides, 1, 'data.data_dir=' .. summary.out_dir)
        info.synthetic = summary
    end
    info.config_file = file
    local cfg = config.load({ file = file, overrides = overrides })
    -- (in a data-parallel job, rank 0 alone says it)
    local rank = os.getenv('RANK')
    if config_path and (rank == nil or rank == '0') then M.report_changes(cfg, file, user, opts) end
    return cfg, info
end

local function key_of(override) return override:match('^%+*([^=]+)=') end

--- experiment.report_changes(cfg, file, user_overrides, opts)
-- An experiment's own settings override the user's config file (tcn_semi.lua
-- trains a TCN whatever model_type the file names): say so on stderr for
-- every value that changed, so the script never decides silently. Keys the
-- user overrode on the command line are the user's choice and not reported.
function M.report_changes(cfg, file, user, opts)
    local mine = opts.overrides or {}
    if #mine == 0 then return end
    local ok, plain = pcall(config.load, { file = file, overrides = user })
    if not ok then return end
    local by_user = {}
    for _, o in ipairs(user) do by_user[key_of(o) or ''] = true end
    local script = opts.name or (rawget(_G, 'arg') and arg[0]) or 'this experiment'
    for _, o in ipairs(mine) do
        local key = key_of(o)
        if key and not by_user[key] then
            local was, now = config.get(plain, key), config.get(cfg, key)
            local show = require('lpose.config.types').show
            if show(was) ~= show(now) then
                io.stderr:write(('lpose: note: %s sets %s = %s (%s had %s); `lpose train %s` trains what the '
                    .. 'config says\n'):format(script, key, show(now), file, show(was), file))
            end
        end
    end
end

return M
