-- lpose.mem: memory-pressure garbage collection (docs/design/memory.md §2).
--
-- LuaJIT sees an 8-byte box per tensor and gigabytes behind it, so its GC
-- alone would run far too late. The engine counts live tensor bytes; when
-- they pass a soft limit we run a full collection, and if more than 80 % is
-- still live afterwards the limit grows by 40 % (torch7's heap tracking).
-- t:free() on big temporaries remains the plan; this is the safety net.
local ffi = require('ffi')
local C = require('lpose.C').lib

local M = {}

local stats = ffi.new('lp_mem_stats')
local limit = { cpu = 300 * 2 ^ 20, cuda = 300 * 2 ^ 20 }
local initial = { cpu = limit.cpu, cuda = limit.cuda }
local check_every, countdown = 16, 16
M.n_collections = 0

--- mem.stats() -> {n_tensors=, bytes_cpu=, bytes_cuda=, limit_cpu=, limit_cuda=}
function M.stats()
    C.lp_mem_stats_get(stats)
    return {
        n_tensors = tonumber(stats.n_tensors),
        bytes_cpu = tonumber(stats.bytes_cpu),
        bytes_cuda = tonumber(stats.bytes_cuda),
        limit_cpu = limit.cpu,
        limit_cuda = limit.cuda,
        n_collections = M.n_collections,
    }
end

--- mem.set_limit(bytes [, 'cpu'|'cuda']): the soft limit that triggers a collection
function M.set_limit(bytes, kind)
    kind = kind or 'cpu'
    limit[kind], initial[kind] = bytes, bytes
end

function M.full_collect()
    collectgarbage('collect')
    collectgarbage('collect') -- a second pass runs finalizers queued by the first
    M.n_collections = M.n_collections + 1
end

local function pressure(kind, live)
    if live <= limit[kind] then return false end
    M.full_collect()
    C.lp_mem_stats_get(stats)
    local after = tonumber(kind == 'cpu' and stats.bytes_cpu or stats.bytes_cuda)
    if after > 0.8 * limit[kind] then
        limit[kind] = math.max(limit[kind] * 1.4, after * 1.4)
    elseif after < 0.5 * limit[kind] and limit[kind] > initial[kind] then
        limit[kind] = math.max(initial[kind], limit[kind] / 1.4)
    end
    return true
end

-- Called for every new tensor; looks at the counters every few tensors.
function M.on_alloc()
    countdown = countdown - 1
    if countdown > 0 then return end
    countdown = check_every
    C.lp_mem_stats_get(stats)
    if not pressure('cpu', tonumber(stats.bytes_cpu)) then
        pressure('cuda', tonumber(stats.bytes_cuda))
    end
end

return M
