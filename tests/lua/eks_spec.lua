-- Specs for lpose.eks (lua/lpose/eks.lua) and `lpose eks` (lua/lpose/cli/eks.lua):
-- in-memory and CSV members give the same answer, the output CSV round trips,
-- the smoother beats the ensemble median on simulated members, bad input.
-- The arithmetic itself is tested against a dense solution in tests/c/test_eks.c.
local lpose = require('lpose')
local eks = require('lpose.eks')

local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('eks_spec')

local function lpose_cli(args) return support.run(tmp, args) end

-- A deterministic normal sample (Box-Muller over a small LCG).
local function rng(seed)
    local state = seed
    local function u()
        state = (state * 1103515245 + 12345) % 2147483648
        return (state + 0.5) / 2147483648
    end
    return function() return math.sqrt(-2 * math.log(u())) * math.cos(2 * math.pi * u()) end
end

-- Truth: K smooth random walks over T frames; members: truth + noise of
-- member-specific size, likelihood 0.9. Returns truth[t][k] = {x, y} and
-- members[m][t][k] = {x, y, likelihood} (1-based).
local function simulate(T, K, M, seed)
    local n = rng(seed)
    local truth, members = {}, {}
    local pos = {}
    for k = 1, K do pos[k] = { 50 + 10 * k, 40 + 5 * k } end
    for t = 1, T do
        truth[t] = {}
        for k = 1, K do
            pos[k][1] = pos[k][1] + 0.7 * n()
            pos[k][2] = pos[k][2] + 0.7 * n()
            truth[t][k] = { pos[k][1], pos[k][2] }
        end
    end
    for m = 1, M do
        members[m] = {}
        local sd = 1 + m
        for t = 1, T do
            members[m][t] = {}
            for k = 1, K do
                members[m][t][k] = { truth[t][k][1] + sd * n(), truth[t][k][2] + sd * n(), 0.9 }
            end
        end
    end
    return truth, members
end

