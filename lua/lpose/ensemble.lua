-- lpose.ensemble: several models trained from one config that differ only in
-- their seeds, the input of the Ensemble Kalman Smoother (docs/guides/ensembles.md).
-- An ensemble directory holds ensemble.json and one ordinary model directory
-- per member (member_0, member_1, ...): every lpose command that takes a model
-- directory takes a member.
--
--   ensemble.json = {members = {{dir = 'member_0', rng_seed_model_pt = 0,
--                     rng_seed_data_pt = 0}, ...}, config = CONFIG, overrides = {...},
--                     vary_data = false}
local cjson = require('cjson')
local config = require('lpose.config')
local files = require('lpose.files')

local M = {}

M.MANIFEST = 'ensemble.json'

--- ensemble.is_ensemble(dir) -> true when dir holds ensemble.json
function M.is_ensemble(dir)
    return type(dir) == 'string' and files.exists(files.join(dir, M.MANIFEST))
end

--- ensemble.load(dir) -> manifest | nil, err
-- manifest.members[i].path is the member's directory (dir/member_<i-1>).
function M.load(dir)
    local path = files.join(dir, M.MANIFEST)
    local f, err = io.open(path, 'rb')
    if not f then return nil, ("cannot read '%s': %s"):format(path, err) end
    local text = f:read('*a')
    f:close()
    local ok, manifest = pcall(cjson.decode, text)
    if not ok or type(manifest) ~= 'table' or type(manifest.members) ~= 'table' or #manifest.members < 1 then
        return nil, ("%s: not an ensemble manifest (expected {\"members\": [...]})"):format(path)
    end
    for i, m in ipairs(manifest.members) do
        if type(m) ~= 'table' or type(m.dir) ~= 'string' then
            return nil, ('%s: member %d has no "dir"'):format(path, i)
        end
        m.path = files.join(dir, m.dir)
    end
    return manifest
end

--- ensemble.load_models(dir [, device]) -> {{name =, path =, model =}, ...} | nil, err
-- Every member's model (lpose.models.load_dir), or an error naming the first
-- member that cannot be loaded.
function M.load_models(dir, device)
    local manifest, err = M.load(dir)
    if not manifest then return nil, err end
    local members = {}
    for i, m in ipairs(manifest.members) do
        local model, merr = require('lpose.models').load_dir(m.path, device)
        if not model then return nil, ('ensemble %s, member %d: %s'):format(dir, i - 1, merr) end
        members[i] = { name = m.dir, path = m.path, model = model }
    end
    return members
end

--- ensemble.predict_video(members, video_path [, opts]) -> {members = {result...}, eks = result} | nil, err
-- Every member on the video, each frame decoded once for all of them
-- (lpose.predict.video_ensemble; member i writes member_dirs[i], default
-- MEMBER/video_preds), then the Ensemble Kalman Smoother over the members'
-- CSVs (lpose.eks.smooth) into opts.output_dir (default ENSEMBLE/video_preds)
-- as <stem>.csv: the ensemble's prediction. members: from ensemble.load_models.
-- opts: those of predict.video_ensemble, plus output_dir, member_dirs and the
-- EKS options smooth ('auto'), average ('median').
function M.predict_video(members, video_path, opts)
    opts = opts or {}
    local predict = require('lpose.predict')
    local models, dirs = {}, {}
    for i, m in ipairs(members) do
        models[i] = m.model
        dirs[i] = opts.member_dirs and opts.member_dirs[i] or (m.path .. '/video_preds')
    end
    local popts = {}
    for k, v in pairs(opts) do popts[k] = v end
    popts.output_dirs = dirs
    local results, err = predict.video_ensemble(models, video_path, popts)
    if not results then return nil, err end
    local csvs = {}
    for i, r in ipairs(results) do csvs[i] = r.csv end
    local out_dir = opts.output_dir or ((members[1].path:match('^(.*)/[^/]+$') or '.') .. '/video_preds')
    files.mkdir_p(out_dir)
    local smoothed, eerr = require('lpose.eks').smooth(csvs, {
        output = out_dir .. '/' .. predict.stem(video_path) .. '.csv',
        smooth = opts.smooth or 'auto', average = opts.average or 'median',
        keypoint_names = opts.keypoint_names,
    })
    if not smoothed then return nil, eerr end
    if opts.written then opts.written[#opts.written + 1] = smoothed.csv end
    return { members = results, eks = smoothed }
end

--- ensemble.keypoints_of(eks_result, x_column, y_column) -> keypoints[f][k] = {x, y}
-- Two columns of an EKS result (e.g. 'x', 'y' or 'x_ens_median', 'y_ens_median')
-- in metrics.read_csv's layout, for scoring.
function M.keypoints_of(result, x_column, y_column)
    local eks = require('lpose.eks')
    local x, y = eks.column(result, x_column), eks.column(result, y_column)
    local T, K = x:size(1), x:size(2)
    local xs, ys = x:contiguous():totable(), y:contiguous():totable()
    local out = {}
    for f = 1, T do
        local row = {}
        for k = 1, K do row[k] = { xs[f][k], ys[f][k] } end
        out[f] = row
    end
    return out
end

--- ensemble.member_seeds(cfg, i, vary_data) -> rng_seed_model_pt, rng_seed_data_pt
-- Member i (0-based) adds i to the config's model seed (initialisation of the
-- heads, order of the batches); with vary_data also to the data seed (the
-- train/validation split), so members then see different labeled frames.
function M.member_seeds(cfg, i, vary_data)
    local model_seed = config.get_or_default(cfg, 'training.rng_seed_model_pt')
    local data_seed = config.get_or_default(cfg, 'training.rng_seed_data_pt')
    return model_seed + i, data_seed + (vary_data and i or 0)
