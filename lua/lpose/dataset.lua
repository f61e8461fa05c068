-- lpose.dataset: Lightning Pose's labeled dataset for training (C core in
-- engine/src/dataset/: dataset.c, loader.c, augment.c, heatmaps.c, split.c).
--
--   local dataset = require('lpose.dataset')
--   local ds = assert(dataset.open{data = {data_dir = dir, csv_file = 'CollectedData.csv',
--                                          image_resize_dims = {height = 256, width = 256}},
--                                  model = {model_type = 'heatmap_mhcrnn'},
--                                  training = {imgaug = 'dlc'}})
--   local split = ds:split(0.8, 0.1, 0)            -- {train = {...}, val = {...}, test = {...}}, 0-based rows
--   local loader = ds:loader{indices = split.train, batch_size = 16, shuffle = true, seed = 0, workers = 2}
--   for batch in loader:batches() do               -- one epoch
--       -- batch.images: batch context RGB H W (or batch RGB H W), batch.keypoints: batch K 2,
--       -- batch.heatmaps: batch K H/4 W/4, batch.indices: batch (i64, 0-based CSV rows),
--       -- batch.bbox: batch 4 (x, y, h, w = 0, 0, original height, original width)
--   end
--
-- Rows are 0-based CSV data rows, as LP's `idxs` and the split indices in its docs.
-- Expected failures (missing files, bad CSV) return nil, err from open(); an image
-- that fails while loading raises from batches() (loader:next() returns nil, err).
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local box = require('lpose.box')

local C = lp.lib
local M = {}

local dataset_out = ffi.new('lp_dataset*[1]')
local loader_out = ffi.new('lp_loader*[1]')
local t1, t2, t3, t4, t5 = ffi.new('lp_tensor*[1]'), ffi.new('lp_tensor*[1]'), ffi.new('lp_tensor*[1]'),
    ffi.new('lp_tensor*[1]'), ffi.new('lp_tensor*[1]')
local sizes_out = ffi.new('int64_t[3]')

local anchors = setmetatable({}, { __mode = 'k' }) -- loader box -> dataset box (keeps it alive)

local check_type, check_int = lp.check_type, lp.check_int

-- A flag from a config: true or a nonzero number (YAML nulls and false are off).
local function flag(v) return v == true or (type(v) == 'number' and v ~= 0) end

local function pick(...)
    for i = 1, select('#', ...) do
        local v = select(i, ...)
        if v ~= nil then return v end
    end
    return nil
end

---------------------------------------------------------------------------- dataset

local Dataset = {}
local DatasetBox, dataset_handle = box.define({
    handle = 'lp_dataset', free = C.lp_dataset_free, what = 'dataset',
    name = 'lpose.dataset.Dataset', module = 'lpose.dataset', methods = Dataset,
    fields = {
        n_frames = function(h) return tonumber(C.lp_dataset_n_frames(h)) end,
        n_keypoints = function(h) return C.lp_dataset_n_keypoints(h) end,
    },
    len = function(h) return tonumber(C.lp_dataset_n_frames(h)) end,
    tostring = function(self)
        return ('lpose.dataset.Dataset (%d frames, %d keypoints)'):format(self.n_frames, self.n_keypoints)
    end,
})

--- ds:keypoint_names() -> {'paw1LH_top', ...} in CSV column order
function Dataset:keypoint_names()
    local labels = C.lp_dataset_labels(dataset_handle(self, 'dataset:keypoint_names'))
    local names = {}
    for k = 0, C.lp_labels_n_keypoints(labels) - 1 do
        names[k + 1] = ffi.string(C.lp_labels_keypoint_name(labels, k))
    end
    return names
end

--- ds:params() -> {height, width, downsample_factor, context, imgaug, hflip, uniform_heatmaps, seed}
function Dataset:params()
    local p = ffi.new('lp_dataset_params')
    lp.check(C.lp_dataset_get_params(dataset_handle(self, 'dataset:params'), p))
    return { height = p.height, width = p.width, downsample_factor = p.downsample_factor, context = p.context ~= 0,
             imgaug = ffi.string(p.imgaug), hflip = p.hflip ~= 0, uniform_heatmaps = p.uniform_heatmaps ~= 0,
             seed = tonumber(p.seed) }
end

