-- lpose.diagnostics.downsample: what the report page draws of a long series.
-- The data is never thinned: statistics and rankings use every frame. Only
-- the drawn trace is: frames are cut into buckets and each bucket keeps its
-- minimum and its maximum, in the order they occur, so a one-frame spike
-- still reaches its full height on the chart (a plain stride would skip it).
local M = {}

local nan = 0 / 0

--- downsample.grid(n, buckets) -> xs, bounds
-- The drawn frame numbers (0-based, as in the CSVs) of an n-frame series:
-- every frame when n <= 2 * buckets (bounds nil), else two x positions per
-- bucket (its first frame and its middle) and bounds = {{first, last}, ...}
-- (1-based, inclusive) for downsample.minmax.
function M.grid(n, buckets)
    local xs = {}
    if n <= 2 * buckets then
        for i = 1, n do xs[i] = i - 1 end
        return xs, nil
    end
    local bounds = {}
    for b = 1, buckets do
        local first = math.floor((b - 1) * n / buckets) + 1
        local last = math.floor(b * n / buckets)
        bounds[b] = { first, last }
        xs[2 * b - 1] = first - 1
        xs[2 * b] = first - 1 + math.floor((last - first + 1) / 2)
    end
    return xs, bounds
end

--- downsample.minmax(values, bounds) -> drawn values for downsample.grid's xs
-- values: 1-based array (NaN = missing). Without bounds, values as they are;
-- with them, each bucket's minimum and maximum in frame order (NaN where a
-- bucket has no finite value).
function M.minmax(values, bounds)
    if not bounds then return values end
    local out = {}
    for b, range in ipairs(bounds) do
        local lo, hi, ilo, ihi = math.huge, -math.huge, nil, nil
        for i = range[1], range[2] do
            local v = values[i]
            if v == v and v ~= nil then
                if v < lo then lo, ilo = v, i end
                if v > hi then hi, ihi = v, i end
            end
        end
        if ilo == nil then
            out[2 * b - 1], out[2 * b] = nan, nan
        elseif ilo <= ihi then
            out[2 * b - 1], out[2 * b] = lo, hi
        else
            out[2 * b - 1], out[2 * b] = hi, lo
        end
    end
    return out
end

return M
