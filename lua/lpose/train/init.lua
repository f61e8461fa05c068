-- lpose.train: Lightning Pose's training loop as small pieces that
-- experiment scripts compose (docs/guides/training.md):
--
--   local run = lpose.train.setup(cfg)        -- data, model, optimizer, losses, model dir
--   lpose.train.fit(run)                      -- epochs: steps, validation, checkpoints
--   lpose.train.finish(run)                   -- best model, predictions, status file
--
-- or one call, lpose.train.run(cfg). Each piece is also public:
-- lpose.train.step.train_step(run, batch, frames, info), .validate(run),
-- lpose.train.epoch(run), lpose.train.save_checkpoint(run); callbacks are
-- tables of functions (on_epoch_start, on_step_end, on_epoch_end) appended
-- to run.callbacks.
local lpose = require('lpose')
local config = require('lpose.config')
local dtypes = require('lpose.dtypes')
local losses = require('lpose.losses')
local models = require('lpose.models')
local schedule = require('lpose.train.schedule')
local step = require('lpose.train.step')
local checkpoint = require('lpose.train.checkpoint')
local logger_mod = require('lpose.train.logger')
local unlabeled = require('lpose.train.unlabeled')
local files = require('lpose.files')
local parallel = require('lpose.train.parallel')
local checks = require('lpose.train.checks')

local M = {}
M.step, M.schedule, M.checkpoint, M.parallel, M.checks = step, schedule, checkpoint, parallel, checks

local function null(v) return v == nil or v == config.null end

-- ------------------------------------------------------------------ setup

local function build_data(run)
    local cfg = run.cfg
    local dataset, data = require('lpose.dataset'), require('lpose.data')
    local dims = cfg.data.image_resize_dims
    local csv = files.join(cfg.data.data_dir, cfg.data.csv_file)
    local data_seed = config.get_or_default(cfg, 'training.rng_seed_data_pt')
    local ds, err = dataset.open({
        data_dir = cfg.data.data_dir, csv_file = cfg.data.csv_file, height = dims.height, width = dims.width,
        downsample_factor = config.get_or_default(cfg, 'data.downsample_factor'),
        context = run.model:is_mhcrnn(), imgaug = config.get_or_default(cfg, 'training.imgaug'),
        hflip = cfg.training.imgaug_hflip, uniform_heatmaps = cfg.training.uniform_heatmaps_for_nan_keypoints,
        seed = data_seed,
    })
    if not ds then error(err, 0) end
    run.dataset = ds
    local tf = cfg.training.train_frames
    run.split = ds:split(cfg.training.train_prob, cfg.training.val_prob, data_seed, not null(tf) and tf or nil)
    if #run.split.train == 0 then error(('%s: no training frames after the split'):format(csv), 0) end
    local workers = cfg.training.num_workers
    workers = null(workers) and 2 or workers
    run.workers = workers
    M.open_train_loader(run)
    if #run.split.val > 0 and run.is_main then -- rank 0 alone validates
        run.val_loader = ds:loader({ indices = run.split.val, batch_size = cfg.training.val_batch_size,
            shuffle = false, augment = false, workers = workers })
    end
    -- The labels in original frame pixels (PCA fits, pixel errors) and the
    -- frame size: batches carry keypoints in model-input pixels.
    local labels, lerr = data.read_labels(csv, { data_dir = cfg.data.data_dir })
    if not labels then error(lerr, 0) end
    run.labels_keypoints = labels:keypoints()
    local first = files.join(cfg.data.data_dir, labels:image_paths()[1])
    labels:free()
    local rgb, ierr = data.read_image_rgb(first)
    if not rgb then error(ierr, 0) end
    run.frame_size = { height = rgb:size(1), width = rgb:size(2) }
    rgb:free()
    run.frame_scale = { x = run.frame_size.width / dims.width, y = run.frame_size.height / dims.height }
end

--- train.open_train_loader(run): the labeled train loader of epoch run.epoch.
-- Its shuffle and augmentation draws are seeded with rng_seed_data_pt + epoch,
-- so an epoch's batches do not depend on how many epochs ran in this process:
-- a resumed run sees exactly the batches of an uninterrupted one. In a
-- data-parallel job each rank loads its shard of every batch (LP's per-GPU
-- batch, ceil(train_batch_size / world size)).
function M.open_train_loader(run)
    if run.train_loader then run.train_loader:free() end
    local t = run.cfg.training
    local world = run.world_size or 1
    run.train_loader = run.dataset:loader({ indices = run.split.train,
        batch_size = parallel.per_rank_batch(t.train_batch_size, world),
        shard = { index = run.rank or 0, count = world },
        shuffle = true, augment = true, seed = (t.rng_seed_data_pt or 0) + run.epoch, workers = run.workers })
    run.train_loader_epoch = run.epoch
