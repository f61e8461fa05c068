-- lpose.launch: `lpose run --nproc N SCRIPT ...` starts N copies of lpose
-- running SCRIPT as one job on this machine, with the variables torchrun
-- sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
-- MASTER_PORT), so lpose.dist.init() in the script joins them. It watches
-- the workers: when one fails, the others are stopped (SIGTERM, then
-- SIGKILL after a grace period) and the launcher exits with the failed
-- worker's status, so a crashed rank never leaves the rest hanging.
local ffi = require('ffi')
local lp = require('lpose.C')

local C = lp.lib

local M = {}

pcall(ffi.cdef, [[
    int usleep(unsigned int usec);
    long sysconf(int name);
    ssize_t readlink(const char *path, char *buf, size_t size);
]])

local SIGTERM, SIGKILL = 15, 9
local SC_NPROCESSORS_ONLN = 84

-- The path of the running lpose executable.
local function self_exe()
    local buf = ffi.new('char[4096]')
    local n = ffi.C.readlink('/proc/self/exe', buf, 4095)
    if n <= 0 then return arg and arg[-2] or 'lpose' end
    return ffi.string(buf, n)
end

local function spawn(argv, env)
    local cargv = ffi.new('const char*[?]', #argv + 1)
    for i, a in ipairs(argv) do cargv[i - 1] = a end
    local cenv = ffi.new('const char*[?]', #env + 1)
    for i, a in ipairs(env) do cenv[i - 1] = a end
    local pid = ffi.new('int64_t[1]')
    lp.check(C.lp_process_spawn(cargv, cenv, pid))
    return tonumber(pid[0])
end

-- pid -> exit code once ended, nil while it runs
local function poll(pid, block)
    local ended, code = ffi.new('int32_t[1]'), ffi.new('int32_t[1]')
    lp.check(C.lp_process_wait(pid, block and 1 or 0, ended, code))
    if ended[0] == 1 then return tonumber(code[0]) end
    return nil
end

--- launch.worker_env(rank, nproc, port) -> {"KEY=VALUE", ...} for one worker
-- Threads: the machine's cores shared out (LPOSE_NUM_THREADS), unless set.
function M.worker_env(rank, nproc, port)
    local env = { 'RANK=' .. rank, 'WORLD_SIZE=' .. nproc, 'LOCAL_RANK=' .. rank,
        'LOCAL_WORLD_SIZE=' .. nproc, 'MASTER_ADDR=127.0.0.1', 'MASTER_PORT=' .. port }
    if not os.getenv('LPOSE_NUM_THREADS') then
        local cores = tonumber(ffi.C.sysconf(SC_NPROCESSORS_ONLN)) or 1
        env[#env + 1] = 'LPOSE_NUM_THREADS=' .. math.max(1, math.floor(cores / nproc))
    end
    return env
end

--- launch.run(nproc, script_args [, {grace = 10, quiet = false, command = 'run'}]) -> exit status
-- script_args: the arguments of `lpose run` after --nproc N (SCRIPT, overrides...);
-- with command = 'train', those of `lpose train` (CONFIG, overrides...).
function M.run(nproc, script_args, opts)
    opts = opts or {}
    local port = tonumber(os.getenv('MASTER_PORT'))
    if not port then
        local p = ffi.new('int32_t[1]')
        lp.check(C.lp_free_tcp_port(p))
        port = p[0]
    end
    local exe = self_exe()
    local alive = {}
    for rank = 0, nproc - 1 do
        local argv = { exe, opts.command or 'run' }
        for _, a in ipairs(script_args) do argv[#argv + 1] = a end
        local ok, pid = pcall(spawn, argv, M.worker_env(rank, nproc, port))
        if not ok then
            for _, p in pairs(alive) do C.lp_process_kill(p, SIGKILL); poll(p, true) end
            error(pid, 0)
        end
        alive[rank] = pid
    end
    if not opts.quiet then
        io.stderr:write(('lpose %s --nproc %d: started ranks 0-%d (rendezvous 127.0.0.1:%d)\n')
            :format(opts.command or 'run', nproc, nproc - 1, port))
    end
    local status, failed, failed_at, interrupts = 0, nil, nil, 0
    local function stop_others(rank, code)
        failed, status, failed_at = rank, code, os.time()
        for _, p in pairs(alive) do C.lp_process_kill(p, SIGTERM) end
    end
    while next(alive) do
        -- Ctrl-C reaches the workers too (same process group): they save and
        -- exit; the launcher keeps waiting for them instead of leaving orphans.
        local ok, err = pcall(function()
            for rank, pid in pairs(alive) do
                local code = poll(pid, false)
                if code then
                    alive[rank] = nil
                    if code ~= 0 and not failed then
                        io.stderr:write(('lpose run --nproc %d: rank %d exited with status %d; '
                            .. 'stopping the other ranks\n'):format(nproc, rank, code))
                        stop_others(rank, code)
                    end
                end
            end
            if failed and next(alive) and os.time() - failed_at > (opts.grace or 10) then
                for _, p in pairs(alive) do C.lp_process_kill(p, SIGKILL) end
            end
            ffi.C.usleep(50000)
        end)
        if not ok and not tostring(err):find('interrupted', 1, true) then error(err, 0) end
        if not ok then -- first Ctrl-C: the workers save their checkpoint; second: stop them
            interrupts = interrupts + 1
            if interrupts == 1 and status == 0 then status = 130 end
            if interrupts > 1 and not failed then stop_others(-1, 130) end
        end
    end
    return status
end

local function count(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    return n
end

--- launch.pool(jobs, nproc [, {quiet = false}]) -> {exit status per job}
-- Runs independent lpose commands, at most nproc at once: jobs[i] = {args =
-- {'train', CONFIG, ...}, name = 'member_0'}. Each gets the machine's cores
-- shared out (LPOSE_NUM_THREADS, unless set). After a job fails, or after
-- Ctrl-C (which reaches the running jobs too: they save and stop), no new job
-- starts; the running ones are waited for. Jobs never started have status nil.
function M.pool(jobs, nproc, opts)
    opts = opts or {}
    local exe, env = self_exe(), {}
    if not os.getenv('LPOSE_NUM_THREADS') then
        local cores = tonumber(ffi.C.sysconf(SC_NPROCESSORS_ONLN)) or 1
        env[1] = 'LPOSE_NUM_THREADS=' .. math.max(1, math.floor(cores / math.min(nproc, #jobs)))
    end
    local statuses, alive, next_job, stop = {}, {}, 1, false
    while next(alive) or (next_job <= #jobs and not stop) do
        local ok, err = pcall(function()
            while not stop and next_job <= #jobs and count(alive) < nproc do
                local job = jobs[next_job]
                local argv = { exe }
                for _, a in ipairs(job.args) do argv[#argv + 1] = a end
                alive[next_job] = spawn(argv, env)
                if not opts.quiet then io.stderr:write(('lpose: started %s\n'):format(job.name or argv[2])) end
                next_job = next_job + 1
            end
            for i, pid in pairs(alive) do
                local code = poll(pid, false)
                if code then
                    alive[i], statuses[i] = nil, code
                    if code ~= 0 then stop = true end
                    if not opts.quiet then
                        io.stderr:write(('lpose: %s %s\n'):format(jobs[i].name or jobs[i].args[1],
                            code == 0 and 'finished' or ('exited with status ' .. code)))
                    end
                end
            end
            ffi.C.usleep(50000)
        end)
        if not ok then
            if not tostring(err):find('interrupted', 1, true) then
                for _, p in pairs(alive) do C.lp_process_kill(p, SIGKILL); poll(p, true) end
                error(err, 0)
            end
            stop = true -- Ctrl-C: the running jobs save and stop; wait for them
        end
    end
    return statuses
end

return M
