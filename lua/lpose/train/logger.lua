-- lpose.train.logger: training metrics to the model directory and the
-- terminal.
--   metrics.csv    one row per value, long format: step,epoch,stage,name,value
--                  (pandas: df.pivot_table(index='step', columns='name'))
--   metrics.jsonl  one JSON object per logging event: {step, epoch, stage, ...}
-- On a terminal a live progress line (epoch, step, losses, steps/s, ETA) is
-- redrawn in place (at most 5 times a second). When stdout is not a terminal
-- (CI, nohup, Slurm logs) plain lines are printed instead, and few of them:
-- the first step's, then at most one every `interval` seconds (10), plus the
-- last line of each epoch (written before the next epoch's first line or
-- before a message such as the validation losses) and the final step's.
local ffi = require('ffi')
local cjson = require('cjson')

local M = {}
local Logger = {}

--- logger.interval: seconds between plain progress lines when stdout is not a terminal
M.interval = 10
Logger.__index = Logger

pcall(ffi.cdef, [[
    int isatty(int fd);
    typedef struct { long tv_sec; long tv_usec; } lpose_timeval;
    int gettimeofday(lpose_timeval *tv, void *tz);
]])

local function is_tty()
    local ok, r = pcall(function() return ffi.C.isatty(1) end)
    return ok and r == 1
end

local tv = ffi.new('lpose_timeval')
-- wall-clock seconds with microsecond resolution
local function now()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) * 1e-6
end
M.now = now

--- logger.new{dir=, total_steps=, interval=10, quiet=false, append=false, first_step=0, tty=, out=io.stdout,
---            clock=} -> Logger
-- first_step: the step a resumed run starts from (its speed and ETA count
-- only the steps of this process). interval: seconds between plain progress
-- lines when stdout is not a terminal. tty: overrides the terminal test of
-- stdout; out: where progress and messages go; clock: a function returning
-- seconds (default logger.now). `every` is accepted and ignored: plain lines
-- are timed, not counted.
function M.new(o)
    local self = setmetatable({}, Logger)
    self.dir = o.dir
    self.total_steps = o.total_steps or 0
    self.first_step = o.first_step or 0
    self.every = o.every or 10
    self.interval = o.interval or M.interval
    self.quiet = o.quiet
    self.out = o.out or io.stdout
    if o.tty ~= nil then self.tty = not o.quiet and o.tty else self.tty = not o.quiet and is_tty() end
    self.clock = o.clock or now
    self.t0 = self.clock()
    self.last_draw = 0
    self.last_print = nil -- when the last plain line was written
    self.pending = nil    -- {line=, epoch=}: the newest plain line not written yet
    self.history = {}
    if self.dir then
        local append = o.append and 'a' or 'w'
        self.csv = assert(io.open(self.dir .. '/metrics.csv', append))
        if not o.append then self.csv:write('step,epoch,stage,name,value\n') end
        self.jsonl = assert(io.open(self.dir .. '/metrics.jsonl', append))
    end
    return self
end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    return keys
end

--- logger:log(step, epoch, stage, metrics): numbers keyed by LP's names
function Logger:log(step, epoch, stage, metrics)
    local record = { step = step, epoch = epoch, stage = stage }
    for _, k in ipairs(sorted_keys(metrics)) do
        local v = metrics[k]
        if type(v) == 'number' then
            record[k] = v
            if self.csv then self.csv:write(('%d,%d,%s,%s,%.9g\n'):format(step, epoch, stage, k, v)) end
            local h = self.history[k]
            if not h then h = {}; self.history[k] = h end
            h[#h + 1] = { step = step, value = v }
        end
    end
    if self.jsonl then
        -- NaN is not JSON: write null
        for k, v in pairs(record) do if v ~= v then record[k] = cjson.null end end
        self.jsonl:write(cjson.encode(record), '\n')
    end
    if self.csv then self.csv:flush(); self.jsonl:flush() end
end

local function fmt_time(s)
    if s ~= s or s == math.huge then return '?' end
    s = math.floor(s + 0.5)
    if s >= 3600 then return ('%dh%02dm'):format(math.floor(s / 3600), math.floor(s % 3600 / 60)) end
    return ('%dm%02ds'):format(math.floor(s / 60), s % 60)
end

-- Write the plain line held back, if any.
local function flush_pending(self, t)
    local p = self.pending
    if p then
        self.out:write(p.line, '\n')
        self.out:flush()
        self.pending = nil
        self.last_print = t or self.clock()
    end
end

--- logger:progress(step, epoch, values): the live line on a terminal; otherwise
-- a plain line now and then (see the top of this file)
function Logger:progress(step, epoch, values)
    if self.quiet then return end
    local t = self.clock()
    local elapsed = t - self.t0
    local rate = (step - self.first_step) / math.max(elapsed, 1e-9)
    local eta = self.total_steps > 0 and (self.total_steps - step) / math.max(rate, 1e-9) or 0 / 0
    local parts = {}
    for _, k in ipairs(sorted_keys(values or {})) do parts[#parts + 1] = ('%s %.4g'):format(k, values[k]) end
    local line = ('epoch %d  step %d/%d  %s  %.2f steps/s  ETA %s'):format(epoch, step,
        self.total_steps, table.concat(parts, '  '), rate, fmt_time(eta))
    if self.tty then
        if t - self.last_draw >= 0.2 or step == self.total_steps then
            self.out:write('\r\27[K', line)
            self.out:flush()
            self.last_draw = t
        end
        return
    end
    -- a new epoch: the previous one's last line first
    if self.pending and self.pending.epoch ~= epoch then flush_pending(self, t) end
    self.pending = { line = line, epoch = epoch }
    if self.last_print == nil or t - self.last_print >= self.interval or step == self.total_steps then
        flush_pending(self, t)
    end
end

--- logger:message(text): a line that does not garble the progress line
function Logger:message(text)
    if self.quiet then return end
    if self.tty then self.out:write('\r\27[K') else flush_pending(self) end
    self.out:write(text, '\n')
    self.out:flush()
end

--- logger:close(): writes the held-back progress line, ends the live one, closes the files
function Logger:close()
    if self.tty then self.out:write('\n') elseif not self.quiet then flush_pending(self) end
    if self.csv then self.csv:close(); self.jsonl:close(); self.csv, self.jsonl = nil, nil end
end

-- Keep the lines of `path` for which keep(line) is true (atomically).
local function filter_file(path, keep)
    local f = io.open(path, 'r')
    if not f then return end
    local out = {}
    for line in f:lines() do
        if keep(line) then out[#out + 1] = line end
    end
    f:close()
    require('lpose.files').write_atomic(path, table.concat(out, '\n') .. (#out > 0 and '\n' or ''))
end

--- logger.drop_after(dir, step): remove the rows of dir/metrics.csv and
-- dir/metrics.jsonl logged after `step` (a resumed run logs them again).
function M.drop_after(dir, step)
    filter_file(dir .. '/metrics.csv', function(line)
        local s = tonumber(line:match('^(%d+),'))
        return s == nil or s <= step -- the header has no step
    end)
    filter_file(dir .. '/metrics.jsonl', function(line)
        local ok, rec = pcall(cjson.decode, line)
        return not ok or type(rec) ~= 'table' or type(rec.step) ~= 'number' or rec.step <= step
    end)
end

--- logger:series(name) -> {{step=, value=}, ...} of everything logged under name
function Logger:series(name) return self.history[name] or {} end

return M
