-- lpose.video: reading videos frame-exactly and writing them, through FFmpeg.
--
--   local video = require('lpose.video')
--   local reader = assert(video.open('videos/test_vid.mp4'))
--   print(reader.n_frames, reader.fps, reader.width, reader.height)
--   local frames = reader:read(0, 16, {height = 256, width = 256})  -- 16 RGB 256 256, normalised
--   for start, batch in reader:batches(64, {height = 256, width = 256}) do ... end
--   local rgb = reader:frame_rgb(993)                                -- height width 3, u8
--   reader:close()
--
-- Frame numbers are 0-based, as in LP's prediction CSVs and frame file names.
-- Expected failures (missing or undecodable file, end of stream) return nil, err;
-- frame numbers out of range and wrong argument types raise.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local box = require('lpose.box')

local C = lp.lib
local M = {}

local video_out = ffi.new('lp_video*[1]')
local writer_out = ffi.new('lp_video_writer*[1]')
local tensor_out = ffi.new('lp_tensor*[1]')

local check_int = lp.check_int
local function check_string(fname, what, s) lp.check_type(fname, what, s, 'string') end

-- A failed call: range and argument errors raise, the rest return nil, err.
local function fail(status)
    local msg = lp.last_error()
    if status == C.LP_STATUS_BAD_ARG or status == C.LP_STATUS_INTERNAL then error(msg, lp.user_level()) end
    return nil, msg
end

---------------------------------------------------------------------------- reader

local Reader = {}
local ReaderBox, reader_handle = box.define({
    handle = 'lp_video', free = C.lp_video_free, what = 'reader', closed = 'video reader used after close()',
    name = 'lpose.video.Reader', module = 'lpose.video', methods = Reader,
    fields = {
        n_frames = function(h) return tonumber(C.lp_video_n_frames(h)) end,
        fps = function(h) return C.lp_video_fps(h) end,
        width = function(h) return C.lp_video_width(h) end,
        height = function(h) return C.lp_video_height(h) end,
        codec = function(h) return ffi.string(C.lp_video_codec_name(h)) end,
        n_seeks = function(h) return tonumber(C.lp_video_n_seeks(h)) end,
    },
    len = function(h) return tonumber(C.lp_video_n_frames(h)) end,
    tostring = function(self)
        return ('lpose.video.Reader (%d frames, %dx%d, %g fps, %s)'):format(self.n_frames, self.width,
            self.height, self.fps, self.codec)
    end,
    freed = 'lpose.video.Reader (closed)',
})

local function size_opts(fname, opts)
    if opts == nil then return 0, 0 end
    if type(opts) ~= 'table' then lp.argerror(fname, 'opts must be a table, got ' .. type(opts)) end
    local h, w = opts.height or 0, opts.width or 0
    check_int(fname, 'height', h, 0)
    check_int(fname, 'width', w, 0)
    if (h == 0) ~= (w == 0) then lp.argerror(fname, 'give both height and width, or neither') end
    return h, w
end

--- reader:read(start, n, {height=, width=}) -> frames | nil, err
-- frames: n RGB height width (f32): frames start..start+n-1 (0-based), bilinear
-- resize (native size without opts), /255 and ImageNet mean/std. start == n_frames
-- gives nil, err (end of stream); other out-of-range frames raise.
function Reader:read(start, n, opts)
    local h = reader_handle(self, 'reader:read')
    check_int('reader:read', 'start', start, 0)
    check_int('reader:read', 'n', n, 1)
    local height, width = size_opts('reader:read', opts)
    local st = C.lp_video_read_batch(h, start, n, height, width, tensor_out)
    if st ~= 0 then return fail(st) end
    return tensor.wrap(tensor_out[0])
end

--- reader:frame_rgb(i) -> Tensor: height width 3 (u8 RGB, native size) | nil, err
function Reader:frame_rgb(i)
    local h = reader_handle(self, 'reader:frame_rgb')
    check_int('reader:frame_rgb', 'i', i, 0)
    local st = C.lp_video_read_frame_rgb(h, i, tensor_out)
    if st ~= 0 then return fail(st) end
    return tensor.wrap(tensor_out[0])
end

--- reader:batches(n, {height=, width=}) -> iterator of start, frames
-- Streams the whole video in order, n frames at a time (the last batch may be
-- shorter); memory stays bounded. A decoding error raises.
function Reader:batches(n, opts)
    reader_handle(self, 'reader:batches')
    check_int('reader:batches', 'n', n, 1)
    size_opts('reader:batches', opts)
    local start, total = 0, self.n_frames
    return function()
        if start >= total then return nil end
        local count = math.min(n, total - start)
        local frames, err = self:read(start, count, opts)
        if not frames then error(err, 2) end
        local s = start
        start = start + count
        return s, frames
    end
end