-- A member as an LP predictions CSV; cols: the keypoint order to write
-- (default 1..K), nan_keypoint: a keypoint written as empty fields.
local function write_member(path, names, member, opts)
    opts = opts or {}
    local K = #names
    local cols = opts.cols or {}
    if #cols == 0 then for k = 1, K do cols[k] = k end end
    local lines = { 'scorer' .. ('," model"'):rep(0) , 'bodyparts', 'coords' }
    for _, k in ipairs(cols) do
        lines[1] = lines[1] .. ',heatmap_tracker,heatmap_tracker,heatmap_tracker'
        lines[2] = lines[2] .. (',%s'):rep(3):format(names[k], names[k], names[k])
        lines[3] = lines[3] .. ',x,y,likelihood'
    end
    for t, row in ipairs(member) do
        if not opts.frames or t <= opts.frames then
            local f = { tostring(t - 1) }
            for _, k in ipairs(cols) do
                local v = row[k]
                if names[k] == opts.nan_keypoint then
                    f[#f + 1] = ',,'
                else
                    f[#f + 1] = ('%.17g,%.17g,%.17g'):format(v[1], v[2], v[3])
                end
            end
            lines[#lines + 1] = table.concat(f, ',')
        end
    end
    return write(path, table.concat(lines, '\n') .. '\n')
end

-- member (Lua tables) -> (T, K, 3) tensor
local function member_tensor(member)
    return lpose.tensor(member, { dtype = 'f64' })
end

describe('lpose.eks', function()
    local T, K, M = 300, 3, 4
    local names = { 'nose', 'ear', 'tail' }
    local truth, members, paths
    setup(function()
        truth, members = simulate(T, K, M, 7)
        paths = {}
        for m = 1, M do paths[m] = write_member(('%s/m%d.csv'):format(tmp, m), names, members[m]) end
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('gives the same answer for CSV paths and in-memory tensors, and beats the median', function()
        local from_csv = assert(eks.smooth(paths))
        local tensors = {}
        for m = 1, M do tensors[m] = member_tensor(members[m]) end
        local from_mem = assert(eks.smooth(tensors, { keypoint_names = names }))
        assert.are.same(names, from_csv.names)
        assert.are.same({ T, K, 9 }, from_csv.values:size())
        -- %.17g round trips doubles exactly, so the two runs see the same numbers
        assert.are.equal(0, from_csv.values:sub(from_mem.values):abs():max():item())
        for k = 1, K do
            assert.are.equal(from_csv.smooth[k], from_mem.smooth[k])
            assert.is_true(from_csv.smooth[k] > 0)
        end
        -- squared error against the truth: EKS vs the ensemble median
        local sm, md = 0, 0
        local x, med = eks.column(from_csv, 'x'):totable(), eks.column(from_csv, 'x_ens_median'):totable()
        for t = 1, T do
            for k = 1, K do
                sm = sm + (x[t][k] - truth[t][k][1]) ^ 2
                md = md + (med[t][k] - truth[t][k][1]) ^ 2
            end
        end
        -- members' noise sd 2..5 px around a walk of step sd 0.7: smoothing
        -- over ~10 frames must cut the error well below the median's
        assert.is_true(sm < 0.5 * md, ('EKS %.1f vs median %.1f'):format(sm, md))
    end)

    it('also takes {keypoints=, confidences=} and a given smoothing parameter', function()
        local list = {}
        for m = 1, M do
            local t = member_tensor(members[m])
            list[m] = { keypoints = t:narrow(3, 1, 2), confidences = t:select(3, 3) }
        end
        local res = assert(eks.smooth(list, { smooth = 2.5, average = 'mean' }))
        assert.are.same({ 'bodypart0', 'bodypart1', 'bodypart2' }, res.names)
        for k = 1, K do assert.are.equal(2.5, res.smooth[k]) end
        local mean = (members[1][1][1][1] + members[2][1][1][1] + members[3][1][1][1] + members[4][1][1][1]) / 4
        assert.is_true(math.abs(eks.column(res, 'x_ens_median'):totable()[1][1] - mean) < 1e-12)
    end)

    it('matches keypoints by name, whatever the column order of each CSV', function()
        local perm = write_member(tmp .. '/perm.csv', names, members[2], { cols = { 3, 1, 2 } })
        local a = assert(eks.smooth({ paths[1], paths[2], paths[3] }, { smooth = 1 }))
        local b = assert(eks.smooth({ paths[1], perm, paths[3] }, { smooth = 1 }))
        assert.are.equal(0, a.values:sub(b.values):abs():max():item())
        local sub = assert(eks.smooth({ paths[1], perm }, { smooth = 1, keypoints = 'tail, nose' }))
        assert.are.same({ 'tail', 'nose' }, sub.names)
    end)

    it('writes a CSV that reads back (and can be a member again)', function()
        local out = tmp .. '/eks.csv'
        local res = assert(eks.smooth(paths, { output = out }))
        assert.are.equal(out, res.csv)
        local text = slurp(out)
        assert.truthy(text:find('^scorer,ensemble%-kalman_tracker,'))
        assert.truthy(text:find('\ncoords,x,y,likelihood,x_ens_median,y_ens_median,x_ens_var,y_ens_var,'
            .. 'x_posterior_var,y_posterior_var,x,', 1, true))
        local back = assert(eks.read_csv(out))
        assert.are.same(names, back.names)
        assert.are.equal(T, back.n_frames)
        local v = res.values:totable()
        local same = true
        for t = 0, T - 1 do
            for k = 0, K - 1 do
                for c = 0, 2 do same = same and back.values[(t * K + k) * 3 + c] == v[t + 1][k + 1][c + 1] end
            end
        end
        assert.is_true(same)
        assert.truthy(eks.smooth({ out, paths[1] }, { smooth = 1 }))
    end)

    it('rejects programming mistakes with an error naming the function', function()
        assert.has_error(function() eks.smooth({}) end)
        assert.has_error(function() eks.smooth(paths, { smooth = 0 }) end, nil)
        local ok, err = pcall(eks.smooth, paths, { average = 'mode' })
        assert.is_false(ok)
        assert.truthy(tostring(err):find('eks.smooth: average must be', 1, true), err)
        ok, err = pcall(eks.column, { values = lpose.zeros(1, 1, 9) }, 'z')
        assert.is_false(ok)
        assert.truthy(tostring(err):find("unknown column 'z'", 1, true), err)
    end)
end)

describe('lpose eks', function()
    local T, K = 120, 3
    local names = { 'nose', 'ear', 'tail' }
    local members, paths
    setup(function()
        tmp = support.mktemp('eks_cli_spec')
        local _
        _, members = simulate(T, K, 3, 11)
        paths = {}
        for m = 1, 3 do paths[m] = write_member(('%s/m%d.csv'):format(tmp, m), names, members[m]) end
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('smooths CSVs into an LP CSV and prints s per keypoint', function()
        local out = tmp .. '/out.csv'
        local rc, stdout, err = lpose_cli({ 'eks', paths[1], paths[2], paths[3], '--output', out })
        assert.are.equal(0, rc, err)
        assert.truthy(stdout:find('3 members x 120 frames x 3 keypoints', 1, true), stdout)
        assert.truthy(stdout:find('nose%s+s = [%d.e+-]+ %(fitted%)'), stdout)
        assert.are.equal('', err)
        local back = assert(eks.read_csv(out))
        assert.are.same(names, back.names)
        rc, stdout, err = lpose_cli({ 'eks', paths[1], paths[2], '--output', out, '--smooth', '3',
                                      '--keypoints', 'ear', '--mean', '--variance', 'plain' })
        assert.are.equal(0, rc, err)
        assert.truthy(stdout:find('ear%s+s = 3 %(given%)'), stdout)
        assert.are.same({ 'ear' }, assert(eks.read_csv(out)).names)
    end)

    it('warns for a single CSV and for a keypoint without predictions', function()
        local nan = write_member(tmp .. '/nan.csv', names, members[1], { nan_keypoint = 'ear' })
        local nan2 = write_member(tmp .. '/nan2.csv', names, members[2], { nan_keypoint = 'ear' })
        local out = tmp .. '/single.csv'
        local rc, _, err = lpose_cli({ 'eks', paths[1], '--output', out })
        assert.are.equal(0, rc, err)
        assert.truthy(err:find('warning: one member', 1, true), err)
        rc, _, err = lpose_cli({ 'eks', nan, nan2, '--output', out })
        assert.are.equal(0, rc, err)
        assert.truthy(err:find("keypoint 'ear' has no prediction in any frame", 1, true), err)
        local back = assert(eks.read_csv(out))
        assert.is_true(back.values[3] ~= back.values[3]) -- ear's x (frame 0) is NaN
        assert.is_true(back.values[0] == back.values[0]) -- nose's is not
    end)

    it('rejects bad input with an error naming the file', function()
        local out = tmp .. '/bad_out.csv'
        local short = write_member(tmp .. '/short.csv', names, members[2], { frames = 100 })
        local rc, _, err = lpose_cli({ 'eks', paths[1], short, '--output', out })
        assert.are.equal(1, rc)
        assert.truthy(err:find(paths[1] .. ' has 120 frames, ' .. short .. ' has 100', 1, true), err)
        local other = write_member(tmp .. '/other.csv', { 'nose', 'ear', 'paw' }, members[2])
        rc, _, err = lpose_cli({ 'eks', paths[1], other, '--output', out })
        assert.are.equal(1, rc)
        assert.truthy(err:find("keypoint 'tail' of " .. paths[1] .. ' is missing from ' .. other, 1, true), err)
        local garbage = write(tmp .. '/garbage.csv', 'hello,world\n1,2\n')
        rc, _, err = lpose_cli({ 'eks', paths[1], garbage, '--output', out })
        assert.are.equal(1, rc)
        assert.truthy(err:find(garbage, 1, true) and err:find('not an lpose/LP output CSV', 1, true), err)
        local metric = write(tmp .. '/metric.csv', ',nose\n0,1.5\n')
        rc, _, err = lpose_cli({ 'eks', paths[1], metric, '--output', out })
        assert.are.equal(1, rc)
        assert.truthy(err:find(metric .. "' is a metric CSV", 1, true), err)
        rc, _, err = lpose_cli({ 'eks', paths[1], tmp .. '/missing.csv', '--output', out })
        assert.are.equal(1, rc)
        assert.truthy(err:find("cannot open '" .. tmp .. "/missing.csv'", 1, true), err)
        rc, _, err = lpose_cli({ 'eks', paths[1], paths[2], '--output', out, '--keypoints', 'paw' })
        assert.are.equal(1, rc)
        assert.truthy(err:find("keypoint 'paw' is not in " .. paths[1], 1, true), err)
        assert.is_nil(slurp(out))
        -- an unwritable output: an error, and nothing left behind
        rc, _, err = lpose_cli({ 'eks', paths[1], paths[2], '--output', tmp .. '/no/such/dir/o.csv' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('lp_eks_write_csv', 1, true), err)
    end)

    it('rejects bad usage', function()
        local rc, _, err = lpose_cli({ 'eks', paths[1], paths[2] })
        assert.are.equal(1, rc)
        assert.truthy(err:find('--output OUT.csv is required', 1, true), err)
        rc, _, err = lpose_cli({ 'eks', paths[1], '--output', tmp .. '/x.csv', '--smooth', '-1' })
        assert.are.equal(1, rc)
        assert.truthy(err:find("--smooth must be 'auto' or a number > 0, got -1", 1, true), err)
        rc, _, err = lpose_cli({ 'eks', '--output', tmp .. '/x.csv' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('expected at least one predictions CSV', 1, true), err)
        local out
        rc, out = lpose_cli({ 'eks', '--help' })
        assert.are.equal(0, rc)
        assert.truthy(out:find('Ensemble Kalman Smoother', 1, true))
    end)
end)