--- ds:split(train_prob, val_prob, seed, train_frames) -> {train = {...}, val = {...}, test = {...}}
-- LP's seeded split (torch.randperm with a generator seeded with rng_seed_data_pt):
-- 0-based rows, train in permutation order (first train_frames kept), val and test too.
-- train_prob 0.8, val_prob 0.1, seed 0 and train_frames nil (keep all) by default.
function Dataset:split(train_prob, val_prob, seed, train_frames)
    local h = dataset_handle(self, 'dataset:split')
    train_prob, val_prob, seed = train_prob or 0.8, val_prob or 0.1, seed or 0
    check_type('dataset:split', 'train_prob', train_prob, 'number')
    check_type('dataset:split', 'val_prob', val_prob, 'number')
    check_int('dataset:split', 'seed', seed, 0)
    if train_frames ~= nil then check_type('dataset:split', 'train_frames', train_frames, 'number') end
    local n = tonumber(C.lp_dataset_n_frames(h))
    local perm = ffi.new('int64_t[?]', n + 1)
    lp.check(C.lp_split_indices(n, train_prob, val_prob, seed, train_frames or 1, perm, sizes_out))
    local n_train, n_val, n_test = tonumber(sizes_out[0]), tonumber(sizes_out[1]), tonumber(sizes_out[2])
    local out = { train = {}, val = {}, test = {} }
    for i = 0, n_train - 1 do out.train[i + 1] = tonumber(perm[i]) end
    local v0 = n - n_test - n_val
    for i = 0, n_val - 1 do out.val[i + 1] = tonumber(perm[v0 + i]) end
    for i = 0, n_test - 1 do out.test[i + 1] = tonumber(perm[n - n_test + i]) end
    return out
end

--- ds:get(row, {augment = false, seed = 0}) -> {images, keypoints, heatmaps}
-- One example (0-based row): images context RGB H W (or RGB H W), keypoints K 2 in
-- resized pixels (NaN missing or out of frame), heatmaps K H/2^ds W/2^ds.
function Dataset:get(row, opts)
    local h = dataset_handle(self, 'dataset:get')
    check_int('dataset:get', 'row', row, 0)
    opts = opts or {}
    local st = C.lp_dataset_get(h, row, opts.augment and 1 or 0, opts.seed or 0, t1, t2, t3)
    if st ~= 0 then
        if st == C.LP_STATUS_BAD_ARG then error(lp.last_error(), lp.user_level()) end
        return nil, lp.last_error()
    end
    return { images = tensor.wrap(t1[0]), keypoints = tensor.wrap(t2[0]), heatmaps = tensor.wrap(t3[0]) }
end

--- ds:free() / ds:close(): release now (idempotent); raises while loaders are open
function Dataset:free()
    if self.h ~= nil then
        for loader, ds in pairs(anchors) do
            if rawequal(ds, self) and loader.h ~= nil then
                error('dataset:free: close its loaders first', lp.user_level())
            end
        end
        C.lp_dataset_free(self.h)
        self.h = nil
    end
end
Dataset.close = Dataset.free

---------------------------------------------------------------------------- loader

local Loader = {}
local LoaderBox, loader_handle = box.define({
    handle = 'lp_loader', free = C.lp_loader_free, what = 'loader',
    name = 'lpose.dataset.Loader', module = 'lpose.dataset', methods = Loader,
    fields = {
        n_batches = function(h) return tonumber(C.lp_loader_n_batches(h)) end,
        epoch = function(h) return tonumber(C.lp_loader_epoch(h)) end,
    },
    len = function(h) return tonumber(C.lp_loader_n_batches(h)) end,
    tostring = function(self)
        return ('lpose.dataset.Loader (%d batches per epoch, epoch %d)'):format(self.n_batches, self.epoch)
    end,
})

--- loader:next() -> batch | nil (end of epoch) | nil, err
-- batch = {images, keypoints, heatmaps, indices, bbox}; the call after the end of an epoch
-- starts the next one (reshuffled).
function Loader:next()
    local st = C.lp_loader_next(loader_handle(self, 'loader:next'), t1, t2, t3, t4, t5)
    if st == 0 then
        return { images = tensor.wrap(t1[0]), keypoints = tensor.wrap(t2[0]), heatmaps = tensor.wrap(t3[0]),
                 indices = tensor.wrap(t4[0]), bbox = tensor.wrap(t5[0]) }
    end
    if st == C.LP_STATUS_EOF then return nil end
    return nil, lp.last_error()
end

local function batches_step(self)
    local batch, err = self:next()
    if err then error(err, lp.user_level()) end
    return batch
end

--- loader:batches() -> iterator over one epoch: for batch in loader:batches() do ... end
-- Raises when a batch fails to load (the message names the file).
function Loader:batches()
    loader_handle(self, 'loader:batches')
    return batches_step, self
end

--- loader:free() / loader:close(): stop the workers now (idempotent)
function Loader:free()
    if self.h ~= nil then
        C.lp_loader_free(self.h)
        self.h = nil
        anchors[self] = nil
    end
end
Loader.close = Loader.free