end

local function build_optimizer(run)
    local cfg = run.cfg
    local name = config.get_or_default(cfg, 'training.optimizer')
    local opts = { lr = schedule.head_lr(run.schedule, 0) }
    if name == 'AdamW' then
        -- torch's AdamW default decay; our Adam adds it as L2 (decoupled
        -- decay is not implemented: refuse rather than train differently)
        error("training.optimizer: AdamW is not supported yet (use Adam)", 0)
    elseif name ~= 'Adam' then
        error(("training.optimizer: unknown optimizer '%s' (Adam)"):format(tostring(name)), 0)
    end
    -- LP's groups, in LP's order: backbone first (lr 0 until unfreezing), then head
    run.optimizer = lpose.optim.Adam({}, opts)
    run.optimizer:add_param_group(run.model:parameters('backbone.'), 0)
    local head = {}
    for pname, p in run.model:named_parameters() do
        if pname:sub(1, 9) ~= 'backbone.' then head[#head + 1] = p end
    end
    run.optimizer:add_param_group(head, opts.lr)
end

local function fit_data(run)
    -- PCA losses are fitted on the train split's labeled keypoints in
    -- ORIGINAL frame pixels, the coordinates the unlabeled predictions have
    -- (LP fits in resized pixels: docs/spec/lp-model.md §4.5 quirk; we fit and apply in
    -- one system).
    if #losses.names_to_use(run.cfg) == 0 then return nil end
    local rows = {}
    for i, r in ipairs(run.split.train) do rows[i] = r + 1 end -- 0-based rows -> 1-based indices
    return run.labels_keypoints:index_select(1, rows)
end

-- train_status.json (rank 0 only): TRAINING, COMPLETED, INTERRUPTED, or
-- FAILED with the message, so no failed run is left saying TRAINING
local function write_status(run, status, message)
    if not run.is_main then return end
    files.write_json(run.model_dir .. '/train_status.json', { status = status, message = message,
        progress = { completed = run.epoch, total = run.max_epochs } })
end

-- model.loss_files travel with the model: copied into model_dir/loss_files/,
-- and the saved config names the copies (relative to config.yaml), so the
-- model directory alone reproduces the run and loads in `lpose predict`.
local function with_copied_loss_files(cfg, model_dir)
    local list = cfg.model.loss_files
    if type(list) ~= 'table' or #list == 0 then return cfg end
    files.mkdir_p(model_dir .. '/loss_files')
    local copied = {}
    for i, path in ipairs(list) do
        copied[i] = 'loss_files/' .. files.basename(path)
        files.copy(path, model_dir .. '/' .. copied[i])
    end
    local out, model = {}, {}
    for k, v in pairs(cfg) do out[k] = v end
    for k, v in pairs(cfg.model) do model[k] = v end
    model.loss_files = copied
    out.model = model
    return out
end

-- A run resumed into a new model directory starts with the best model so
-- far: checkpoints/best.lpt beside the resumed checkpoint. Without one, the
-- next validation decides the best model afresh.
local function carry_best(run)
    local dst = run.model_dir .. '/checkpoints/best.lpt'
    if files.exists(dst) then return end
    local src = (run.resumed_from:match('^(.*)/[^/]*$') or '.') .. '/best.lpt'
    if files.exists(src) then
        files.copy(src, dst)
    else
        run.best_val, run.best_epoch = 0 / 0, -1
    end
end

--- train.setup(cfg [, {model_dir=, quiet=}]) -> run
-- cfg: a loaded config (lpose.config.load). Checks the config against its
-- data (lpose.train.checks), builds model, data, optimizer and losses, then
-- creates the model directory and writes config.yaml: a setup that fails
-- leaves no directory behind.
function M.setup(cfg, opts)
    opts = opts or {}
    local run = { cfg = cfg, epoch = 0, step = 0, epoch_step = 0, best_val = 0 / 0, best_epoch = -1, callbacks = {} }
    if not null(cfg.training.num_threads) then lpose.set_num_threads(cfg.training.num_threads) end
    lpose.manual_seed(0) -- LP seeds torch with 0 before anything else
    run.device = dtypes.resolve_device(cfg.training.device)
    parallel.setup(run) -- joins a data-parallel job if the environment describes one
    -- every rank names the same directory (rank 0's clock); only rank 0 writes
    -- there, once everything below has been built
    run.model_dir = opts.model_dir or config.model_dir(cfg, { time = parallel.broadcast_number(os.time()) })
    -- config vs data, before anything is built (the frame sample on rank 0 only)
    run.warnings = checks.run(cfg, { frames = run.is_main })
    run.schedule = schedule.from_config(cfg)

    -- models.new loads model.backbone_weights; its report is kept on the run
    run.model = models.new(cfg)
    local setup_messages = {}
    if run.model.backbone_weights_report then
        run.weights_report = run.model.backbone_weights_report
        local line, warning = checks.weights(run.weights_report, cfg.model.backbone_weights)
        setup_messages[#setup_messages + 1] = line
        if warning then run.warnings[#run.warnings + 1] = warning end
    end
    run.model:to(run.device)
    parallel.prepare_model(run)
    step.train_mode(run)
    build_data(run)
    build_optimizer(run)
    run.loss_supervised = losses.supervised(cfg)
    run.losses_unsupervised = losses.unsupervised(cfg, fit_data(run))
    run.semi_supervised = #run.losses_unsupervised > 0
    if run.semi_supervised then
        local dims = cfg.data.image_resize_dims
        local n = run.model:is_mhcrnn() and cfg.dali.context.train.batch_size or cfg.dali.base.train.sequence_length
        n = parallel.per_rank_window(n, run.world_size, run.model:is_mhcrnn())
        -- each rank draws its own windows (LP: seed + LOCAL_RANK; the global
        -- rank here, so that machines of a multi-node job differ too)
        local seed = config.get_or_default(cfg, 'dali.general.seed') + run.rank
        local window_key = run.model:is_mhcrnn() and 'dali.context.train.batch_size'
            or 'dali.base.train.sequence_length'
        local stream, err = unlabeled.open({ dir = cfg.data.video_dir, n_frames = n, height = dims.height,
            width = dims.width, seed = seed, window_key = window_key })
        if not stream then error(err, 0) end
        run.unlabeled = stream
    end
    -- LP: steps per epoch = ceil(n_train / batch), at least 10 when semi-supervised
    local n_batches = run.train_loader.n_batches
    if run.semi_supervised then n_batches = math.max(10, n_batches) end
    local limit = cfg.training.limit_train_batches
    if not null(limit) then
        n_batches = limit < 1 and math.max(1, math.floor(limit * n_batches)) or math.min(n_batches, limit)
    end
    run.steps_per_epoch = n_batches
    run.max_epochs = config.get_or_default(cfg, 'training.max_epochs')
    run.min_epochs = cfg.training.min_epochs or run.max_epochs

    if not null(cfg.training.resume_from) then
        local state, err = checkpoint.load(cfg.training.resume_from, run.model, run.optimizer)
        if not state then error('training.resume_from: ' .. err, 0) end
        run.epoch, run.step = state.epoch, state.step
        run.best_val, run.best_epoch = state.best_val, state.best_epoch
        -- a checkpoint of an interrupted epoch: that epoch continues at its next step
        run.epoch_step = state.epoch_step or 0
        if run.epoch_step > run.steps_per_epoch then
            error(('%s was saved after step %d of epoch %d, which has %d steps with this config'):format(
                cfg.training.resume_from, run.epoch_step, run.epoch, run.steps_per_epoch), 0)
        end
        run.resumed_from = cfg.training.resume_from
    end

    if run.is_main then
        files.mkdir_p(run.model_dir)
        files.mkdir_p(run.model_dir .. '/checkpoints')
    end
    if run.resumed_from and run.is_main then
        carry_best(run)
        -- rows logged after the checkpoint (a run killed before its next save)
        -- are logged again by this run: drop them, so no row is written twice
        logger_mod.drop_after(run.model_dir, run.step)
    end
    run.logger = logger_mod.new({ dir = run.is_main and run.model_dir or nil, first_step = run.step,
        total_steps = run.steps_per_epoch * run.max_epochs,
        every = config.get_or_default(cfg, 'training.log_every_n_steps'),
        quiet = opts.quiet or not run.is_main, append = run.resumed_from ~= nil })
    for _, line in ipairs(setup_messages) do run.logger:message(line) end
    for _, w in ipairs(run.warnings) do run.logger:message(w) end
    if run.is_main then
        config.save(with_copied_loss_files(cfg, run.model_dir), run.model_dir .. '/config.yaml')
        local csv = files.join(cfg.data.data_dir, cfg.data.csv_file)
        files.copy(csv, run.model_dir .. '/' .. files.basename(csv))
        write_status(run, 'TRAINING')
        if run.world_size > 1 then
            run.logger:message(('data-parallel: %d processes, labeled batch %d per process'):format(
                run.world_size, parallel.per_rank_batch(cfg.training.train_batch_size, run.world_size)))
        end
    end
    return run
end

-- ------------------------------------------------------------------ epochs

--- train.save_checkpoint(run): checkpoints/last.lpt (resume) atomically; rank 0 only
function M.save_checkpoint(run)
    if run.is_main == false then return end
    local ok, err = checkpoint.save(run.model_dir .. '/checkpoints/last.lpt', run.model, run.optimizer, {
        epoch = run.epoch, step = run.step, epoch_step = run.epoch_step, best_val = run.best_val,
        best_epoch = run.best_epoch })
    if not ok then error(err, 0) end
end

local function set_learning_rates(run)
    run.optimizer:set_lr(schedule.backbone_lr(run.schedule, run.epoch), 1)
    run.optimizer:set_lr(schedule.head_lr(run.schedule, run.epoch), 2)
    run.anneal = losses.anneal_weight(run.epoch, run.cfg)
end

local function call_callbacks(run, event, ...)
    for _, cb in ipairs(run.callbacks) do
        if cb[event] then cb[event](run, ...) end
    end
end

-- The labeled batch of the next step (the loader cycles, as LP's
-- max_size_cycle) and, when semi-supervised, the unlabeled window (or only
-- its draw, with skip_frames: resuming replays the draws without decoding).
local function next_inputs(run, skip_frames)
    local batch, berr = run.train_loader:next()
    if batch == nil and berr == nil then batch, berr = run.train_loader:next() end
    if batch == nil then error(berr or 'the labeled loader returned no batch', 0) end
    local frames, info
    if run.unlabeled and skip_frames then
        run.unlabeled:skip(1)
    elseif run.unlabeled then
        frames, info = run.unlabeled:next()
        if not frames then error(info, 0) end
    end
    return batch, frames, info
end

-- Ctrl-C / SIGTERM during fit: deferred (lpose.cli.host.defer_interrupts), so
-- a signal sets the engine's flag and training stops here, between steps,
-- where the weights, the optimizer and run.step agree.
local function stop_if_interrupted()
    if lpose.C.lp_interrupt_pending() ~= 0 then error('interrupted!', 0) end
end

--- train.epoch(run) -> mean logs of the epoch's steps
-- run.epoch_step counts the steps done in this epoch; an epoch resumed from a
-- mid-epoch checkpoint first replays its first run.epoch_step inputs (same
-- data order, same augmentation and window draws) without training on them.
function M.epoch(run)
    set_learning_rates(run)
    if run.train_loader_epoch ~= run.epoch then M.open_train_loader(run) end
    if run.unlabeled then run.unlabeled:reseed(run.epoch) end
    if run.epoch_step < run.steps_per_epoch then -- (an epoch whose steps are all done replays nothing)
        for _ = 1, run.epoch_step do step.free_all((next_inputs(run, true))) end
    end
    call_callbacks(run, 'on_epoch_start')
    local sums, counts = {}, {}
    while run.epoch_step < run.steps_per_epoch do
        stop_if_interrupted()
        local batch, frames, info = next_inputs(run)
        local logs = parallel.average_logs(step.train_step(run, batch, frames, info))
        step.free_all(batch)
        if frames then frames:free() end
        run.step = run.step + 1
        run.epoch_step = run.epoch_step + 1
        logs['lr-Adam/backbone'] = run.optimizer:get_lr(1)
        logs['lr-Adam/head'] = run.optimizer:get_lr(2)
        run.logger:log(run.step, run.epoch, 'train', logs)
        for k, v in pairs(logs) do
            if v == v then sums[k], counts[k] = (sums[k] or 0) + v, (counts[k] or 0) + 1 end
        end
        run.logger:progress(run.step, run.epoch, { loss = logs.total_loss or logs.train_supervised_loss,
            rmse = logs.train_supervised_rmse })
        call_callbacks(run, 'on_step_end', logs)
        if run.stop_requested then break end
    end
    local means = {}
    for k, v in pairs(sums) do means[k] = v / counts[k] end
    return means
end

local function is_val_epoch(run)
    local every = config.get_or_default(run.cfg, 'training.check_val_every_n_epoch')
    return (run.epoch + 1) % every == 0 or run.epoch + 1 == run.max_epochs
end

-- checkpoints/best.lpt (rank 0 only)
local function save_best(run)
    if run.is_main == false then return end
    local saved, serr = run.model:save(run.model_dir .. '/checkpoints/best.lpt')
    if not saved then error(serr, 0) end
end

--- train.fit(run): epochs from run.epoch to max_epochs, validation every
-- check_val_every_n_epoch, best model by val_supervised_loss, early stopping,
-- last checkpoint after every epoch. Ctrl-C saves a checkpoint and returns.
function M.fit(run)
    local patience = config.get_or_default(run.cfg, 'training.early_stop_patience')
    local bad_checks = 0
    local ok_host, host = pcall(require, 'lpose.cli.host')
    local deferred = ok_host and host.defer_interrupts and host.defer_interrupts(true)
    local ok, err = pcall(function()
        while run.epoch < run.max_epochs do
            M.epoch(run)
            local val = {}
            stop_if_interrupted()
            if is_val_epoch(run) then
                val = parallel.share_validation(run.is_main and step.validate(run) or {})
                run.logger:log(run.step, run.epoch, 'val', val)
                local v = val.val_supervised_loss
                if v and (run.best_val ~= run.best_val or v < run.best_val) then
                    run.best_val, run.best_epoch = v, run.epoch
                    save_best(run)
                    bad_checks = 0
                elseif v then
                    bad_checks = bad_checks + 1
                end
                run.logger:message(('epoch %d: val_supervised_loss %.5g  val_supervised_rmse %.3g px%s'):format(
                    run.epoch, v or 0 / 0, val.val_supervised_rmse or 0 / 0,
                    run.best_epoch == run.epoch and '  (best)' or ''))
            end
            run.epoch, run.epoch_step = run.epoch + 1, 0
            M.save_checkpoint(run)
            write_status(run, 'TRAINING')
            call_callbacks(run, 'on_epoch_end', val)
            if run.cfg.training.early_stopping and bad_checks >= patience and run.epoch >= run.min_epochs then
                run.logger:message(('early stopping after %d validations without improvement'):format(bad_checks))
                break
            end
            if run.stop_requested then break end
        end
    end)
    if ok_host and host.defer_interrupts then host.defer_interrupts(deferred) end
    if not ok then
        if tostring(err):find('interrupted', 1, true) then
            -- Ctrl-C: keep what was learnt; resuming continues this epoch at
            -- step run.epoch_step + 1 (a step cut short is not counted)
            M.save_checkpoint(run)
            run.logger:message(('interrupted: checkpoint saved to %s/checkpoints/last.lpt (resume with '
                .. 'training.resume_from=...)'):format(run.model_dir))
            run.interrupted = true
        else
            write_status(run, 'FAILED', tostring(err))
            error(err, 0)
        end
    end
    -- no validation ever ran (e.g. no val split): the final weights are the best we have
    if run.best_epoch < 0 then save_best(run) end
    return run
end

--- train.finish(run): loss curve, status file, and releases loaders/readers.
function M.finish(run)
    local plot = require('lpose.train.plot')
    if run.is_main then -- a failed plot must not fail the run: say why and go on
        local ok, res, err = pcall(plot.loss_curves, run.logger, run.model_dir .. '/loss_curves.png')
        if not ok or not res then run.logger:message('loss_curves.png not written: ' .. tostring(ok and err or res)) end
    end
    run.logger:close()
    write_status(run, run.interrupted and 'INTERRUPTED' or 'COMPLETED')
    if run.unlabeled then run.unlabeled:close() end
end

--- train.run(cfg [, opts]) -> run: setup, fit, finish. After Ctrl-C (or
-- SIGTERM) the checkpoint is saved and the status file says INTERRUPTED,
-- then the interrupt is raised again ('interrupted!'), so a script stops
-- there: nothing runs on a barely trained model, and `lpose run` exits 130.
function M.run(cfg, opts)
    local run = M.setup(cfg, opts)
    M.fit(run)
    M.finish(run)
    if run.interrupted then error('interrupted!', 0) end
    return run
end

--- train.load_best(model_dir) -> model | nil, err (checkpoints/best.lpt)
function M.load_best(model_dir)
    return models.load(model_dir .. '/checkpoints/best.lpt')
end

return M
