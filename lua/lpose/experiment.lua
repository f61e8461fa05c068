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

--- experiment.split_args(args) -> config_path | nil, overrides
-- args: the script's arguments (`...`) or the overrides lpose run collected.
function M.split_args(args)
    local config_path, overrides = nil, {}
    for _, a in ipairs(args or {}) do
        local path = a:match('^config=(.+)$')
        if path then
            config_path = path
        elseif a:match('^[+~]?[%w_]+%.[%w_.]+') then
            overrides[#overrides + 1] = a
        end
    end
    return config_path, overrides
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
    local file = config_path or (repo_root() .. '/' .. (opts.base or 'configs/config_synthetic.yaml'))
    if not config_path and not sets_data_dir(user) then
        local synth = require('lpose.synth')
        local summary, err = synth.ensure(nil, opts.synth)
        if not summary then error('cannot generate the synthetic dataset: ' .. tostring(err), 0) end
        table.insert(overrides, 1, 'data.data_dir=' .. summary.out_dir)
        info.synthetic = summary
    end
    info.config_file = file
    return config.load({ file = file, overrides = overrides }), info
end

return M