--- ds:loader{indices=, batch_size=16, shuffle=true, augment=true, seed=0, workers=2, prefetch=2*workers,
---           drop_last=false, shard={index=0, count=1}} -> loader
-- indices: a list of 0-based rows (default: all rows in order). augment=false gives
-- LP's val/test pipeline (resize only, no flip). shard: this rank's part of
-- each global batch of count * batch_size samples in data-parallel training
-- (engine/include/lpose/dataset.h, lp_loader_params).
function Dataset:loader(opts)
    local fname = 'dataset:loader'
    local h = dataset_handle(self, fname)
    opts = opts or {}
    check_type(fname, 'opts', opts, 'table')
    local idx = opts.indices
    local n
    if idx == nil then
        n = tonumber(C.lp_dataset_n_frames(h))
        idx = {}
        for i = 1, n do idx[i] = i - 1 end
    end
    check_type(fname, 'indices', idx, 'table')
    n = #idx
    local buf = ffi.new('int64_t[?]', n + 1)
    for i = 1, n do
        check_int(fname, 'indices[' .. i .. ']', idx[i], 0)
        buf[i - 1] = idx[i]
    end
    local p = C.lp_loader_default_params()
    local bs, workers = opts.batch_size or 16, opts.workers or 2
    check_int(fname, 'batch_size', bs, 1)
    check_int(fname, 'workers', workers, 1)
    p.batch_size = bs
    p.n_workers = workers
    p.prefetch = opts.prefetch or 0
    p.shuffle = (opts.shuffle == nil or opts.shuffle) and 1 or 0
    p.augment = (opts.augment == nil or opts.augment) and 1 or 0
    p.drop_last = opts.drop_last and 1 or 0
    p.seed = opts.seed or 0
    if opts.shard then
        check_type(fname, 'shard', opts.shard, 'table')
        p.shard_index, p.shard_count = opts.shard.index or 0, opts.shard.count or 1
    end
    lp.check(C.lp_loader_open(h, buf, n, p, loader_out))
    local loader = LoaderBox(loader_out[0])
    anchors[loader] = self
    return loader
end

--- lpose.dataset.open(cfg) -> dataset | nil, err
-- cfg: an LP config table (data.data_dir, data.csv_file, data.image_resize_dims,
-- data.downsample_factor, model.model_type, training.imgaug, training.imgaug_hflip,
-- training.uniform_heatmaps_for_nan_keypoints, training.rng_seed_data_pt), or the flat
-- form {data_dir=, csv_file=, height=, width=, downsample_factor=2, context=true,
-- imgaug='default', hflip=false, uniform_heatmaps=false, seed=0}. cache_bytes (flat form
-- only): decoded frames kept in memory, 0 = 512 MiB, negative = none.
function M.open(cfg)
    local fname = 'lpose.dataset.open'
    check_type(fname, 'cfg', cfg, 'table')
    local data, model, training = cfg.data or {}, cfg.model or {}, cfg.training or {}
    local dims = data.image_resize_dims or {}
    local data_dir = pick(cfg.data_dir, data.data_dir)
    local csv = pick(cfg.csv_file, data.csv_file, 'CollectedData.csv')
    check_type(fname, 'data_dir', data_dir, 'string')
    check_type(fname, 'csv_file', csv, 'string')
    local p = C.lp_dataset_default_params()
    p.height = pick(cfg.height, dims.height, 256)
    p.width = pick(cfg.width, dims.width, 256)
    p.downsample_factor = pick(cfg.downsample_factor, data.downsample_factor, 2)
    local context = cfg.context
    if context == nil then context = model.model_type == nil or model.model_type == 'heatmap_mhcrnn' end
    p.context = flag(context) and 1 or 0
    local imgaug = pick(cfg.imgaug, training.imgaug, 'default')
    check_type(fname, 'imgaug', imgaug, 'string')
    p.imgaug = imgaug
    p.hflip = flag(pick(cfg.hflip, training.imgaug_hflip)) and 1 or 0
    p.uniform_heatmaps = flag(pick(cfg.uniform_heatmaps, training.uniform_heatmaps_for_nan_keypoints)) and 1 or 0
    p.seed = pick(cfg.seed, training.rng_seed_data_pt, 0)
    p.cache_bytes = cfg.cache_bytes or 0
    local st = C.lp_dataset_open(csv, data_dir, p, dataset_out)
    if st ~= 0 then
        if st == C.LP_STATUS_BAD_ARG and not lp.last_error():find('lp_labels_read', 1, true) then
            error(lp.last_error(), lp.user_level())
        end
        return nil, lp.last_error()
    end
    return DatasetBox(dataset_out[0])
end

--- lpose.dataset.heatmaps(keypoints, {height=, width=, downsample_factor=2, uniform_heatmaps=false}) -> Tensor
-- keypoints: batch num_keypoints 2 (resized pixels; out-of-frame ones are set to NaN
-- in place) -> heatmaps: batch num_keypoints H/2^ds W/2^ds (LP's Gaussian targets, sigma 1.25).
function M.heatmaps(keypoints, opts)
    local fname = 'lpose.dataset.heatmaps'
    check_type(fname, 'opts', opts, 'table')
    lp.check(C.lp_heatmaps_generate(tensor.handle(keypoints, fname), opts.height, opts.width,
                                    opts.downsample_factor or 2, opts.uniform_heatmaps and 1 or 0, t1))
    return tensor.wrap(t1[0])
end

--- lpose.dataset.randperm(n, seed) -> Tensor (n,) i64: torch.randperm with a seeded CPU generator
function M.randperm(n, seed)
    check_int('lpose.dataset.randperm', 'n', n, 0)
    check_int('lpose.dataset.randperm', 'seed', seed, 0)
    lp.check(C.lp_tensor_randperm(n, seed, t1))
    return tensor.wrap(t1[0])
end

M.Dataset = Dataset
M.Loader = Loader

return M