--- reader:decode_in_order(frames, fn [, max_gap]) -> true | nil, err
-- Calls fn(i, rgb, width, height) for each frame index of the sorted list
-- `frames`, in order; rgb is a uint8_t[height*width*3] RGB buffer reused between
-- calls. Gaps up to max_gap (300) frames are decoded through rather than sought,
-- so nearby frames cost no seek. fn returns true, or nil, err to stop.
function Reader:decode_in_order(frames, fn, max_gap)
    local h = reader_handle(self, 'reader:decode_in_order')
    local w, ht = C.lp_video_width(h), C.lp_video_height(h)
    local rgb = ffi.new('uint8_t[?]', w * ht * 3)
    local last = -1
    max_gap = max_gap or 300
    for _, f in ipairs(frames) do
        if f > last then
            if f - last - 1 <= max_gap then
                for g = last + 1, f - 1 do
                    if C.lp_video_read_frame_rgb_into(h, g, rgb) ~= 0 then return nil, lp.last_error() end
                end
            end
            if C.lp_video_read_frame_rgb_into(h, f, rgb) ~= 0 then return nil, lp.last_error() end
            last = f
        end
        local ok, err = fn(f, rgb, w, ht)
        if not ok then return nil, err end
    end
    return true
end

--- reader:frame_rgb_into(i, rgb) -> true | nil, err
-- Frame i into rgb, a uint8_t array of height*width*3 bytes (ffi.new('uint8_t[?]', n)).
function Reader:frame_rgb_into(i, rgb)
    local h = reader_handle(self, 'reader:frame_rgb_into')
    check_int('reader:frame_rgb_into', 'i', i, 0)
    local n = C.lp_video_width(h) * C.lp_video_height(h) * 3
    if type(rgb) ~= 'cdata' or (ffi.sizeof(rgb) or 0) < n then
        lp.argerror('reader:frame_rgb_into', ('rgb must be a uint8_t[%d] buffer'):format(n))
    end
    if C.lp_video_read_frame_rgb_into(h, i, rgb) ~= 0 then return nil, lp.last_error() end
    return true
end

--- reader:close() / reader:free(): release the file now (idempotent; free from box.define)
Reader.close = Reader.free

--- lpose.video.open(path, {threads=}) -> reader | nil, err
-- Opens any video FFmpeg decodes and counts its frames (one demux pass).
-- threads: decoder threads (default: FFmpeg's choice).
function M.open(path, opts)
    check_string('lpose.video.open', 'path', path)
    local threads = opts and opts.threads or 0
    check_int('lpose.video.open', 'threads', threads, 0)
    if C.lp_video_open(path, threads, video_out) ~= 0 then return nil, lp.last_error() end
    return ReaderBox(video_out[0])
end

M.Reader = Reader

---------------------------------------------------------------------------- writer

local Writer = {}
local WriterBox, writer_handle = box.define({
    handle = 'lp_video_writer', free = C.lp_video_writer_free, what = 'writer',
    closed = 'video writer used after close()',
    name = 'lpose.video.Writer', module = 'lpose.video', methods = Writer,
    fields = { n_frames = function(h) return tonumber(C.lp_video_writer_n_frames(h)) end },
    tostring = function(self) return ('lpose.video.Writer (%d frames written)'):format(self.n_frames) end,
    freed = 'lpose.video.Writer (closed)',
})

--- writer:write(rgb) -> true | nil, err
-- rgb: height width 3, u8 (CPU). A wrong shape or dtype raises.
function Writer:write(rgb)
    local h = writer_handle(self, 'writer:write')
    local st = C.lp_video_writer_write(h, tensor.handle(rgb, 'writer:write'))
    if st ~= 0 then return fail(st) end
    return true
end

--- writer:close() -> true | nil, err
-- Finishes the file and renames it into place; idempotent.
function Writer:close()
    if self.h == nil then return true end
    local st = C.lp_video_writer_close(self.h)
    local msg = st ~= 0 and lp.last_error() or nil
    C.lp_video_writer_free(self.h)
    self.h = nil
    if st ~= 0 then return nil, msg end
    return true
end

-- writer:free() (from box.define): drops the writer; unless closed, the partial file is deleted

--- lpose.video.writer(path, width, height, fps) -> writer | nil, err
-- H.264 (libx264; mpeg4 without it), yuv420p, container from the extension.
-- Writes path.tmp-<pid> and renames it on close(); width and height must be even.
function M.writer(path, width, height, fps)
    check_string('lpose.video.writer', 'path', path)
    check_int('lpose.video.writer', 'width', width, 2)
    check_int('lpose.video.writer', 'height', height, 2)
    if type(fps) ~= 'number' or fps <= 0 then lp.argerror('lpose.video.writer', 'fps must be a number > 0') end
    local st = C.lp_video_writer_open(path, width, height, fps, writer_out)
    if st == C.LP_STATUS_BAD_ARG then error(lp.last_error(), lp.user_level()) end
    if st ~= 0 then return nil, lp.last_error() end
    return WriterBox(writer_out[0])
end

M.Writer = Writer

--- lpose.video.check(path) -> true | nil, err
-- The video opens and decodes at its first and last frames: a file cut short
-- is found before hours of training or prediction reach its missing part;
-- err names the file and the frame (and how many frames are really there).
function M.check(path)
    local r, err = M.open(path)
    if not r then return nil, err end
    local n = r.n_frames
    local ok, rerr = true, nil
    for _, i in ipairs({ 0, n - 1 }) do
        local frames, ferr = r:read(i, 1, { height = 32, width = 32 })
        if not frames then
            ok, rerr = nil, ('%s: frame %d of %d cannot be decoded: %s'):format(path, i, n, tostring(ferr))
            break
        end
        frames:free()
    end
    r:close()
    return ok, rerr
end

return M
