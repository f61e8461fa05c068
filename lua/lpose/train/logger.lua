-- lpose.train.logger: training metrics to the model directory and the
-- terminal.
--   metrics.csv    one row per value, long format: step,epoch,stage,name,value
--                  (pandas: df.pivot_table(index='step', columns='name'))
--   metrics.jsonl  one JSON object per logging event: {step, epoch, stage, ...}
-- On a terminal a live progress line (epoch, step, losses, steps/s, ETA) is
-- redrawn in place; otherwise plain lines every `every` steps.
local ffi = require('ffi')
local cjson = require('cjson')

local M = {}
local Logger = {}
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

--- logger.new{dir=, total_steps=, every=10, quiet=false} -> Logger
function M.new(o)
    local self = setmetatable({}, Logger)
    self.dir = o.dir
    self.total_steps = o.total_steps or 0
    self.every = o.every or 10
    self.quiet = o.quiet
    self.tty = not o.quiet and is_tty()
    self.t0 = now()
    self.last_draw = 0
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

--- logger:progress(step, epoch, values): the live line (or a plain line every `every` steps)
function Logger:progress(step, epoch, values)
    if self.quiet then return end
    local t = now()
    local elapsed = t - self.t0
    local rate = step / math.max(elapsed, 1e-9)
    local eta = self.total_steps > 0 and (self.total_steps - step) / math.max(rate, 1e-9) or 0 / 0
    local parts = {}
    for _, k in ipairs(sorted_keys(values or {})) do parts[#parts + 1] = ('%s %.4g'):format(k, values[k]) end
    local line = ('epoch %d  step %d/%d  %s  %.2f steps/s  ETA %s'):format(epoch, step,
        self.total_steps, table.concat(parts, '  '), rate, fmt_time(eta))
    if self.tty then
        if t - self.last_draw >= 0.2 or step == self.total_steps then
            io.stdout:write('\r\27[K', line)
            io.stdout:flush()
            self.last_draw = t
        end
    elseif step % self.every == 0 or step == self.total_steps then
        io.stdout:write(line, '\n')
        io.stdout:flush()
    end
end

--- logger:message(text): a line that does not garble the progress line
function Logger:message(text)
    if self.quiet then return end
    if self.tty then io.stdout:write('\r\27[K') end
    io.stdout:write(text, '\n')
    io.stdout:flush()
end

function Logger:close()
    if self.tty then io.stdout:write('\n') end
    if self.csv then self.csv:close(); self.jsonl:close(); self.csv, self.jsonl = nil, nil end
end

--- logger:series(name) -> {{step=, value=}, ...} of everything logged under name
function Logger:series(name) return self.history[name] or {} end

return M
