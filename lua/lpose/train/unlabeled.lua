-- lpose.train.unlabeled: the unlabeled stream of semi-supervised training.
-- Each call gives a random contiguous window of `n_frames` frames (LP:
-- dali.context.train.batch_size, 16 for the TCN) from the videos of
-- data.video_dir, resized to the model's input and ImageNet-normalised:
-- frames: n_frames 3 image_height image_width. Videos are picked with
-- probability proportional to their length, so every frame is equally
-- likely; the draw is deterministic under `seed` (LP: dali.general.seed).
local video = require('lpose.video')
local config = require('lpose.config')
local bit = require('bit')

local M = {}
local Stream = {}
Stream.__index = Stream

local VIDEO_EXTENSIONS = { mp4 = true, avi = true, mkv = true, mov = true, webm = true, m4v = true }

--- unlabeled.list_videos(dir) -> sorted list of video paths | nil, err
function M.list_videos(dir)
    local p = io.popen('ls -1 "' .. dir:gsub('"', '\\"') .. '" 2>/dev/null')
    local names = {}
    for name in p:lines() do
        local ext = name:match('%.([%w]+)$')
        if ext and VIDEO_EXTENSIONS[ext:lower()] then names[#names + 1] = dir .. '/' .. name end
    end
    p:close()
    if #names == 0 then return nil, ("no videos (mp4, avi, mkv, mov) in data.video_dir '%s'"):format(dir) end
    table.sort(names)
    return names
end

-- xorshift32: a private generator, so other code's math.random use cannot
-- change the windows drawn.
local function next_random(self)
    local x = self.state
    x = bit.bxor(x, bit.lshift(x, 13))
    x = bit.bxor(x, bit.rshift(x, 17))
    x = bit.bxor(x, bit.lshift(x, 5))
    self.state = x
    return (x % 2147483647) / 2147483647
end

--- unlabeled.open{dir=, n_frames=16, height=, width=, seed=123456, window_key=} -> Stream | nil, err
-- window_key: the config key that set n_frames, for messages
function M.open(o)
    local paths, err = M.list_videos(o.dir)
    if not paths then return nil, err end
    local self = setmetatable({ paths = paths, readers = {}, lengths = {}, total = 0,
        n_frames = o.n_frames or config.default('dali.context.train.batch_size'), height = o.height,
        width = o.width, seed = o.seed or config.default('dali.general.seed') }, Stream)
    self:reseed(0)
    for i, path in ipairs(paths) do
        local r, rerr = video.open(path)
        if not r then self:close(); return nil, rerr end
        if r.n_frames < self.n_frames then
            self:close()
            return nil, ('%s has %d frames, fewer than the unlabeled window of %d (%s)')
                :format(path, r.n_frames, self.n_frames, o.window_key or 'dali.context.train.batch_size')
        end
        self.readers[i] = r
        self.lengths[i] = r.n_frames - self.n_frames + 1 -- possible window starts
        self.total = self.total + self.lengths[i]
    end
    return self
end

--- stream:reseed(epoch): restart the draws from (seed, epoch), so the windows of an
-- epoch are the same whether or not training was resumed before it
function Stream:reseed(epoch)
    local x = bit.tobit(self.seed * 2654435761 + epoch * 40503 + 1)
    self.state = x == 0 and 1 or x
    for _ = 1, 8 do next_random(self) end -- mix: nearby seeds give unrelated draws
end

--- stream:next() -> frames (n_frames 3 H W), {path=, start=, width=, height=} | nil, err
-- (width and height of the video's frames, to map predictions back to pixels)
function Stream:next()
    local pick = math.floor(next_random(self) * self.total)
    local i = 1
    while pick >= self.lengths[i] do
        pick = pick - self.lengths[i]
        i = i + 1
    end
    local r = self.readers[i]
    local frames, err = r:read(pick, self.n_frames, { height = self.height, width = self.width })
    if not frames then return nil, err end
    return frames, { path = self.paths[i], start = pick, width = r.width, height = r.height }
end

--- stream:skip(n): advance the draws by n windows without decoding them (a
-- resumed epoch replays the draws of the steps it already trained)
function Stream:skip(n)
    for _ = 1, n do next_random(self) end
end

function Stream:close()
    for _, r in pairs(self.readers) do r:close() end
    self.readers = {}
end

return M