end

local function read_status(dir)
    local f = io.open(dir .. '/train_status.json', 'rb')
    if not f then return nil end
    local ok, st = pcall(cjson.decode, f:read('*a'))
    f:close()
    return ok and type(st) == 'table' and st.status or nil
end

--- ensemble.plan(opts) -> plan | nil, err
-- opts: config (path), cfg (the loaded config), overrides (list), losses (list of
-- --loss files), members (N >= 2), vary_data, output (the ensemble directory).
-- plan = {dir =, manifest =, jobs = {{name =, args = {'train', ...}}} (members
-- still to train: a COMPLETED member is skipped, an interrupted one resumed),
-- skipped = {names}}.
function M.plan(opts)
    local n = opts.members
    if type(n) ~= 'number' or n < 2 or n % 1 ~= 0 then
        return nil, '--members must be an integer >= 2 (one model needs no ensemble)'
    end
    for _, o in ipairs(opts.overrides) do
        if o:match('^%+*training%.resume_from=') then
            return nil, 'an ensemble resumes its members itself: run the same command again '
                .. '(without training.resume_from)'
        end
    end
    local dir = opts.output
    if files.exists(dir .. '/checkpoints/last.lpt') then
        return nil, ("%s already holds a single model; choose another --output"):format(dir)
    end
    if M.is_ensemble(dir) then
        local old, err = M.load(dir)
        if not old then return nil, err end
        if #old.members ~= n or (old.vary_data == true) ~= (opts.vary_data == true) then
            return nil, ('%s already holds an ensemble of %d members%s; choose another --output')
                :format(dir, #old.members, old.vary_data and ' (--vary-data)' or '')
        end
    end
    local manifest = { members = {}, config = opts.config, overrides = opts.overrides,
                       vary_data = opts.vary_data == true }
    local plan = { dir = dir, manifest = manifest, jobs = {}, skipped = {} }
    for i = 0, n - 1 do
        local model_seed, data_seed = M.member_seeds(opts.cfg, i, opts.vary_data)
        local name = 'member_' .. i
        manifest.members[i + 1] = { dir = name, rng_seed_model_pt = model_seed, rng_seed_data_pt = data_seed }
        local member_dir = dir .. '/' .. name
        local status = read_status(member_dir)
        if status == 'COMPLETED' then
            plan.skipped[#plan.skipped + 1] = name
        else
            local args = { 'train', opts.config }
            for _, o in ipairs(opts.overrides) do args[#args + 1] = o end
            args[#args + 1] = '++training.rng_seed_model_pt=' .. model_seed
            args[#args + 1] = '++training.rng_seed_data_pt=' .. data_seed
            if files.exists(member_dir .. '/checkpoints/last.lpt') then
                args[#args + 1] = '++training.resume_from=' .. member_dir .. '/checkpoints/last.lpt'
            end
            for _, l in ipairs(opts.losses or {}) do
                args[#args + 1] = '--loss'
                args[#args + 1] = l
            end
            args[#args + 1] = '--output'
            args[#args + 1] = member_dir
            plan.jobs[#plan.jobs + 1] = { name = name, args = args }
        end
    end
    return plan
end

--- ensemble.train(opts) -> manifest | nil, err
-- Trains the members of M.plan(opts) as `lpose train` processes, opts.nproc
-- (default 1) at a time, after writing dir/ensemble.json. Each member trains
-- and predicts as the config says (an ordinary model directory).
function M.train(opts)
    local plan, err = M.plan(opts)
    if not plan then return nil, err end
    files.mkdir_p(plan.dir)
    files.write_json(plan.dir .. '/' .. M.MANIFEST, plan.manifest)
    for _, name in ipairs(plan.skipped) do
        io.stderr:write(('lpose: %s already trained (train_status.json COMPLETED), skipped\n'):format(name))
    end
    local statuses = require('lpose.launch').pool(plan.jobs, opts.nproc or 1)
    local failed = {}
    for i, job in ipairs(plan.jobs) do
        local code = statuses[i]
        if code ~= 0 then
            failed[#failed + 1] = ('%s (%s)'):format(job.name, code == nil and 'not started'
                or code == 130 and 'interrupted' or 'exit status ' .. code)
        end
    end
    if #failed > 0 then
        local interrupted = false
        for _, code in pairs(statuses) do interrupted = interrupted or code == 130 end
        return nil, ('ensemble %s: unfinished members: %s; run the same command again to resume them')
            :format(plan.dir, table.concat(failed, ', ')), interrupted and 130 or 1
    end
    return plan.manifest
end

return M
