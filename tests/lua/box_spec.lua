-- lpose.box: the __index of lpose's FFI boxes. Tensors index with t[i]
-- (1-based, negative from the end; a number at the last level) and every
-- box names itself in the error for an unknown key, with a "did you mean".
local lpose = require('lpose')
local box = require('lpose.box')

-- The message of the error `fn` raises, without the position.
local function error_of(fn, ...)
    local ok, err = pcall(fn, ...)
    assert(not ok, 'expected an error')
    return (tostring(err):gsub('^[^:]*:%d+: ', ''))
end

describe('lpose.box', function()
    describe('closest', function()
        it('suggests the nearest name, or a longer one that starts with the word', function()
            assert.are.equal('sum', box.closest('sume', { 'sub', 'sum', 'size' }))
            assert.are.equal('view', box.closest('veiw', { 'view', 'reshape' }))
            assert.are.equal('index_select', box.closest('index_s', { 'index_select', 'select' }))
            assert.is_nil(box.closest('foo', { 'view', 'reshape' }))
            assert.is_nil(box.closest('', { 'a' }))
        end)
    end)

    describe('tensor t[i]', function()
        local m
        before_each(function() m = lpose.arange(12):view(3, 4) end)

        it('is a view of row i on a tensor of 2 or more dims', function()
            local row = m[2]
            assert.is_true(lpose.is_tensor(row))
            assert.are.same({ 4, 5, 6, 7 }, row:totable())
            row:fill_(0) -- a view: m changes
            assert.are.same({ 0, 0, 0, 0 }, m:select(1, 2):totable())
            assert.are.same({ 2, 4 }, lpose.zeros(3, 2, 4)[1]:size())
        end)

        it('is a Lua number on a 1-d tensor, so t[i][j] reads one element', function()
            assert.are.equal(6, m[2][3])
            assert.are.equal('number', type(m[1][1]))
            assert.are.equal(11, m[-1][-1])
            assert.are.equal(8, m[-1][1])
            assert.are.equal(true, lpose.tensor{ true, false }[1])
            assert.are.equal(false, lpose.tensor{ true, false }[-1])
            local v, s = lpose.tensor{ 1, 2, 3 }, 0
            for i = 1, #v do s = s + v[i] end
            assert.are.equal(6, s)
        end)

        it('raises a clear error out of range, for 0, non-integers and 0-d tensors', function()
            assert.are.equal('tensor[4]: index 4 out of range for dim 1 of size 3 (1..3, or -3..-1 from the end)',
                error_of(function() return m[4] end))
            assert.are.equal('tensor[-4]: index -4 out of range for dim 1 of size 3 (1..3, or -3..-1 from the end)',
                error_of(function() return m[-4] end))
            assert.are.equal('tensor[5]: index 5 out of range for dim 1 of size 4 (1..4, or -4..-1 from the end)',
                error_of(function() return m[1][5] end))
            assert.are.equal('tensor[0]: indices are 1-based (1..3, or -3..-1 from the end)',
                error_of(function() return m[0] end))
            assert.are.equal('tensor[1.5]: indices are integers (1..3, or -3..-1 from the end)',
                error_of(function() return m[1.5] end))
            assert.are.equal('tensor[1]: a 0-d tensor has no dim to index (t:item() is its value)',
                error_of(function() return lpose.tensor(3)[1] end))
            assert.are.equal('tensor[1]: index 1 out of range for dim 1 of size 0 (none: the dim is empty)',
                error_of(function() return lpose.zeros(0)[1] end))
            local freed = lpose.zeros(2)
            freed:free()
            assert.are.equal('tensor[1]: tensor used after free()', error_of(function() return freed[1] end))
        end)

        it('points the error at the caller', function()
            local ok, err = pcall(function() return m[9] end)
            assert.is_false(ok)
            assert.truthy(err:find('box_spec.lua:%d+: tensor%[9%]'), err)
        end)

        it('t[i] = v fills row i with a number or copies a tensor into it', function()
            m[1] = 7
            m[2][2] = -1
            m[-1] = lpose.tensor{ 1, 2, 3, 4 }
            assert.are.same({ { 7, 7, 7, 7 }, { 4, -1, 6, 7 }, { 1, 2, 3, 4 } }, m:totable())
            local b = lpose.tensor{ false, false }
            b[2] = true
            assert.are.same({ false, true }, b:totable())
            assert.truthy(error_of(function() m[1] = lpose.zeros(5) end):find('lp_tensor_copy_', 1, true))
            assert.are.equal('tensor[1] = ...: expected a number, a boolean or a tensor, got string',
                error_of(function() m[1] = 'x' end))
            assert.are.equal('tensor[4] = ...: index 4 out of range for dim 1 of size 3 (1..3, or -3..-1 from the end)',
                error_of(function() m[4] = 0 end))
            assert.are.equal("cannot set 'x' on a Tensor (tensors hold no Lua fields; indices are integers)",
                error_of(function() m.x = 1 end))
        end)
    end)

    describe('unknown keys', function()
        it('name the tensor and suggest a method', function()
            local t = lpose.zeros(2)
            assert.are.equal("Tensor has no method 'sume' (did you mean 'sum'?)",
                error_of(function() return t:sume() end))
            assert.are.equal("Tensor has no method 'foo'", error_of(function() return t.foo end))
            assert.are.equal('Tensor cannot be indexed with a table (indices are integers: t[1], t[-1])',
                error_of(function() return t[{}] end))
            local ok, err = pcall(function() return t:sume() end)
            assert.is_false(ok)
            assert.truthy(err:find('^[^:]*box_spec.lua:%d+: '), err) -- the caller's line
        end)

        it('name the other boxes too', function()
            local opt = lpose.optim.SGD({ lpose.zeros(2):requires_grad_() }, { lr = 0.1 })
            assert.are.equal("lpose.optim optimizer has no method 'stpe' (did you mean 'step'?)",
                error_of(function() return opt:stpe() end))
            local list = lpose.serialize.list({ a = lpose.zeros(1) })
            assert.truthy(error_of(function() return list.nope end)
                :find("^lpose.serialize tensor list has no method 'nope'"))
        end)

        it('keep methods and fields working, and a freed box says so', function()
            local data = require('lpose.data')
            local FIX = 'tests/fixtures/data'
            local labels = assert(data.read_labels(FIX .. '/labels_ok.csv', { data_dir = FIX }))
            assert.is_number(labels.n_frames)
            assert.is_table(labels:keypoint_names())
            assert.are.equal("lpose.data.Labels has no method or field 'n_frame' (did you mean 'n_frames'?)",
                error_of(function() return labels.n_frame end))
            labels:free()
            assert.are.equal('labels.n_frames: labels used after free()',
                error_of(function() return labels.n_frames end))
        end)
    end)

    describe('kind_of', function()
        it('names lpose boxes and nothing else', function()
            assert.are.equal('Tensor', box.kind_of(lpose.zeros(1)).name)
            assert.are.equal('lpose.tensor', box.kind_of(lpose.zeros(1)).module)
            assert.is_nil(box.kind_of({}))
            assert.is_nil(box.kind_of(require('ffi').new('int[1]')))
            assert.truthy(box.kinds().Tensor)
            local names = box.names(box.kinds().Tensor)
            assert.truthy(#names > 100)
            for _, n in ipairs(names) do assert.are_not.equal('_', n:sub(1, 1)) end
        end)
    end)
end)
