-- lpose.train.parallel: data-parallel training (docs/guides/multi-gpu.md).
-- Every rank holds the whole model; rank 0's initial weights are broadcast;
-- each rank takes its shard of every labeled batch and its own unlabeled
-- windows; after backward the gradients are averaged (bucketed all-reduce),
-- so every rank applies the same update and the weights stay identical.
-- Batch norm is synchronised (LP's sync_batchnorm=True): N processes
-- normalise as one process on the combined batch. Rank 0 alone validates
-- and writes files; the values that steer training (validation loss,
-- logged losses) are shared so all ranks decide alike.
--
-- LP's per-GPU sizes (docs/spec/lp-data-train.md §1.7, §3.2): labeled batch
-- ceil(train_batch_size / world), TCN unlabeled window ceil((S - 4) / world) + 4,
-- single-frame unlabeled window ceil(S / world).
local lpose = require('lpose')
local dist = require('lpose.dist')

local M = {}

local function null(v) return v == nil or v == require('lpose.config').null end
local function single() return dist.world_size() == 1 end

--- parallel.setup(run): joins the job the environment describes (if any)
-- and fills run.rank, run.world_size, run.is_main; on CUDA, picks the GPU
-- of this rank's LOCAL_RANK. Call before the model is built.
function M.setup(run)
    local cfg = run.cfg
    local cuda = run.device:match('^cuda') ~= nil
    if cuda and dist.env() and (dist.env().world_size or 1) > 1 then
        -- this rank's GPU; a process that sees one GPU only (Slurm --gpus-per-task=1,
        -- CUDA_VISIBLE_DEVICES per rank) uses that one
        local gpus, local_rank = lpose.cuda_device_count(), dist.env().local_rank or 0
        if gpus == 1 then local_rank = 0 end
        if local_rank >= gpus then
            error(('LOCAL_RANK %d but this process sees %d GPU(s): start at most one process per GPU'):format(
                local_rank, gpus), 0)
        end
        run.device = 'cuda:' .. local_rank
    end
    if not dist.is_initialized() then
        dist.init_from_env({ backend = cuda and 'nccl' or 'gloo' })
    end
    run.rank, run.world_size, run.is_main = dist.rank(), dist.world_size(), dist.is_main()
    local gpus = cfg.training.num_gpus
    local nodes = null(cfg.training.num_nodes) and 1 or cfg.training.num_nodes
    gpus = (null(gpus) or gpus < 1) and 1 or gpus
    if gpus * nodes > 1 and gpus * nodes ~= run.world_size then
        error(('training.num_gpus=%d x training.num_nodes=%d asks for %d processes, but this job has %d: '
            .. 'start one process per GPU (lpose run --nproc %d ..., torchrun or srun), or set '
            .. 'training.num_gpus to match'):format(gpus, nodes, gpus * nodes, run.world_size, gpus), 0)
    end
    return run
end

--- parallel.per_rank_batch(n, world) -> LP's per-rank labeled batch, ceil(n / world)
function M.per_rank_batch(n, world) return math.ceil(n / world) end

--- parallel.per_rank_window(n, world, context) -> LP's per-rank unlabeled window
function M.per_rank_window(n, world, context)
    if world <= 1 then return n end
    if context then return math.ceil(math.max(n - 4, 0) / world + 4) end
    return math.ceil(n / world)
end

--- parallel.broadcast_number(x) -> rank 0's value of x on every rank
function M.broadcast_number(x)
    if single() then return x end
    local t = lpose.tensor({ x }, { dtype = 'f64' })
    dist.broadcast(t, 0)
    local v = t:item()
    t:free()
    return v
end

--- parallel.prepare_model(run): rank 0's weights everywhere, and LP's
-- synchronised batch norm unless training.sync_batchnorm is false
function M.prepare_model(run)
    if single() then return end
    M.broadcast_model(run.model)
    if run.cfg.training.sync_batchnorm ~= false then run.model:set_sync_batchnorm(true) end
end

--- parallel.broadcast_model(model): rank 0's parameters and buffers everywhere
function M.broadcast_model(model)
    if single() then return end
    local state, names = model:state_dict()
    local list = {}
    for i, n in ipairs(names) do list[i] = state[n] end
    dist.broadcast(list, 0)
    for _, t in ipairs(list) do t:free() end
end

--- parallel.average_gradients(model): mean gradient over the ranks, in place
-- (one all-reduce per 25 MiB bucket). Every trainable parameter must have a
-- gradient on every rank, so the buckets line up.
function M.average_gradients(model)
    if single() then return end
    local grads = {}
    for name, p in model:named_parameters() do
        local g = p:grad()
        if g == nil then
            error(('data-parallel step: parameter %s has no gradient on rank %d (every rank must use '
                .. 'every parameter in its loss)'):format(name, dist.rank()), 0)
        end
        grads[#grads + 1] = g
    end
    dist.all_reduce(grads, 'avg')
    for _, g in ipairs(grads) do g:free() end
end

--- parallel.average_logs(logs) -> logs averaged over the ranks (same keys on every rank)
function M.average_logs(logs)
    if single() then return logs end
    local keys = {}
    for k in pairs(logs) do keys[#keys + 1] = k end
    table.sort(keys)
    local values = {}
    for i, k in ipairs(keys) do values[i] = logs[k] end
    local t = lpose.tensor(values, { dtype = 'f64' })
    dist.all_reduce(t, 'avg')
    local avg = t:totable()
    t:free()
    local out = {}
    for i, k in ipairs(keys) do out[k] = avg[i] end
    return out
end

--- parallel.share_validation(logs) -> rank 0's validation logs on every rank
-- (only rank 0 validates; early stopping and best-model choices must agree)
function M.share_validation(logs)
    if single() then return logs end
    local v = M.broadcast_number(logs.val_supervised_loss or 0 / 0)
    if not dist.is_main() then logs = { val_supervised_loss = v == v and v or nil } end
    return logs
end

return M
