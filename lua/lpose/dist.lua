-- lpose.dist: several processes as one training job, over libtorch's c10d
-- process groups (engine/shim/dist.cpp): Gloo for CPU tensors, NCCL for
-- CUDA tensors (docs/guides/multi-gpu.md).
--
--   lpose.dist.init()                      -- from torchrun / Slurm / `lpose run --nproc` variables
--   lpose.dist.all_reduce(grads, 'avg')    -- in place, bucketed
--   if lpose.dist.is_main() then ... end   -- rank 0 writes files
--
-- One group per process, like torch.distributed's default group. Without
-- init every call acts as a world of one (rank 0, collectives do nothing),
-- so the same script runs alone or in a group.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')

local C, check, argerror = lp.lib, lp.check, lp.argerror

local M = {}

local group -- the lp_dist* of this process, once init ran
local local_rank, local_world_size = 0, 1

local OPS = { sum = C.LP_DIST_SUM, avg = C.LP_DIST_AVG, max = C.LP_DIST_MAX, min = C.LP_DIST_MIN }

local function env_int(name)
    local v = os.getenv(name)
    if v == nil or v == '' then return nil end
    local n = tonumber(v)
    if not n or n ~= math.floor(n) then
        error(('environment variable %s=%s is not an integer'):format(name, v), 0)
    end
    return n
end

--- dist.first_host(nodelist) -> the first host of a Slurm node list
-- ('gpu[07-09,12],cpu1' -> 'gpu07'), as the rendezvous address.
function M.first_host(nodelist)
    local depth, cut = 0, #nodelist + 1
    for i = 1, #nodelist do
        local c = nodelist:sub(i, i)
        if c == '[' then depth = depth + 1 elseif c == ']' then depth = depth - 1
        elseif c == ',' and depth == 0 then cut = i; break end
    end
    local first = nodelist:sub(1, cut - 1)
    local prefix, ranges = first:match('^([^%[]*)%[([^%]]*)%]')
    if not prefix then return first end
    return prefix .. ranges:match('^([^,%-]+)')
end

--- dist.env() -> {rank, world_size, local_rank, local_world_size, master_addr,
-- master_port, store_path, source} | nil
-- The job's layout as a launcher set it: torchrun's and `lpose run --nproc`'s
-- RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
-- (LPOSE_DIST_STORE: a FileStore path instead of TCP), else Slurm's
-- SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE and the
-- first host of SLURM_JOB_NODELIST (port: MASTER_PORT or 29500). nil when
-- neither is set.
function M.env()
    local e
    if os.getenv('WORLD_SIZE') and os.getenv('RANK') then
        e = { rank = env_int('RANK'), world_size = env_int('WORLD_SIZE'), local_rank = env_int('LOCAL_RANK') or 0,
              local_world_size = env_int('LOCAL_WORLD_SIZE'), master_addr = os.getenv('MASTER_ADDR'),
              source = 'environment (RANK, WORLD_SIZE)' }
    elseif os.getenv('SLURM_PROCID') and os.getenv('SLURM_NTASKS') then
        local nodes = os.getenv('SLURM_JOB_NODELIST') or os.getenv('SLURM_NODELIST')
        local per_node = os.getenv('SLURM_NTASKS_PER_NODE')
        e = { rank = env_int('SLURM_PROCID'), world_size = env_int('SLURM_NTASKS'),
              local_rank = env_int('SLURM_LOCALID') or 0,
              local_world_size = per_node and tonumber(per_node:match('^(%d+)')) or nil,
              master_addr = os.getenv('MASTER_ADDR') or (nodes and M.first_host(nodes)),
              source = 'Slurm (SLURM_PROCID, SLURM_NTASKS)' }
    else
        return nil
    end
    e.master_port = env_int('MASTER_PORT')
    e.store_path = os.getenv('LPOSE_DIST_STORE')
    e.local_world_size = e.local_world_size or e.world_size
    return e
end

