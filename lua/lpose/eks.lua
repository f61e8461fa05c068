-- lpose.eks: the Ensemble Kalman Smoother over several models' predictions
-- of one video (docs/spec/eks.md). Members are prediction CSVs (lpose's,
-- Lightning Pose's, DeepLabCut's single-animal layout) or predictions held
-- in memory; the work is done in C (lp_eks_smooth), in f64.
--
--   local eks = require('lpose.eks')
--   local res = assert(eks.smooth({'m1.csv', 'm2.csv', 'm3.csv'}, {output = 'eks.csv'}))
--   print(res.smooth[1], res.values:size())   -- s of keypoint 1, {T, K, 9}
--
-- Docs: docs/reference/lua/eks.md, docs/reference/cli/eks.md.
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')

local C, argerror = lp.lib, lp.argerror

local M = {}

--- eks.columns: the nine values per keypoint of a result, eks's names and order
M.columns = {}
for i = 0, C.LP_EKS_N_COLUMNS - 1 do M.columns[i + 1] = ffi.string(C.lp_eks_column_name(i)) end

local averages = { median = C.LP_EKS_MEDIAN, mean = C.LP_EKS_MEAN }
local variances = { confidence_weighted = C.LP_EKS_VAR_CONFIDENCE_WEIGHTED, plain = C.LP_EKS_VAR_PLAIN }
local fit_noises = { median = C.LP_EKS_FIT_MEDIAN_VARIANCE, frame = C.LP_EKS_FIT_FRAME_VARIANCE }

