-- lpose.train.logger's progress output. On a terminal the line is redrawn
-- in place at every step (at most 5 times a second); otherwise (CI, nohup,
-- Slurm logs) plain lines come at most every `interval` seconds, plus each
-- epoch's last line and the final step's, never one per step. A fake clock
-- and a string sink stand in for time and stdout.
local logger = require('lpose.train.logger')

-- A stream that keeps what is written.
local function sink()
    local s = { parts = {} }
    function s:write(...)
        for i = 1, select('#', ...) do self.parts[#self.parts + 1] = tostring((select(i, ...))) end
        return self
    end
    function s:flush() return self end
    function s:text() return table.concat(self.parts) end
    function s:lines()
        local out = {}
        for line in self:text():gmatch('([^\n]*)\n') do out[#out + 1] = line end
        return out
    end
    return s
end

-- A clock the test moves by hand.
local function fake_clock()
    local c = { t = 1000 }
    c.fn = function() return c.t end
    return c
end

-- Run `epochs` epochs of `steps` steps, `dt` seconds each; returns the sink.
local function train(opts, epochs, steps, dt, between_epochs)
    local out, clock = sink(), fake_clock()
    local log = logger.new({ total_steps = epochs * steps, tty = opts.tty, out = out, clock = clock.fn,
        interval = opts.interval })
    local step = 0
    for epoch = 0, epochs - 1 do
        for _ = 1, steps do
            clock.t = clock.t + dt
            step = step + 1
            log:progress(step, epoch, { loss = 1 / step })
        end
        if between_epochs then between_epochs(log, epoch) end
    end
    log:close()
    return out
end

local function step_of(line) return tonumber(line:match('step (%d+)/')) end

describe('lpose.train.logger progress', function()
    describe('when stdout is not a terminal', function()
        it('prints a few lines, not one per step (make demo: 512 steps)', function()
            -- 16 epochs of 32 steps, 0.05 s a step: 25.6 s in all
            local lines = train({ tty = false }, 16, 32, 0.05):lines()
            assert.truthy(#lines <= 16 + 3 + 1, #lines .. ' lines:\n' .. table.concat(lines, '\n'))
            assert.are.equal(1, step_of(lines[1]))          -- the first step shows the run started
            assert.are.equal(512, step_of(lines[#lines]))   -- and the final one
            for _, l in ipairs(lines) do assert.falsy(l:find('\r', 1, true), l) end
        end)

        it('prints the last line of every epoch', function()
            local lines = train({ tty = false }, 5, 20, 0.01):lines()
            local seen = {}
            for _, l in ipairs(lines) do seen[step_of(l)] = true end
            for epoch = 1, 5 do assert.truthy(seen[epoch * 20], 'no line for step ' .. epoch * 20) end
            assert.are.equal(6, #lines) -- step 1, then the end of each epoch
        end)

        it('within a long epoch, at most one line every `interval` seconds', function()
            -- one epoch of 100 steps, 1 s each: lines at steps 1, 11, 21, ..., 91 and 100
            local lines = train({ tty = false }, 1, 100, 1):lines()
            assert.are.equal(11, #lines)
            for i = 2, #lines - 1 do
                assert.are.equal(10, step_of(lines[i]) - step_of(lines[i - 1]))
            end
            assert.are.equal(100, step_of(lines[#lines]))
            local five = train({ tty = false, interval = 5 }, 1, 100, 1):lines()
            assert.are.equal(21, #five)
        end)

        it('writes the held-back line before a message (the epoch ends before its validation line)', function()
            local out = train({ tty = false }, 2, 10, 0.01, function(log, epoch)
                log:message(('epoch %d: val_supervised_loss 0.5'):format(epoch))
            end)
            local lines = out:lines()
            assert.are.equal(10, step_of(lines[2]))
            assert.are.equal('epoch 0: val_supervised_loss 0.5', lines[3])
            assert.are.equal(20, step_of(lines[4]))
            assert.are.equal('epoch 1: val_supervised_loss 0.5', lines[5])
            assert.are.equal(5, #lines)
        end)

        it('close() writes the line of a run that stopped early', function()
            local out, clock = sink(), fake_clock()
            local log = logger.new({ total_steps = 1000, tty = false, out = out, clock = clock.fn })
            for step = 1, 7 do
                clock.t = clock.t + 0.1
                log:progress(step, 0, {})
            end
            log:close()
            local lines = out:lines()
            assert.are.equal(2, #lines)
            assert.are.equal(7, step_of(lines[2]))
        end)

        it('quiet prints nothing', function()
            local out = sink()
            local log = logger.new({ total_steps = 10, quiet = true, tty = false, out = out })
            for step = 1, 10 do log:progress(step, 0, {}) end
            log:message('hello')
            log:close()
            assert.are.equal('', out:text())
        end)
    end)

    describe('on a terminal', function()
        it('redraws the line in place at every step', function()
            -- 0.3 s a step: more than the 0.2 s between redraws, so every step is drawn
            local text = train({ tty = true }, 2, 10, 0.3):text()
            local draws = select(2, text:gsub('\r\27%[K', ''))
            assert.are.equal(20, draws)
            assert.are.equal(1, select(2, text:gsub('\n', ''))) -- only close() ends the line
        end)

        it('draws at most 5 times a second', function()
            local text = train({ tty = true }, 1, 100, 0.01):text() -- 1 s in all
            local draws = select(2, text:gsub('\r\27%[K', ''))
            assert.truthy(draws <= 7, draws .. ' draws')
            assert.truthy(text:find('step 100/100', 1, true)) -- the final step is always drawn
        end)
    end)
end)
