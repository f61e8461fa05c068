-- lpose.cli.train: `lpose train CONFIG [key=value ...]`, Lightning Pose's
-- `litpose train config.yaml`: trains what the config says (model type,
-- losses), from any directory, then predicts as its `eval` section says
-- (docs/reference/cli/train.md).
local M = {}

M.help = [=[
Train the model a config describes, then predict with it.

usage: lpose train CONFIG [key=value ...] [--loss FILE.lua ...] [--output DIR]
                   [--nproc N] [--members N [--vary-data]]

CONFIG is a Lightning Pose config.yaml (or a .lua file returning the same
table). What it says is what is trained: model.model_type (heatmap or
heatmap_mhcrnn, the TCN), model.losses_to_use (none: supervised), the
backbone and every training key. key=value arguments override it in Hydra's
grammar (key=value, +key=value, ++key=value, ~key); anything else is an error.

After training, as Lightning Pose does: the labeled frames are predicted with
the best checkpoint (predictions.csv, predictions_pixel_error.csv) and, when
eval.predict_vids_after_training is true, every video of
eval.test_videos_directory (video_preds/, with a labeled video when
eval.save_vids_after_training is true).

  --loss FILE.lua   load a Lua file that registers losses (lpose.losses.register)
                    before the config is read; repeatable. A config can list
                    them itself in model.loss_files (paths relative to the
                    config file), so the config alone reproduces the run.
  --output DIR      the model directory (default: hydra.run.dir, else
                    outputs/YYYY-MM-DD/HH-MM-SS). A directory that already
                    holds a trained model is refused, unless the run resumes
                    it: training.resume_from=DIR/checkpoints/last.lpt
  --nproc N         N processes on this machine, data-parallel
                    (docs/guides/multi-gpu.md); with --members: N members
                    trained at once, one process each (default 1)
  --members N       an ensemble (docs/guides/ensembles.md): N models that
                    differ in training.rng_seed_model_pt (seed + 0 .. N-1),
                    each an ordinary model directory DIR/member_<i>, listed
                    in DIR/ensemble.json. Running the same command again
                    resumes unfinished members and skips finished ones.
  --vary-data       with --members: members differ in
                    training.rng_seed_data_pt too (different splits)

Exit status: 0 when training and prediction finished; 1 for a bad config,
bad data or a failed run (the model directory's train_status.json says
FAILED and why); 130 after Ctrl-C or SIGTERM (last.lpt saved,
train_status.json INTERRUPTED, no predictions).]=]

local function parse(args)
    local is_override = require('lpose.config.overrides').is_override
    local opts, pos = require('lpose.cli.args').parse(args, { loss = 'list', output = 'value', nproc = 'value',
        members = 'value', ['vary-data'] = 'flag' })
    if not opts then return nil, pos end
    local o = { help = opts.help, overrides = {}, losses = opts.loss or {}, vary_data = opts['vary-data'],
                output = opts.output, nproc = opts.nproc, members = opts.members }
    for _, a in ipairs(pos) do
        if o.config == nil and not is_override(a) then
            o.config = a
        elseif is_override(a) then
            o.overrides[#o.overrides + 1] = a
        else
            return nil, ("argument '%s' is not understood: expected key=value, +key=value, ++key=value or ~key")
                :format(a)
        end
    end
    return o
end

-- The command line again, without --nproc, for the worker processes.
local function worker_args(args)
    local out, i = {}, 1
    while i <= #args do
        local a = args[i]
        if a == '--nproc' then
            i = i + 1
        elseif not a:match('^%-%-nproc=') then
            out[#out + 1] = a
        end
        i = i + 1
    end
    return out
end

local function positive_int(value, what)
    local n = tonumber(value)
    if not n or n < 1 or n % 1 ~= 0 then return nil, ('train: %s must be a positive integer'):format(what) end
    return n
end

-- --members N: each member is `lpose train CONFIG ... --output DIR/member_<i>`
-- in its own process (lpose.ensemble).
local function train_ensemble(o)
    local members, err = positive_int(o.members, '--members')
    if not members then return nil, err end
    local nproc = 1
    if o.nproc then
        nproc, err = positive_int(o.nproc, '--nproc')
        if not nproc then return nil, err end
    end
    local config = require('lpose.config')
    local cfg = config.load({ file = o.config, overrides = o.overrides })
    local manifest, eerr, status = require('lpose.ensemble').train({
        config = o.config, cfg = cfg, overrides = o.overrides, losses = o.losses, members = members,
        vary_data = o.vary_data, nproc = nproc, output = o.output or config.model_dir(cfg),
    })
    if not manifest then
        if status == 130 then io.stderr:write('lpose: train: ', eerr, '\n') return nil, nil, 130 end
        return nil, 'train: ' .. eerr
    end
    print(('ensemble of %d members: %s'):format(#manifest.members, o.output or config.model_dir(cfg)))
    return true
end

local function train(args)
    local o, err = parse(args)
    if not o then return require('lpose.cli.args').usage_error('train', err) end
    if o.help then
        print(M.help)
        return true
    end
    if not o.config then return nil, "train: missing CONFIG (see 'lpose help train')" end
    if o.vary_data and not o.members then return nil, 'train: --vary-data needs --members N' end
    if o.members then return train_ensemble(o) end
    if o.nproc then
        local n, nerr = positive_int(o.nproc, '--nproc')
        if not n then return nil, nerr end
        local status = require('lpose.launch').run(n, worker_args(args), { command = 'train' })
        if status == 0 then return true end
        return nil, nil, status
    end
    local losses = require('lpose.losses')
    for _, path in ipairs(o.losses) do
        local ok, lerr = losses.load_file(path)
        if not ok then return nil, 'train: --loss ' .. lerr end
    end
    local config = require('lpose.config')
    local cfg = config.load({ file = o.config, overrides = o.overrides })
    local files = require('lpose.files')
    local dir = o.output or config.model_dir(cfg)
    if files.exists(dir .. '/checkpoints/last.lpt') and config.get(cfg, 'training.resume_from') == nil then
        return nil, ('train: %s already holds a model; resume it with training.resume_from=%s/checkpoints/last.lpt '
            .. 'or choose another --output'):format(dir, dir)
    end
    local lpose = require('lpose')
    local run = lpose.train.run(cfg, { model_dir = o.output }) -- raises 'interrupted!' after Ctrl-C
    require('lpose.report').after_training(run)
    return true
end

-- Run under lpose.cli.protect, as `lpose run` runs scripts: Ctrl-C is
-- armed, an expected error is one line (exit 1), a bug keeps its traceback.
function M.command(args)
    return require('lpose.cli.protect').command(train, nil, args)
end

return M