--- dist.init{backend=, rank=, world_size=, local_rank=, master_addr=, master_port=,
-- store_path=, interface=, timeout=} -> true
-- Joins the group; blocks until every rank has joined. Fields not given come
-- from dist.env(). backend: 'gloo' (CPU tensors, the default) or 'nccl' (CUDA
-- tensors). timeout (seconds; default LPOSE_DIST_TIMEOUT, else 1800) bounds
-- the rendezvous and every collective: a rank that hangs makes the others
-- fail with an error after it (one that dies, at once). interface:
-- Gloo's network interface (default GLOO_SOCKET_IFNAME, then see lpose/dist.h).
function M.init(opts)
    opts = opts or {}
    if group then argerror('lpose.dist.init', 'already initialized (call lpose.dist.destroy() first)') end
    local e = M.env() or {}
    local p = C.lp_dist_default_params()
    local rank = opts.rank or e.rank or 0
    local world = opts.world_size or e.world_size or 1
    local backend = opts.backend or 'gloo'
    if backend ~= 'gloo' and backend ~= 'nccl' then
        argerror('lpose.dist.init', ("backend must be 'gloo' or 'nccl', got '%s'"):format(tostring(backend)))
    end
    p.backend = backend == 'nccl' and C.LP_DIST_NCCL or C.LP_DIST_GLOO
    p.rank, p.world_size = rank, world
    local addr = opts.master_addr or e.master_addr
    local store = opts.store_path or e.store_path
    local iface = opts.interface or os.getenv('GLOO_SOCKET_IFNAME')
    -- the locals hold the strings p points into until lp_dist_init returns
    if addr then p.master_addr = addr end
    if store then p.store_path = store end
    if iface and iface ~= '' then p.gloo_interface = iface end
    p.master_port = opts.master_port or e.master_port or 29500
    p.timeout_ms = (opts.timeout or env_int('LPOSE_DIST_TIMEOUT') or 1800) * 1000
    -- torchrun (TORCHELASTIC_USE_AGENT_STORE=True) serves the store on MASTER_PORT itself
    p.store_served = os.getenv('TORCHELASTIC_USE_AGENT_STORE') == 'True' and 1 or 0
    local out = ffi.new('lp_dist*[1]')
    check(C.lp_dist_init(p, out))
    group = ffi.gc(out[0], C.lp_dist_free)
    local_rank = opts.local_rank or e.local_rank or 0
    local_world_size = opts.local_world_size or e.local_world_size or world
    return true
end

--- dist.init_from_env() -> true if the environment described a job of
-- more than one process and this process joined it (dist.env, dist.init)
function M.init_from_env(opts)
    if group then return true end
    local e = M.env()
    if not e or e.world_size <= 1 then return false end
    return M.init(opts)
end

--- dist.is_initialized() -> boolean
function M.is_initialized() return group ~= nil end
--- dist.rank() -> this process's rank (0 when not initialized)
function M.rank() return group and C.lp_dist_rank(group) or 0 end
--- dist.world_size() -> number of processes (1 when not initialized)
function M.world_size() return group and C.lp_dist_world_size(group) or 1 end
--- dist.local_rank() -> rank among the processes of this machine (the GPU index)
function M.local_rank() return local_rank end
--- dist.local_world_size() -> processes on this machine
function M.local_world_size() return local_world_size end
--- dist.is_main() -> true on rank 0 (the process that writes files)
function M.is_main() return M.rank() == 0 end

-- A tensor or a list of tensors -> lp_tensor*[n], n (the caller's t keeps the tensors alive)
local function handles(fname, t)
    local list = tensor.is_tensor(t) and { t } or t
    if type(list) ~= 'table' then argerror(fname, 'expected a tensor or a list of tensors') end
    local arr = ffi.new('lp_tensor*[?]', math.max(#list, 1))
    for i, x in ipairs(list) do
        if not tensor.is_tensor(x) then argerror(fname, ('element %d is not a tensor'):format(i)) end
        arr[i - 1] = tensor.handle(x, fname)
    end
    return arr, #list
end

--- dist.all_reduce(t_or_list [, op='sum'] [, {bucket_mb=25}]) -> t_or_list
-- In place on every rank: 'sum', 'avg', 'max' or 'min' over the ranks.
-- A list is packed into flat buckets (one collective each, all in flight).
function M.all_reduce(t, op, opts)
    local code = OPS[op or 'sum']
    if code == nil then
        argerror('lpose.dist.all_reduce', ("op must be 'sum', 'avg', 'max' or 'min', got '%s'"):format(tostring(op)))
    end
    local arr, n = handles('lpose.dist.all_reduce', t)
    if group and n > 0 then
        local bytes = math.floor((opts and opts.bucket_mb or 25) * 1048576)
        check(C.lp_dist_all_reduce(group, arr, n, code, bytes))
    end
    return t
end

--- dist.broadcast(t_or_list [, root=0]) -> t_or_list: in place, root's values everywhere
function M.broadcast(t, root)
    local arr, n = handles('lpose.dist.broadcast', t)
    if group and n > 0 then check(C.lp_dist_broadcast(group, arr, n, root or 0)) end
    return t
end

-- The lp_dist* of this process (nil before init), for engine calls such as
-- lp_model_set_sync_batchnorm.
function M._group() return group end

--- dist.barrier(): returns when every rank has called it
function M.barrier()
    if group then check(C.lp_dist_barrier(group)) end
end

--- dist.destroy(): leaves the group (at exit this happens by itself)
function M.destroy()
    if group then
        C.lp_dist_free(ffi.gc(group, nil))
        group = nil
    end
end

return M
