-- lpose.data: what Lightning Pose users have on disk, read by the C core.
--
--   local data = require('lpose.data')
--   local labels = assert(data.read_labels('CollectedData.csv', {data_dir = dir}))
--   print(labels.n_frames, labels.n_keypoints, labels:keypoint_names()[1])
--   local kp = labels:keypoints()                 -- n_frames num_keypoints 2, NaN = missing
--   local img, size = data.load_image(dir .. '/' .. labels:image_paths()[1], {height = 256, width = 256})
--   local stack = data.load_context_stack(path, {height = 256, width = 256})  -- 5 RGB H W
--
-- Expected failures (missing file, bad CSV, undecodable image) return nil, err;
-- wrong argument types raise. Rows and keypoints are 1-based Lua lists.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local box = require('lpose.box')

local C = lp.lib
local M = {}

local labels_out = ffi.new('lp_labels*[1]')
local tensor_out = ffi.new('lp_tensor*[1]')
local size_out = ffi.new('int64_t[2]')

local function check_string(fname, what, s) lp.check_type(fname, what, s, 'string') end

-- {height=, width=} -> two ints (0 = native size)
local function dims(fname, opts)
    if opts == nil then return 0, 0 end
    if type(opts) ~= 'table' then lp.argerror(fname, 'opts must be a table, got ' .. type(opts)) end
    local h, w = opts.height or 0, opts.width or 0
    if type(h) ~= 'number' or type(w) ~= 'number' or h < 0 or w < 0 or h % 1 ~= 0 or w % 1 ~= 0 then
        lp.argerror(fname, 'height and width must be non-negative integers')
    end
    if (h == 0) ~= (w == 0) then lp.argerror(fname, 'give both height and width, or neither') end
    return h, w
end

local function size_table()
    return { height = tonumber(size_out[0]), width = tonumber(size_out[1]) }
end

---------------------------------------------------------------------------- labels

local Labels = {}
local LabelsBox, labels_handle = box.define({
    handle = 'lp_labels', free = C.lp_labels_free, what = 'labels',
    name = 'lpose.data.Labels', module = 'lpose.data', methods = Labels,
    fields = {
        n_frames = function(h) return tonumber(C.lp_labels_n_frames(h)) end,
        n_keypoints = function(h) return C.lp_labels_n_keypoints(h) end,
        scorer = function(h) return ffi.string(C.lp_labels_scorer(h)) end,
        has_visibility = function(h) return C.lp_labels_has_visibility(h) ~= 0 end,
    },
    len = function(h) return tonumber(C.lp_labels_n_frames(h)) end,
    tostring = function(self)
        return ('lpose.data.Labels (%d frames, %d keypoints)'):format(self.n_frames, self.n_keypoints)
    end,
})

--- labels:keypoint_names() -> {'nose', 'paw', ...} in CSV column order
function Labels:keypoint_names()
    local h = labels_handle(self, 'labels:keypoint_names')
    local names = {}
    for k = 0, C.lp_labels_n_keypoints(h) - 1 do names[k + 1] = ffi.string(C.lp_labels_keypoint_name(h, k)) end
    return names
end

--- labels:image_paths() -> {'labeled-data/img01.png', ...}, relative to data_dir, as in the CSV
function Labels:image_paths()
    local h = labels_handle(self, 'labels:image_paths')
    local paths = {}
    for i = 0, tonumber(C.lp_labels_n_frames(h)) - 1 do paths[i + 1] = ffi.string(C.lp_labels_image_path(h, i)) end
    return paths
end

--- labels:keypoints() -> Tensor: n_frames num_keypoints 2 (x, y in original pixels), f32, NaN = missing
function Labels:keypoints()
    local h = labels_handle(self, 'labels:keypoints')
    lp.check(C.lp_labels_keypoints(h, tensor_out))
    return tensor.wrap(tensor_out[0])
end

--- labels:visibility() -> Tensor: n_frames num_keypoints, i64 flags (0, 1, 2) | nil, err
-- Only for CSVs with LP's optional x,y,visible coords (labels.has_visibility).
function Labels:visibility()
    local h = labels_handle(self, 'labels:visibility')
    if C.lp_labels_visibility(h, tensor_out) ~= 0 then return nil, lp.last_error() end
    return tensor.wrap(tensor_out[0])
end

--- labels:free() / labels:close(): release now (idempotent; free from box.define)
Labels.close = Labels.free

--- lpose.data.read_labels(csv_path, {data_dir=}) -> labels | nil, err
-- Reads a DLC/Lightning Pose label CSV (3 header rows). With data_dir, a csv_path
-- that does not exist is looked up in data_dir (as LP does) and every image the
-- CSV names must exist under data_dir.
function M.read_labels(csv_path, opts)
    check_string('lpose.data.read_labels', 'csv_path', csv_path)
    local data_dir = opts and opts.data_dir
    if data_dir ~= nil then check_string('lpose.data.read_labels', 'data_dir', data_dir) end
    local st = C.lp_labels_read(csv_path, data_dir, labels_out)
    if st ~= 0 then return nil, lp.last_error() end
    return LabelsBox(labels_out[0])
end

M.Labels = Labels

---------------------------------------------------------------------------- images

--- lpose.data.read_image_rgb(path) -> Tensor: height width 3 (u8 RGB, native size) | nil, err
function M.read_image_rgb(path)
    check_string('lpose.data.read_image_rgb', 'path', path)
    if C.lp_image_read_rgb(path, tensor_out) ~= 0 then return nil, lp.last_error() end
    return tensor.wrap(tensor_out[0])
end

--- lpose.data.load_image(path, {height=, width=}) -> image, orig | nil, err
-- image: RGB height width (f32, bicubic resize, /255, ImageNet mean/std);
-- orig = {height=, width=} of the file, so keypoints scale as x * width / orig.width.
function M.load_image(path, opts)
    check_string('lpose.data.load_image', 'path', path)
    local h, w = dims('lpose.data.load_image', opts)
    if C.lp_image_load(path, h, w, size_out, tensor_out) ~= 0 then return nil, lp.last_error() end
    return tensor.wrap(tensor_out[0]), size_table()
end

---------------------------------------------------------------------------- context frames

local path_buf_size = 4096
local path_buf = ffi.new('char[?]', path_buf_size)

--- lpose.data.context_paths(path, {fallback=true}) -> {p(n-2), p(n-1), path, p(n+1), p(n+2)} | nil, err
-- LP's rule: the first digit run of the file stem is the frame index n; names keep
-- its zero padding; indices below 0 clamp to 0. With fallback (the default, as LP's
-- loader) a neighbour that does not exist is replaced by path itself.
function M.context_paths(path, opts)
    check_string('lpose.data.context_paths', 'path', path)
    local fallback = not (opts and opts.fallback == false)
    local paths = {}
    for off = -2, 2 do
        if C.lp_context_path(path, off, fallback and 1 or 0, path_buf_size, path_buf) ~= 0 then
            return nil, lp.last_error()
        end
        paths[#paths + 1] = ffi.string(path_buf)
    end
    return paths
end

--- lpose.data.load_context_stack(path, {height=, width=}) -> images, orig | nil, err
-- images: context RGB height width = (5, 3, H, W), frames n-2..n+2, each as load_image;
-- orig = {height=, width=} of the centre image.
function M.load_context_stack(path, opts)
    check_string('lpose.data.load_context_stack', 'path', path)
    local h, w = dims('lpose.data.load_context_stack', opts)
    if C.lp_context_load_stack(path, h, w, size_out, tensor_out) ~= 0 then return nil, lp.last_error() end
    return tensor.wrap(tensor_out[0]), size_table()
end

return M
