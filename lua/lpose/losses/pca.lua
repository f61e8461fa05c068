-- lpose.losses.pca: LP's KeypointPCA in Lua over the engine's lp_pca
-- (docs/spec/lp-model.md §4.5): formatting of keypoints for the singleview and
-- multiview PCA, the fit, reprojection errors and the empirical epsilon.
-- Column indices in configs (columns_for_singleview_pca,
-- mirrored_column_matches) are LP's 0-based keypoint indices.
--
-- Docs: docs/reference/lua/losses.md.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local class = require('lpose.class')
local box = require('lpose.box')

local C, check, argerror = lp.lib, lp.check, lp.argerror

local M = {}

-- The owning box of an lp_pca* (idempotent free and __gc), held by a PCA object.
local Box = box.define({ handle = 'lp_pca', free = C.lp_pca_free })

local pca_out = ffi.new('lp_pca*[1]')
local out1 = ffi.new('lp_tensor*[1]')
local double_out = ffi.new('double[1]')

-- keypoints: (N, K, 2) or (N, 2K) -> (N, K, 2)
local function as_nk2(kp, fname)
    if not tensor.is_tensor(kp) then argerror(fname, 'expected a keypoints tensor') end
    if kp:dim() == 3 and kp:size(3) == 2 then return kp end
    if kp:dim() == 2 and kp:size(2) % 2 == 0 then return kp:reshape(kp:size(1), kp:size(2) / 2, 2) end
    argerror(fname, ('keypoints must be (N, K, 2) or (N, 2K), got (%s)'):format(table.concat(kp:size(), ', ')))
end

-- LP's 0-based indices -> a 1-based i64 index tensor for index_select
local function index_of(cols, k, fname)
    local idx = {}
    for i, c in ipairs(cols) do
        if type(c) ~= 'number' or c < 0 or c >= k or c % 1 ~= 0 then
            argerror(fname, ('column %s is not a keypoint index in 0..%d'):format(tostring(c), k - 1))
        end
        idx[i] = c + 1
    end
    return tensor.new(idx, { dtype = 'i64' })
end

--- pca.format_singleview(keypoints, columns [, centering_method]) -> (N, 2*K_sel)
-- keypoints: batch num_keypoints 2 (or batch 2*num_keypoints) -> rows
-- interleaved x,y over LP's 0-based `columns` (nil: all keypoints).
-- centering_method 'mean' or 'median' subtracts each frame's mean (median)
-- x and y over the selected keypoints first.
function M.format_singleview(keypoints, columns, centering_method)
    local f = 'pca.format_singleview'
    local kp = as_nk2(keypoints, f)
    if columns ~= nil and #columns > 0 then kp = kp:index_select(2, index_of(columns, kp:size(2), f)) end
    -- as LP: a NaN keypoint makes its whole frame NaN (mean/quantile, not nan-aware);
    -- the median of an even count averages the middle two (Tensor.quantile)
    if centering_method == 'mean' then
        kp = kp - kp:mean(2, true)
    elseif centering_method == 'median' then
        kp = kp - kp:quantile(0.5, 2, true)
    elseif centering_method ~= nil then
        argerror(f, ("centering_method '%s' must be nil, 'mean' or 'median'"):format(tostring(centering_method)))
    end
    return kp:reshape(kp:size(1), kp:size(2) * 2)
end

--- pca.format_multiview(keypoints, mirrored_column_matches) -> (N*K_sel, 2*n_views)
-- One row per (frame, body part), frame-major, with columns
-- [x_v0, y_v0, x_v1, y_v1, ...]; each view lists LP's 0-based keypoint
-- indices, all of the same length.
function M.format_multiview(keypoints, matches)
    local f = 'pca.format_multiview'
    local kp = as_nk2(keypoints, f)
    if type(matches) ~= 'table' or #matches < 2 then argerror(f, 'mirrored_column_matches needs >= 2 views') end
    local parts = {}
    for v, cols in ipairs(matches) do
        if #cols ~= #matches[1] then argerror(f, 'every view must list the same number of keypoints') end
        local sel = kp:index_select(2, index_of(cols, kp:size(2), f)) -- (N, Ksel, 2)
        parts[v] = sel:permute(3, 1, 2):reshape(2, -1)                  -- (2, N*Ksel)
    end
    return tensor.cat(parts, 1):t():contiguous()
