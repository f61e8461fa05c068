-- Specs for tools/layers/c_layers.lua (`make check-c-layers`, part of `make test`):
-- fed fake symbol tables, it must flag a call up or across the engine layers and
-- pass the calls the rules allow.
local layers = dofile('tools/layers/c_layers.lua')

local function obj(path, defined, undefined)
    return {path = path, defined = defined or {}, undefined = undefined or {}}
end

-- A small engine that keeps the rules: core over shim, model over tensor.
local function clean()
    return {
        obj('build/obj/engine/shim/tensor.o', {'lp_tensor_free', 'lp_set_error'}, {'malloc', '_ZN2at6TensorD2Ev'}),
        obj('build/obj/engine/shim/tensor_list.o', {'lp_tensor_list_push'}, {'lp_tensor_free'}),
        obj('build/obj/engine/src/core/error.o', {'lp_errorf'}, {'lp_set_error', 'vsnprintf'}),
        obj('build/obj/engine/src/tensor/lpt.o', {'lp_tensor_list_save'}, {'lp_errorf', 'lp_tensor_list_push'}),
        obj('build/obj/engine/src/model/model_weights.o', {'lp_model_save'}, {'lp_tensor_list_save', 'lp_errorf'}),
        obj('build/obj/engine/main/lpose.o', {'main'}, {'lp_model_save', 'lua_pcall'}),
    }
end

describe('tools/layers/c_layers.lua', function()
    it('passes calls that go down', function()
        assert.are.same({}, layers.check(clean()))
    end)

    it('flags the shim calling up into the core (the old tensor-list circle)', function()
        local objs = clean()
        table.insert(objs[2].undefined, 'lp_tensor_list_save')
        local bad = layers.check(objs)
        assert.are.equal(1, #bad)
        assert.matches('shim/tensor_list.o %(shim%) calls lp_tensor_list_save from .-tensor/lpt.o %(tensor%)', bad[1])
    end)

    it('flags a core area calling one above it, and one beside it', function()
        local objs = clean()
        table.insert(objs, obj('build/obj/engine/src/predict/predict_video.o', {'lp_predict_video'}, {'lp_model_save'}))
        table.insert(objs, obj('build/obj/engine/src/loss/loss_pca.o', {'lp_pca_fit'}, {}))
        table.insert(objs[4].undefined, 'lp_model_save')  -- tensor -> model: upward
        table.insert(objs[5].undefined, 'lp_pca_fit')     -- model -> loss: across
        local bad = layers.check(objs)
        assert.are.equal(2, #bad)
        assert.matches('model_weights.o %(model%) calls lp_pca_fit .-model may not call loss', bad[1])
        assert.matches('lpt.o %(tensor%) calls lp_model_save .-tensor may not call model', bad[2])
    end)

    it('flags anything in the library calling the executable', function()
        local objs = clean()
        table.insert(objs[3].undefined, 'main')
        assert.matches('core/error.o %(core%) calls main .-core may not call main', layers.check(objs)[1])
    end)

    it('flags LuaJIT outside engine/main and FFmpeg in the shim', function()
        local objs = clean()
        table.insert(objs[3].undefined, 'luaL_error')
        table.insert(objs[1].undefined, 'av_frame_alloc')
        local bad = layers.check(objs)
        assert.are.equal(2, #bad)
        assert.matches('shim/tensor.o %(shim%) uses av_frame_alloc: the shim uses libtorch only', bad[1])
        assert.matches('core/error.o %(core%) uses luaL_error: only engine/main embeds LuaJIT', bad[2])
    end)

    it('flags an object outside the area folders and a folder with no rule', function()
        local objs = clean()
        table.insert(objs, obj('build/obj/engine/src/flat.o'))
        table.insert(objs, obj('build/obj/engine/src/newarea/x.o'))
        local bad = layers.check(objs)
        assert.are.equal(2, #bad)
        assert.matches('flat.o: not in an area folder', bad[1])
        assert.matches('newarea/x.o: area "newarea" has no rule', bad[2])
    end)

    it('refuses rules with a cycle', function()
        local rules = {shim = {}, core = {'shim', 'tensor'}, tensor = {'core'}, main = {'*'}}
        local bad = layers.check({}, rules)
        assert.are.equal(1, #bad)
        assert.matches('the rules have a cycle: core %-> tensor %-> core', bad[1])
        assert.is_nil(layers.find_cycle(layers.RULES))
    end)

    it('reads symbols with nm and exits 1 on a violation', function()
        local support = dofile('tests/lua/support.lua')
        local tmp = support.mktemp('c_layers_spec')
        os.execute(('mkdir -p %s/engine/shim %s/engine/src/core'):format(tmp, tmp))
        local function cc(path, src)
            local f = assert(io.open(path .. '.c', 'w'))
            f:write(src)
            f:close()
            local rc = os.execute(("cc -c -o %s.o %s.c"):format(path, path))
            assert(rc == 0 or rc == true)
            return path .. '.o'
        end
        local up = cc(tmp .. '/engine/shim/up',
            'int lp_core_thing(void);\nint lp_shim_thing(void) { return lp_core_thing(); }\n')
        local core = cc(tmp .. '/engine/src/core/thing', 'int lp_core_thing(void) { return 1; }\n')
        local p = io.popen(('luajit tools/layers/c_layers.lua %s %s; echo "rc=$?"'):format(up, core))
        local out = p:read('*a')
        p:close()
        os.execute('rm -rf ' .. support.q(tmp))
        assert.matches('not ok %- layers: .-shim/up.o %(shim%) calls lp_core_thing', out)
        assert.matches('rc=1', out)
    end)
end)
