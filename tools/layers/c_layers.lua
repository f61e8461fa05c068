-- tools/layers/c_layers.lua: the layer check of the engine (`make check-c-layers`,
-- part of `make test`; docs/design/architecture.md).
--
--   luajit tools/layers/c_layers.lua OBJECT.o...
--
-- Includes prove little (every core file includes lpose.h, the whole API), so
-- this reads what each object file really uses: its undefined symbols (nm), each
-- resolved to the objects that define it. An object's area is its folder:
-- engine/shim -> shim, engine/src/AREA -> AREA, engine/main -> main. A call from
-- one area into another must be listed in RULES below; a symbol no object of ours
-- defines comes from a library (libtorch, libc, FFmpeg...), checked by FOREIGN.
-- Prints one line "ok - ..." or one line per violation, and exits 1 on any.
-- Loaded as a module (tests/lua/c_layers_spec.lua) it runs nothing.

local M = {}

-- Which other areas each area's objects may call. Lower areas first; the table
-- must stay a DAG (M.check refuses a cycle), so nothing calls upward.
M.RULES = {
    -- The bottom layer: libtorch, libc and the C API types only. It returns
    -- lists and tensors itself, so it must never need the core to build them.
    shim = {},
    -- The error path (error.c) and interrupts / temporary files (interrupt.c):
    -- everything above reports through them.
    core = {'shim'},
    -- C over the tensor API: .lpt files, nn helpers for models and losses.
    tensor = {'core', 'shim'},
    -- Labels, images (the FFmpeg helpers live in image.c), context frames.
    data = {'core', 'shim'},
    -- Video reader and writer: decode and scale with data's FFmpeg helpers.
    video = {'data', 'core', 'shim'},
    -- Datasets, loader, augmentation, heatmap targets, splits: built on data.
    dataset = {'data', 'core', 'shim'},
    -- Models load and save weights as .lpt tensor lists and use the nn helpers.
    model = {'tensor', 'core', 'shim'},
    -- Losses are stateless math over tensors (nn helpers).
    loss = {'tensor', 'core', 'shim'},
    -- Figures and labeled images; PNGs through data's image writer.
    plot = {'data', 'core', 'shim'},
    -- Synthetic data reads videos and writes images and videos of its own.
    synth = {'video', 'data', 'core', 'shim'},
    -- Prediction runs models over videos and draws labeled videos with plot.
    predict = {'model', 'video', 'plot', 'data', 'tensor', 'core', 'shim'},
    -- The ensemble Kalman smoother reads and writes prediction CSVs.
    eks = {'predict', 'core', 'shim'},
    -- Worker processes (launch.c); the process groups are the shim's dist.cpp.
    dist = {'core', 'shim'},
    -- The executable may call anything in the library; nothing calls it.
    main = {'*'},
}

-- Library symbols an area must not use, by prefix.
M.FOREIGN = {
    -- Only engine/main embeds LuaJIT: the engine never raises a Lua error, so
    -- no longjmp crosses libtorch's C++ frames (docs/design/errors.md §1).
    {areas = 'all but main', prefixes = {'lua_', 'luaL_', 'luaJIT_', 'luaopen_'},
     why = 'only engine/main embeds LuaJIT'},
    -- The shim is libtorch only: FFmpeg and cairo/pango belong to the C core.
    {areas = 'shim', prefixes = {'av_', 'avformat_', 'avcodec_', 'sws_', 'cairo_', 'pango_'},
     why = 'the shim uses libtorch only'},
}

-- The area of an object path, or nil for a file outside engine/.
function M.area_of(path)
    if path:find('engine/shim/', 1, true) then return 'shim' end
    if path:find('engine/main/', 1, true) then return 'main' end
    return path:match('engine/src/([^/]+)/')
end

local function set(list)
    local s = {}
    for _, v in ipairs(list) do s[v] = true end
    return s
end