local function choice(tbl, value, default, fname, what)
    if value == nil then value = default end
    local v = tbl[value]
    if v == nil then
        local keys = {}
        for k in pairs(tbl) do keys[#keys + 1] = "'" .. k .. "'" end
        table.sort(keys)
        argerror(fname, ('%s must be %s, got %s'):format(what, table.concat(keys, ' or '), tostring(value)))
    end
    return v
end

---------------------------------------------------------------------------- members

--- eks.read_csv(path) -> member | nil, err
-- A predictions CSV as a member: {source=path, names={...}, n_frames=,
-- index={...}, values=double[T*K*3] (x, y, likelihood per keypoint)}.
-- Columns are found by their coords name, so an EKS output reads back too.
function M.read_csv(path)
    if type(path) ~= 'string' then argerror('eks.read_csv', 'expected a path, got ' .. type(path)) end
    local out = ffi.new('lp_csv_table*[1]')
    if C.lp_csv_table_read(path, out) ~= 0 then return nil, lp.last_error() end
    local t = ffi.gc(out[0], C.lp_csv_table_free)
    if C.lp_csv_table_kind(t) ~= C.LP_CSV_PREDICTIONS then
        return nil, ("'%s' is a metric CSV, not a predictions CSV (header rows scorer/bodyparts/coords)"):format(path)
    end
    local T, K = tonumber(C.lp_csv_table_n_rows(t)), C.lp_csv_table_n_keypoints(t)
    if T == 0 then return nil, ("'%s' has no rows"):format(path) end
    local m = { source = path, n_frames = T, names = {}, index = {} }
    for k = 0, K - 1 do m.names[k + 1] = ffi.string(C.lp_csv_table_keypoint_name(t, k)) end
    for i = 0, T - 1 do m.index[i + 1] = ffi.string(C.lp_csv_table_index(t, i)) end
    m.values = ffi.new('double[?]', T * K * 3)
    ffi.copy(m.values, C.lp_csv_table_values(t), T * K * 3 * 8)
    return m
end

-- A tensor (T, K, 3) or {keypoints = (T, K, 2), confidences = (T, K)} as a member.
local function tensor_member(x, i, names)
    local fname = 'eks.smooth'
    local t = x
    if not tensor.is_tensor(x) then
        if not (tensor.is_tensor(x.keypoints) and tensor.is_tensor(x.confidences)) then
            argerror(fname, ('member %d: expected a CSV path, a (T, K, 3) tensor or {keypoints=, confidences=}')
                :format(i))
        end
        local kp, conf = x.keypoints:to('cpu'):double(), x.confidences:to('cpu'):double()
        if kp:dim() ~= 3 or kp:size(3) ~= 2 or conf:dim() ~= 2
                or kp:size(1) ~= conf:size(1) or kp:size(2) ~= conf:size(2) then
            argerror(fname, ('member %d: keypoints must be (T, K, 2) and confidences (T, K)'):format(i))
        end
        t = tensor.cat({ kp, conf:unsqueeze(3) }, 3)
    end
    if t:dim() ~= 3 or t:size(3) ~= 3 then
        argerror(fname, ('member %d: expected a (T, K, 3) tensor of x, y, likelihood, got %s'):format(i,
            table.concat(t:size(), 'x')))
    end
    t = t:to('cpu'):double():contiguous()
    local T, K = t:size(1), t:size(2)
    local m = { source = ('member %d'):format(i), n_frames = T, names = {} }
    for k = 1, K do m.names[k] = names and names[k] or ('bodypart%d'):format(k - 1) end
    if names and #names ~= K then
        argerror(fname, ('keypoint_names has %d names, member %d has %d keypoints'):format(#names, i, K))
    end
    m.values = ffi.new('double[?]', T * K * 3)
    C.lp_tensor_to_buffer(tensor.handle(t), m.values, T * K * 3 * 8)
    return m
end

-- The index of `name` in list, or nil.
local function find(list, name)
    for i, v in ipairs(list) do if v == name then return i end end
end

-- Keypoints to smooth: all of the first member's, or opts.keypoints (a list
-- or 'a,b,c'); every member must have each of them (matched by name).
local function select_keypoints(members, wanted)
    local first = members[1]
    local names = first.names
    if wanted ~= nil then
        if type(wanted) == 'string' then
            local list = {}
            for name in wanted:gmatch('[^,]+') do list[#list + 1] = name:match('^%s*(.-)%s*$') end
            wanted = list
        end
        if #wanted == 0 then return nil, 'no keypoints selected' end
        for _, name in ipairs(wanted) do
            if not find(names, name) then
                return nil, ("keypoint '%s' is not in %s (it has %s)"):format(name, first.source,
                    table.concat(names, ', '))
            end
        end
        names = wanted
    end
    for j = 2, #members do
        local m = members[j]
        for _, name in ipairs(names) do
            if not find(m.names, name) then
                return nil, ("keypoint '%s' of %s is missing from %s (it has %s)"):format(name, first.source,
                    m.source, table.concat(m.names, ', '))
            end
        end
        if wanted == nil and #m.names ~= #names then
            for _, name in ipairs(m.names) do
                if not find(names, name) then
                    return nil, ("%s has keypoint '%s', which %s lacks: the files are not of the same model set")
                        :format(m.source, name, first.source)
                end
            end
        end
    end
    return names
end

-- Every member has the first one's frame count, and CSVs the same row labels.
local function check_frames(members)
    local first = members[1]
    for j = 2, #members do
        local m = members[j]
        if m.n_frames ~= first.n_frames then
            return nil, ('%s has %d frames, %s has %d: the predictions are not of the same video'):format(
                first.source, first.n_frames, m.source, m.n_frames)
        end
        if first.index and m.index then
            for i = 1, first.n_frames do
                if first.index[i] ~= m.index[i] then
                    return nil, ("row %d is frame '%s' in %s but '%s' in %s"):format(i, first.index[i],
                        first.source, m.index[i], m.source)
                end
            end
        end
    end
    return true
end

---------------------------------------------------------------------------- smooth

-- Is the ensemble variance of keypoint k zero wherever it is defined?
local function zero_spread(out, T, K, k, NC)
    for t = 0, T - 1 do
        local o = (t * K + k) * NC
        local vx, vy = out[o + 5], out[o + 6]
        if (vx == vx and vx ~= 0) or (vy == vy and vy ~= 0) then return false end
    end
    return true
end

--- eks.smooth(members, opts) -> result | nil, err
-- members: a list of CSV paths, (T, K, 3) tensors (x, y, likelihood) or
-- {keypoints = (T, K, 2), confidences = (T, K)} tables (lpose.predict's
-- stream output concatenated), in any mix. opts:
--   smooth = 'auto' (default: fit s per keypoint) or a number > 0
--   average = 'median' (default) | 'mean'
--   variance = 'confidence_weighted' (default) | 'plain'
--   fit_noise = 'median' (default, eks's) | 'frame'
--   keypoints = names to smooth (a list or 'a,b'); default all
--   keypoint_names = names of in-memory members' keypoints
--   output = path: also write the CSV (atomically)
--   on_warning = function(msg), called for each warning (also in result.warnings)
-- result = {names=, n_frames=, n_models=, smooth={s per keypoint, NaN if the
-- keypoint has no prediction}, values=tensor (T, K, 9) f64 with columns
-- eks.columns, index= row labels or nil, warnings={...}, csv=path or nil}.
-- Bad input (files, frame counts, keypoints) returns nil, err.
function M.smooth(members, opts)
    local fname = 'eks.smooth'
    opts = opts or {}
    if type(members) ~= 'table' or #members == 0 then argerror(fname, 'expected a non-empty list of members') end
    local p = ffi.new('lp_eks_params[1]')
    p[0] = C.lp_eks_default_params()
    p[0].average = choice(averages, opts.average, 'median', fname, 'average')
    p[0].variance = choice(variances, opts.variance, 'confidence_weighted', fname, 'variance')
    p[0].fit_noise = choice(fit_noises, opts.fit_noise, 'median', fname, 'fit_noise')
    local smooth = opts.smooth
    if smooth == nil or smooth == 'auto' then
        p[0].smooth = 0
    elseif type(smooth) == 'number' and smooth > 0 and smooth < math.huge then
        p[0].smooth = smooth
    else
        argerror(fname, "smooth must be 'auto' or a number > 0, got " .. tostring(smooth))
    end
    local warnings = {}
    local function warn(msg)
        warnings[#warnings + 1] = msg
        if opts.on_warning then opts.on_warning(msg) end
    end

    local loaded = {}
    for i, x in ipairs(members) do
        if type(x) == 'string' then
            local m, err = M.read_csv(x)
            if not m then return nil, err end
            loaded[i] = m
        elseif type(x) == 'table' or tensor.is_tensor(x) then
            loaded[i] = tensor_member(x, i, opts.keypoint_names)
        else
            argerror(fname, ('member %d: expected a CSV path or tensors, got %s'):format(i, type(x)))
        end
    end
    local seen = {}
    for _, x in ipairs(members) do
        if type(x) == 'string' then
            if seen[x] then warn(("'%s' is given twice: it counts as two members"):format(x)) end
            seen[x] = true
        end
    end
    local ok, err = check_frames(loaded)
    if not ok then return nil, err end
    local names
    names, err = select_keypoints(loaded, opts.keypoints)
    if not names then return nil, err end
    if #loaded == 1 then
        warn(('one member (%s): no ensemble spread, so the observation variance is 1 / likelihood '
            .. "(eks's one-model rule) and EKS only smooths that model's predictions"):format(loaded[1].source))
    end

    local M_, T, K = #loaded, loaded[1].n_frames, #names
    local pred = ffi.new('double[?]', M_ * T * K * 3)
    for j, m in ipairs(loaded) do
        local Km = #m.names
        for k, name in ipairs(names) do
            local src = find(m.names, name) - 1
            local base = (j - 1) * T * K * 3 + (k - 1) * 3
            for t = 0, T - 1 do
                local s, d = (t * Km + src) * 3, base + t * K * 3
                pred[d], pred[d + 1], pred[d + 2] = m.values[s], m.values[s + 1], m.values[s + 2]
            end
        end
        m.values = nil -- the copy above is all that is needed from here on
    end
    local values = tensor.empty({ T, K, C.LP_EKS_N_COLUMNS }, { dtype = 'f64' })
    local ptr = ffi.new('void*[1]')
    lp.check(C.lp_tensor_data_ptr(tensor.handle(values), ptr))
    local s_out = ffi.new('double[?]', K)
    if C.lp_eks_smooth(pred, M_, T, K, p, s_out, ffi.cast('double*', ptr[0])) ~= 0 then
        return nil, lp.last_error()
    end
    pred = nil -- luacheck: ignore (frees the predictions before the CSV is written)
    local res = {
        names = names, n_frames = T, n_models = M_, smooth = {}, values = values,
        columns = M.columns, index = loaded[1].index, warnings = warnings,
    }
    local out = ffi.cast('double*', ptr[0])
    local NC = C.LP_EKS_N_COLUMNS
    for k = 1, K do
        local s = s_out[k - 1]
        res.smooth[k] = s
        if s ~= s then
            warn(("keypoint '%s' has no prediction in any frame of any member: its output is NaN"):format(names[k]))
        elseif M_ > 1 and zero_spread(out, T, K, k - 1, NC) then
            warn(("keypoint '%s': the members agree exactly in every frame (the same predictions twice?), "
                .. 'so the observation variance is 0 and the output is the ensemble median'):format(names[k]))
        end
    end
    if opts.output then
        ok, err = M.write_csv(opts.output, res)
        if not ok then return nil, err end
        res.csv = opts.output
    end
    return res
end

--- eks.write_csv(path, result) -> true | nil, err
-- result: from eks.smooth. LP's three header rows, scorer
-- 'ensemble-kalman_tracker', the nine columns per keypoint; written to
-- PATH.tmp-<pid> and renamed, so PATH is never half written.
function M.write_csv(path, res)
    local fname = 'eks.write_csv'
    if type(path) ~= 'string' then argerror(fname, 'expected a path, got ' .. type(path)) end
    if type(res) ~= 'table' or not tensor.is_tensor(res.values) then
        argerror(fname, 'expected a result of eks.smooth')
    end
    local v = res.values:to('cpu'):double():contiguous()
    local T, K = v:size(1), v:size(2)
    local names_c = ffi.new('const char*[?]', K)
    for k = 1, K do names_c[k - 1] = res.names[k] end
    local index_c, anchor
    if res.index then
        index_c = ffi.new('const char*[?]', T)
        anchor = res.index
        for i = 1, T do index_c[i - 1] = anchor[i] end
    end
    local ptr = ffi.new('void*[1]')
    lp.check(C.lp_tensor_data_ptr(tensor.handle(v), ptr))
    if C.lp_eks_write_csv(path, T, K, names_c, index_c, ffi.cast('const double*', ptr[0])) ~= 0 then
        return nil, lp.last_error()
    end
    return true
end

--- eks.column(result, name) -> tensor (T, K): one of eks.columns for every keypoint
function M.column(res, name)
    local i = find(M.columns, name)
    if not i then
        argerror('eks.column', ("unknown column '%s' (one of %s)"):format(tostring(name),
            table.concat(M.columns, ', ')))
    end
    return res.values:select(3, i)
end

return M
