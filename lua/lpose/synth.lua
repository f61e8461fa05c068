-- lpose.synth: a synthetic Lightning Pose project (an articulated "animal"
-- moving over a textured background, with occluders), deterministic per seed.
-- See docs/guides/synthetic-data.md for the layout and the motion model.
--
--   local synth = require('lpose.synth')
--   local s = assert(synth.generate('/tmp/proj', {n_videos = 2, n_frames = 40, width = 64, height = 64}))
--   print(s.labels_csv, #s.videos, s.n_labeled_frames)
--   local cached = assert(synth.ensure(nil, {seed = 3}))   -- generated once, then reused
--
-- Options are the fields of lp_synth_params (engine/include/lpose/synth.h):
-- n_videos, n_test_videos, n_frames, n_keypoints, width, height, fps,
-- n_labeled_per_video, context, index_width, occluder_rate, noise_sigma, seed.
-- Unknown options and wrong types raise; invalid values raise with the
-- engine's message; I/O failures return nil, err.
local ffi = require('ffi')
local lp = require('lpose.C')

local C = lp.lib
local M = {}

-- Bump when the generator's output changes, so ensure() stops reusing old caches.
M.FORMAT_VERSION = 2

M.FIELDS = { 'n_videos', 'n_test_videos', 'n_frames', 'n_keypoints', 'width', 'height', 'fps',
    'n_labeled_per_video', 'context', 'index_width', 'occluder_rate', 'noise_sigma', 'seed' }
local is_field = {}
for _, f in ipairs(M.FIELDS) do is_field[f] = true end

pcall(ffi.cdef, 'int getpid(void);')

--- synth.default_params() -> table of the defaults (lp_synth_default_params)
function M.default_params()
    local p = C.lp_synth_default_params()
    local t = {}
    for _, f in ipairs(M.FIELDS) do t[f] = tonumber(p[f]) end
    return t
end

-- opts -> lp_synth_params cdata (raises on unknown keys, wrong types, bad values).
local function to_params(fname, opts)
    if opts ~= nil and type(opts) ~= 'table' then lp.argerror(fname, 'opts must be a table, got ' .. type(opts)) end
    local p = C.lp_synth_default_params()
    for k, v in pairs(opts or {}) do
        if not is_field[k] then lp.argerror(fname, "unknown option '" .. tostring(k) .. "'") end
        if k == 'seed' and type(v) == 'cdata' then
            p.seed = v
        elseif type(v) ~= 'number' then
            lp.argerror(fname, k .. ' must be a number, got ' .. type(v))
        elseif k ~= 'fps' and k ~= 'occluder_rate' and k ~= 'noise_sigma' and v % 1 ~= 0 then
            lp.argerror(fname, k .. ' must be an integer, got ' .. tostring(v))
        elseif k == 'seed' and v < 0 then
            lp.argerror(fname, 'seed must be >= 0, got ' .. tostring(v))
        else
            p[k] = v
        end
    end
    lp.check(C.lp_synth_check_params(p))
    return p
end

-- Canonical text of the params: the cache key.
local function canonical(p)
    local parts = { 'lpose_synth/' .. M.FORMAT_VERSION }
    for _, f in ipairs(M.FIELDS) do
        local v = p[f]
        if f == 'seed' then v = tostring(ffi.cast('uint64_t', v)):gsub('ULL$', '')
        elseif f == 'fps' or f == 'occluder_rate' or f == 'noise_sigma' then v = ('%.17g'):format(v)
        else v = tostring(tonumber(v)) end
        parts[#parts + 1] = f .. '=' .. v
    end
    return table.concat(parts, ';')
end

--- synth.hash(opts) -> 16 hex digits (FNV-1a 64 of the parameters and FORMAT_VERSION)
function M.hash(opts)
    local text = canonical(to_params('synth.hash', opts))
    local h = ffi.new('uint64_t', 0xcbf29ce4ULL * 0x100000000ULL + 0x84222325ULL) -- cdata-ok: FNV-1a is 64-bit
    for i = 1, #text do
        h = bit.bxor(h, text:byte(i))
        h = h * 0x100000001b3ULL
    end
    return bit.tohex(h, 16)
end

local exists = require('lpose.files').exists

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The summary of a finished project, from its metadata.json.
local function summary(out_dir)
    local f, err = io.open(out_dir .. '/metadata.json', 'rb')
    if not f then return nil, err end
    local text = f:read('*a')
    f:close()
    local ok, meta = pcall(require('cjson').decode, text)
    if not ok then return nil, out_dir .. '/metadata.json: ' .. tostring(meta) end
    local s = {
        out_dir = out_dir,
        labels_csv = out_dir .. '/' .. meta.labels_csv,
        video_dir = out_dir .. '/videos',
        keypoints = meta.keypoints,
        n_labeled_frames = meta.n_labeled_frames,
        labeled_videos = meta.labeled_videos,
        test_videos = meta.test_videos,
        video_codec = meta.video_codec,
        params = meta.params,
        videos = {},
    }
    for i, v in ipairs(meta.videos) do
        s.videos[i] = { name = v.name, path = out_dir .. '/' .. v.video, split = v.split,
            ground_truth = out_dir .. '/' .. v.ground_truth, occlusion = out_dir .. '/' .. v.occlusion,
            n_frames = v.n_frames, labeled_frames = v.labeled_frames }
    end
    return s
end

--- synth.generate(out_dir, opts) -> summary | nil, err
-- Writes the project into out_dir (created). summary: out_dir, labels_csv,
-- video_dir, keypoints (names), n_labeled_frames, labeled_videos, test_videos
-- (stems), videos (name, path, split, ground_truth, occlusion, n_frames,
-- labeled_frames), video_codec, params.
function M.generate(out_dir, opts)
    if type(out_dir) ~= 'string' or out_dir == '' then
        lp.argerror('synth.generate', 'out_dir must be a non-empty string')
    end
    local p = to_params('synth.generate', opts)
    local st = C.lp_synth_generate(p, out_dir)
    if st ~= 0 then
        if st == C.LP_STATUS_BAD_ARG then lp.check(st) end
        return nil, lp.last_error()
    end
    return summary(out_dir)
end

--- synth.cache_dir(cache_dir, opts) -> the folder ensure() uses
function M.cache_dir(cache_dir, opts)
    local base = cache_dir or os.getenv('LPOSE_CACHE')
    if base == nil or base == '' then base = (os.getenv('HOME') or '/tmp') .. '/.cache/lpose' end
    return base .. '/synth-' .. M.hash(opts)
end

--- synth.ensure(cache_dir, opts) -> summary | nil, err
-- The project for opts in cache_dir/synth-<hash> (cache_dir defaults to
-- $LPOSE_CACHE, else ~/.cache/lpose). Generated once into a temporary folder
-- and renamed into place, so a folder that exists is complete; later calls
-- (and concurrent processes) reuse it; the summary then has cached = true.
function M.ensure(cache_dir, opts)
    local dir = M.cache_dir(cache_dir, opts)
    local function reuse()
        local s, err = summary(dir)
        if s then s.cached = true end
        return s, err
    end
    if exists(dir .. '/metadata.json') then return reuse() end
    local tmp = ('%s.tmp-%d-%d'):format(dir, ffi.C.getpid(), os.time())
    os.execute('rm -rf ' .. q(tmp))
    local s, err = M.generate(tmp, opts)
    if not s then
        os.execute('rm -rf ' .. q(tmp))
        return nil, err
    end
    local ok, rerr = os.rename(tmp, dir)
    if not ok then
        os.execute('rm -rf ' .. q(tmp))
        if exists(dir .. '/metadata.json') then return reuse() end -- another process won
        return nil, 'synth.ensure: cannot move the project into ' .. dir .. ': ' .. tostring(rerr)
    end
    return summary(dir)
end

--- synth.keypoint_names(n_keypoints) -> {'nose', ...}
function M.keypoint_names(n)
    n = n or 6
    local buf, names = ffi.new('char[32]'), {}
    for i = 0, n - 1 do
        lp.check(C.lp_synth_keypoint_name(n, i, 32, buf))
        names[i + 1] = ffi.string(buf)
    end
    return names
end

--- synth.parse_seed(text) -> seed | nil
-- A decimal seed as typed (`lpose synth --seed`): a Lua number, or a uint64_t cdata
-- beyond 2^53 so that every seed stays exact; nil for anything but 1 to 20 digits.
function M.parse_seed(s)
    if not s:match('^%d+$') or #s > 20 then return nil end
    if #s <= 15 then return tonumber(s) end
    local v = ffi.new('uint64_t', 0) -- cdata-ok: seeds beyond 2^53 stay exact uint64
    for i = 1, #s do v = v * 10 + (s:byte(i) - 48) end
    return v
end

return M