end

local PCA = class('lpose.losses.PCA')
M.PCA = PCA

--- pca.fit(data, components_to_keep) -> PCA
-- data: (N, D) with NaN for missing values. components_to_keep: a whole
-- number >= 1 keeps that many components, a fraction in (0, 1) keeps the
-- fewest reaching that explained variance ratio.
function M.fit(data, components_to_keep)
    local f = 'pca.fit'
    local c = components_to_keep
    if type(c) ~= 'number' or c <= 0 then argerror(f, 'components_to_keep must be a positive number') end
    local n, frac = 0, 0
    if c >= 1 then
        if c % 1 ~= 0 then argerror(f, 'components_to_keep >= 1 must be a whole number, got ' .. c) end
        n = c
    else
        frac = c
    end
    check(C.lp_pca_fit(tensor.handle(data, f), n, frac, pca_out))
    local self = setmetatable({}, PCA)
    self.box = Box(pca_out[0])
    return self
end

--- pca.from_tensors(mean, components) -> PCA (e.g. read back from a checkpoint)
function M.from_tensors(mean, components)
    local f = 'pca.from_tensors'
    check(C.lp_pca_init(tensor.handle(mean, f), tensor.handle(components, f), pca_out))
    local self = setmetatable({}, PCA)
    self.box = Box(pca_out[0])
    return self
end

function PCA:handle()
    if self.box.h == nil then error('PCA used after free()', 2) end
    return self.box.h
end
function PCA:free() self.box:free() end

--- pca:n_components(), pca:n_features()
function PCA:n_components() return tonumber(C.lp_pca_n_components(self:handle())) end
function PCA:n_features() return tonumber(C.lp_pca_n_features(self:handle())) end

local fields = {
    mean = C.LP_PCA_MEAN, components = C.LP_PCA_COMPONENTS,
    explained_variance = C.LP_PCA_EXPLAINED_VARIANCE,
    explained_variance_ratio = C.LP_PCA_EXPLAINED_VARIANCE_RATIO,
}
--- pca:get(name) -> f64 tensor; name: mean | components | explained_variance | explained_variance_ratio
function PCA:get(name)
    if fields[name] == nil then argerror('pca:get', 'unknown field ' .. tostring(name)) end
    check(C.lp_pca_get(self:handle(), fields[name], out1))
    return tensor.wrap(out1[0])
end

--- pca:reprojection_error(x) -> (N, D/2) per-keypoint error of formatted rows x (N, D)
function PCA:reprojection_error(x)
    check(C.lp_pca_reproject_error(self:handle(), tensor.handle(x, 'pca:reprojection_error'), out1))
    return tensor.wrap(out1[0])
end

--- pca:empirical_epsilon(x [, percentile=99 [, multiplier=1]]) -> number
-- nanpercentile of every reprojection error of x, times multiplier (LP).
function PCA:empirical_epsilon(x, percentile, multiplier)
    check(C.lp_pca_empirical_epsilon(self:handle(), tensor.handle(x, 'pca:empirical_epsilon'),
        percentile or 99.0, multiplier or 1.0, double_out))
    return double_out[0]
end

--- pca:loss(x, epsilon) -> 0-d tensor: mean relu(error - epsilon)
function PCA:loss(x, epsilon)
    check(C.lp_loss_pca(self:handle(), tensor.handle(x, 'pca:loss'), epsilon, out1))
    return tensor.wrap(out1[0])
end

return M