-- A cycle in the rules (through areas other than main) or nil.
function M.find_cycle(rules)
    local state, stack = {}, {}
    local function visit(a)
        if state[a] == 1 then
            local from = #stack
            while stack[from] ~= a do from = from - 1 end
            local c = {}
            for i = from, #stack do c[#c + 1] = stack[i] end
            c[#c + 1] = a
            return table.concat(c, ' -> ')
        end
        if state[a] == 2 or not rules[a] then return nil end
        state[a], stack[#stack + 1] = 1, a
        for _, b in ipairs(rules[a]) do
            if b ~= '*' then
                local c = visit(b)
                if c then return c end
            end
        end
        state[a], stack[#stack] = 2, nil
        return nil
    end
    local names = {}
    for a in pairs(rules) do names[#names + 1] = a end
    table.sort(names)
    for _, a in ipairs(names) do
        local c = visit(a)
        if c then return c end
    end
    return nil
end

local function foreign_rule(area, sym, foreign)
    for _, f in ipairs(foreign) do
        local applies = (f.areas == 'all but main' and area ~= 'main') or f.areas == area
        if applies then
            for _, p in ipairs(f.prefixes) do
                if sym:sub(1, #p) == p then return f end
            end
        end
    end
    return nil
end

-- objects: list of {path=, defined={sym...}, undefined={sym...}}.
-- Returns a sorted list of violation lines (empty when the layers hold).
function M.check(objects, rules, foreign)
    rules, foreign = rules or M.RULES, foreign or M.FOREIGN
    local out = {}
    local cycle = M.find_cycle(rules)
    if cycle then out[#out + 1] = 'the rules have a cycle: ' .. cycle end
    local allowed, definers = {}, {}
    for area, list in pairs(rules) do allowed[area] = set(list) end
    for _, o in ipairs(objects) do
        o.area = M.area_of(o.path)
        if not o.area then
            out[#out + 1] = ('%s: not in an area folder (engine/shim, engine/src/AREA, engine/main)'):format(o.path)
        elseif not rules[o.area] then
            out[#out + 1] = ('%s: area %q has no rule in tools/layers/c_layers.lua'):format(o.path, o.area)
        end
        for _, s in ipairs(o.defined) do
            definers[s] = definers[s] or {}
            table.insert(definers[s], o)
        end
    end
    for _, o in ipairs(objects) do
        local a = o.area
        local ok = a and allowed[a]
        if ok then
            for _, s in ipairs(o.undefined) do
                local defs = definers[s]
                if defs then
                    local fine = ok['*']
                    for _, d in ipairs(defs) do
                        if d.area == a or ok[d.area] then fine = true end
                    end
                    if not fine then
                        out[#out + 1] = ('%s (%s) calls %s from %s (%s): %s may not call %s'):format(
                            o.path, a, s, defs[1].path, defs[1].area or '?', a, defs[1].area or '?')
                    end
                else
                    local f = foreign_rule(a, s, foreign)
                    if f then
                        out[#out + 1] = ('%s (%s) uses %s: %s'):format(o.path, a, s, f.why)
                    end
                end
            end
        end
    end
    table.sort(out)
    return out
end

-- The symbols of object files, from one `nm -A -g` run.
function M.read_objects(paths)
    local objects, by_path = {}, {}
    for _, p in ipairs(paths) do
        by_path[p] = {path = p, defined = {}, undefined = {}}
        objects[#objects + 1] = by_path[p]
    end
    local quoted = {}
    for i, p in ipairs(paths) do quoted[i] = "'" .. p:gsub("'", "'\\''") .. "'" end
    local nm = assert(io.popen('nm -A -g ' .. table.concat(quoted, ' ') .. ' 2>&1'))
    for line in nm:lines() do
        local path, rest = line:match('^(.-%.o):(.*)$')
        local o = path and by_path[path]
        if not o then error('unexpected nm output: ' .. line) end
        -- "VALUE T name" is defined here; no value (U, w, v) is not
        local value, sym = rest:match('^%s*(%x*)%s+%a%s+(%S+)$')
        if value == '' then
            o.undefined[#o.undefined + 1] = sym
        elseif value then
            o.defined[#o.defined + 1] = sym
        end
    end
    assert(nm:close(), 'nm failed')
    return objects
end

function M.main(paths)
    if #paths == 0 then
        io.stderr:write('usage: luajit tools/layers/c_layers.lua OBJECT.o...\n')
        return 2
    end
    local bad = M.check(M.read_objects(paths))
    for _, line in ipairs(bad) do io.stdout:write('not ok - layers: ', line, '\n') end
    if #bad > 0 then
        io.stdout:write(('%d call(s) go up or across the engine layers (rules in tools/layers/c_layers.lua)\n')
            :format(#bad))
        return 1
    end
    io.stdout:write(('ok - layers: %d engine objects call only down (tools/layers/c_layers.lua)\n'):format(#paths))
    return 0
end

if arg and arg[0] and arg[0]:match('c_layers%.lua$') then
    os.exit(M.main({...}))
end
return M
