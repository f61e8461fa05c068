-- lpose.config: Lightning Pose configs (docs/design/house-style.md §3, docs/spec/lp-data-train.md §4.9-4.12).
-- load() merges lpose's documented default (configs/config_default.yaml) <-
-- the user's file (LP YAML or a .lua file returning the same table) <-
-- Hydra-style overrides, resolves ${...}, and validates every key against
-- the schema. Pure Lua (lua-yaml for parsing): no FFI, usable from luajit.
local tree = require('lpose.config.tree')
local yaml = require('lpose.config.yaml')
local schema = require('lpose.config.schema')
local types = require('lpose.config.types')
local validate = require('lpose.config.validate')
local interpolate = require('lpose.config.interpolate')
local overrides = require('lpose.config.overrides')

local M = {}

--- lpose.config.null: the value to write for YAML null in Lua configs and set().
M.null = tree.NULL

local function repo_root()
    local src = debug.getinfo(1, 'S').source:gsub('^@', '')
    return src:match('^(.*)/lua/lpose/config%.lua$') or '.'
end

--- lpose.config.bundled_file(name) -> path of configs/<name>: the source
-- tree's, else the copy `make install` puts beside the modules
-- (<luadir>/lpose/configs/)
function M.bundled_file(name)
    local in_tree = repo_root() .. '/configs/' .. name
    local f = io.open(in_tree, 'rb')
    if f then f:close() return in_tree end
    local src = debug.getinfo(1, 'S').source:gsub('^@', '')
    return (src:match('^(.*)/config%.lua$') or '.') .. '/configs/' .. name
end

--- lpose.config.default_file(): path of configs/config_default.yaml
-- ($LPOSE_CONFIG_DEFAULT, else config.bundled_file)
function M.default_file()
    return os.getenv('LPOSE_CONFIG_DEFAULT') or M.bundled_file('config_default.yaml')
end

local function read(path)
    local f, err = io.open(path, 'rb')
    if not f then error('lpose.config: cannot read ' .. tostring(err), 0) end
    local s = f:read('*a')
    f:close()
    return s
end

-- Lua tables cannot tell {} from []: an empty table at a key the schema
-- types as a list (and not a map) becomes a list.
local function lists_from_schema(t, node)
    for k, v in pairs(t) do
        local child = node.children[k]
        if child and tree.is_map(v) then
            if schema.is_leaf(child) then
                local ty = child.entry[2]
                if next(v) == nil and ty:find('list<', 1, true) and not ty:find('map', 1, true) then
                    t[k] = tree.list()
                end
            else
                lists_from_schema(v, child)
            end
        end
    end
    return t
end

-- A config file in internal form, plus a key -> line map for messages.
local function read_file(path)
    if path:match('%.lua$') then
        local chunk, err = loadfile(path)
        if not chunk then error('lpose.config: ' .. err, 0) end
        local ok, t = pcall(chunk)
        if not ok then error('lpose.config: ' .. path .. ': ' .. tostring(t), 0) end
        if type(t) ~= 'table' then error('lpose.config: ' .. path .. ' must return a table', 0) end
        return lists_from_schema(tree.import(t), schema.root), {}
    end
    local t, lines = yaml.decode(read(path), path)
    if t == tree.NULL then t = {} end -- an empty file
    if not tree.is_map(t) then error('lpose.config: ' .. path .. ': top level must be a mapping', 0) end
    return t, lines
end

-- Every leaf path set in t (for provenance of user-set keys).
local function paths(t, prefix, out)
    for k, v in pairs(t) do
        local p = prefix == '' and tostring(k) or prefix .. '.' .. tostring(k)
        out[p] = true
        if tree.is_map(v) then paths(v, p, out) end
    end
    return out
end

-- LP renames the legacy data.keypoints to data.keypoint_names (model_config.py:63-66).
local function legacy(t)
    if tree.is_map(t.data) and t.data.keypoints ~= nil and t.data.keypoint_names == nil then
        t.data.keypoint_names, t.data.keypoints = t.data.keypoints, nil
    end
end

-- A step-mode user config has deleted the epoch keys (§4.3); lpose's default
-- must not put them back, or LP's no-mixing rule would reject it.
local STEP = { 'training.unfreezing_step', 'training.min_steps', 'training.max_steps',
    'training.lr_scheduler_params.multisteplr.milestone_steps' }
local EPOCH = { 'training.unfreezing_epoch', 'training.min_epochs', 'training.max_epochs',
    'training.lr_scheduler_params.multisteplr.milestones' }
local function drop_default_epoch_keys(cfg, user_set)
    local step = false
    for _, k in ipairs(STEP) do step = step or (user_set[k] and tree.get(cfg, k) ~= nil) end
    if not step then return end
    for _, k in ipairs(EPOCH) do
        if not user_set[k] and tree.get(cfg, k) ~= nil then tree.set(cfg, k, nil) end
    end
end

-- key=value strings of an argv table, before any '--' (as lpose.cli.run).
local function from_argv(argv)
    local out = {}
    for i = 1, #argv do
        local a = argv[i]
        if a == '--' then break end
        local keyish = type(a) == 'string' and a:match('^[+~]*[%a_][%w_%.%-]*=?') ~= nil
        if keyish and (a:find('=', 1, true) or a:sub(1, 1) == '~') then
            out[#out + 1] = a
        end
    end
    return out
end

-- Where each loaded config's keys came from, for messages (config.origin);
-- weak keys, so a config that is dropped is not kept alive.
local origins = setmetatable({}, { __mode = 'k' })

-- path as given when absolute, else relative to the folder of config_file
-- (the current directory without one)
local function resolve_path(path, config_file)
    if path:sub(1, 1) == '/' or not config_file then return path end
    local dir = config_file:match('^(.*)/[^/]*$')
    return dir and (dir .. '/' .. path) or path
end

-- model.loss_files: each Lua file registers its losses before the loss names
-- are checked; the paths become absolute (relative ones are relative to the
-- config file), so the saved config points at the same files.
local function load_loss_files(cfg, src, where)
    local list = tree.is_map(cfg.model) and cfg.model.loss_files
    if not tree.is_list(list) then return end
    local losses = require('lpose.losses')
    for i, path in ipairs(list) do
        if type(path) == 'string' then
            local full = resolve_path(path, src)
            local ok, err = losses.load_file(full)
            if not ok then
                error(('lpose.config: invalid config:\n  model.loss_files: %s%s'):format(err,
                    where('model.loss_files')), 0)
            end
            list[i] = full
        end
    end
end

-- default <- user (internal form, or nil) <- overrides, then resolve and check.
-- lines/src locate the user's keys for messages.
local function compose(user, opts, lines, src)
    local cfg = {}
    local dfile = opts.defaults
    if dfile == nil then dfile = M.default_file() end
    if dfile then cfg = read_file(dfile) end
    local user_set = {}
    if user then
        legacy(user)
        user_set = paths(user, '', {})
        tree.merge(cfg, user)
    end
    local list = {}
    for _, o in ipairs(opts.overrides or {}) do list[#list + 1] = o end
    for _, o in ipairs(opts.argv and from_argv(opts.argv) or {}) do list[#list + 1] = o end
    local from_override = {}
    for _, text in ipairs(list) do
        local o = overrides.parse(text)
        overrides.apply(cfg, o, user_set)
        from_override[o.key] = text
    end
    drop_default_epoch_keys(cfg, user_set)
    local function where(path)
        if from_override[path] then return (" (override '%s')"):format(from_override[path]) end
        local l = lines[path]
        return (l and src) and (' (%s:%d)'):format(src, l) or ''
    end
    -- Key names first, so a typo is reported as a typo even when a value
    -- is still a ${...}; then resolve, then check the resolved values.
    validate.check(tree.copy(cfg), where, true)
    interpolate.resolve(cfg, { lp_root = opts.lp_root, env = opts.env, now = opts.now })
    if tree.is_map(cfg.training) and cfg.training.num_gpus == 0 then
        io.stderr:write('lpose.config: training.num_gpus 0 is treated as 1 (as LP does)\n')
        cfg.training.num_gpus = 1
    end
    load_loss_files(cfg, src, where)
    validate.check(cfg, where)
    local out = tree.export(cfg)
    if opts.check_supported then M.check_supported(out) end
    origins[out] = function(path)
        if from_override[path] then return ("override '%s'"):format(from_override[path]) end
        if lines[path] and src then return ('%s:%d'):format(src, lines[path]) end
        if user_set[path] then return src end
        if dfile and tree.get(cfg, path) ~= nil then return 'default: ' .. dfile end
        return nil
    end
    return out
end

--- lpose.config.load{file=, overrides=, argv=, defaults=, lp_root=, env=, now=, check_supported=} -> cfg
-- file: a .yaml/.yml or .lua config (nil: the default alone). overrides: list
-- of Hydra-style strings; argv: an arg table whose key=value entries (before
-- --) are overrides too. defaults: base file (default configs/config_default.yaml;
-- false for none). lp_root: what ${LP_ROOT_PATH:} means (default $LP_ROOT_PATH,
-- else the lpose checkout). check_supported: also raise for LP features lpose
-- lacks. Raises a string error naming every bad key.
function M.load(opts)
    if type(opts) == 'string' then opts = { file = opts } end
    opts = opts or {}
    if opts.file == nil then return compose(nil, opts, {}) end
    local t, lines = read_file(opts.file)
    return compose(t, opts, lines, opts.file)
end

--- lpose.config.from_table(t, opts) -> cfg: validate a Lua table (sections as
-- in the YAML; lpose.config.null for null), merged over the default unless
-- opts.defaults == false. opts as load (overrides, lp_root, ...).
function M.from_table(t, opts)
    local user = tree.import(t)
    if not tree.is_map(user) then error('lpose.config.from_table: expected a table of sections', 2) end
    return compose(lists_from_schema(user, schema.root), opts or {}, {})
end

--- lpose.config.unsupported(cfg) -> {message, ...}: LP features lpose does not implement yet.
function M.unsupported(cfg) return validate.unsupported(tree.import(cfg)) end

--- lpose.config.check_supported(cfg) -> cfg: raises listing each unsupported feature.
function M.check_supported(cfg)
    local msgs = M.unsupported(cfg)
    if #msgs > 0 then
        error('lpose.config: not supported by lpose yet:\n  ' .. table.concat(msgs, '\n  '), 0)
    end
    return cfg
end

--- lpose.config.origin(cfg, 'a.b.c') -> 'FILE:LINE' | "override 'a.b.c=v'" | 'FILE' | 'default: FILE' | nil
-- Where the value of a key of a config returned by load/from_table came from:
-- the line of the user's file, the override that set it, the user's file (a
-- .lua config), or 'default: …/configs/config_default.yaml'. nil for a table
-- lpose did not load, or a key nobody set. For messages that name a key.
function M.origin(cfg, path)
    local f = origins[cfg]
    return f and f(path) or nil
end

--- lpose.config.get(cfg, 'a.b.c') -> value | nil (null and missing both give nil)
function M.get(cfg, path)
    local v = tree.get(cfg, path)
    if v == tree.NULL then return nil end
    return v
end

--- lpose.config.default('a.b.c') -> the value in configs/config_default.yaml
-- (nil for null or missing). The one source of lpose's defaults: code that
-- needs a default for a key the user's config may lack reads it here rather
-- than spelling the number again. The file is read once.
local default_cfg
function M.default(path)
    if default_cfg == nil then default_cfg = M.load({}) end
    return M.get(default_cfg, path)
end

--- lpose.config.get_or_default(cfg, 'a.b.c') -> cfg's value, else config.default's
-- (for code that also takes plain tables, such as a models.new config, which
-- may lack keys)
function M.get_or_default(cfg, path)
    local v = cfg and M.get(cfg, path)
    if v == nil then return M.default(path) end
    return v
end

--- lpose.config.keys(section) -> {key, ...}: in file order where known (a custom
-- training.imgaug mapping runs in this order), then the others sorted
function M.keys(t) return tree.keys(t) end

--- lpose.config.has(cfg, 'a.b') -> true when the key is present (null included)
function M.has(cfg, path)
    if tree.get(cfg, path) ~= nil then return true end
    return M.is_null(cfg, path)
end

--- lpose.config.is_null(cfg, 'a.b') -> true when the key is present with value null
function M.is_null(cfg, path)
    local parts = tree.split(path)
    local last = table.remove(parts)
    local parent = #parts == 0 and cfg or tree.get(cfg, parts)
    if type(parent) ~= 'table' then return false end
    if parent[last] == tree.NULL then return true end
    local nulls = tree.nulls_of(parent)
    return (nulls and nulls[last] and parent[last] == nil) or false
end

--- lpose.config.set(cfg, 'a.b.c', value): set a key (lpose.config.null for
-- null, nil to delete), checked against the schema's key names and types.
function M.set(cfg, path, value)
    local node = schema.node(path)
    if node == nil then
        -- allowed only under an open section (losses.<custom>, hydra)
        local parts, open = tree.split(path), false
        for i = #parts - 1, 1, -1 do
            local n = schema.node(table.concat(parts, '.', 1, i))
            if n then open = (n.entry and (n.entry.open or n.entry[2] == 'map')) and true or false break end
        end
        if not open then error(("lpose.config.set: unknown key '%s':%s"):format(path, validate.suggest(path)), 2) end
    elseif schema.is_leaf(node) and value ~= nil then
        local v = tree.import(value)
        if not types.check(node.entry[2], v) then
            error(('lpose.config.set: %s: expected %s, got %s (%s)'):format(path, types.describe(node.entry[2]),
                types.show(v), types.name(v)), 2)
        end
    end
    local parts = tree.split(path)
    local last = parts[#parts]
    local parent = #parts == 1 and cfg or tree.get(cfg, { unpack(parts, 1, #parts - 1) })
    if parent == nil then
        tree.set(cfg, { unpack(parts, 1, #parts - 1) }, {})
        parent = tree.get(cfg, { unpack(parts, 1, #parts - 1) })
    end
    local nulls = tree.nulls_of(parent)
    if value == tree.NULL then
        if not nulls then
            nulls = {}
            setmetatable(parent, { __lpose_nulls = nulls, __name = 'lpose.config.section' })
        end
        nulls[last] = true
        parent[last] = nil
    else
        if nulls then nulls[last] = nil end
        parent[last] = value ~= nil and tree.export(tree.import(value)) or nil
    end
    return cfg
end

-- Key order for writing: the schema's (LP's) order, then any others sorted.
local function order(path, t)
    local node = path == '' and schema.root or schema.node(path)
    local out, seen = {}, {}
    if node then
        for _, k in ipairs(node.order) do
            if t[k] ~= nil then out[#out + 1] = k seen[k] = true end
        end
    end
    for _, k in ipairs(tree.keys(t)) do
        if not seen[k] then out[#out + 1] = k end
    end
    return out
end

local function is_float(path)
    local n = schema.node(path) or schema.node((path:gsub('%.%d+$', '')))
    return n and n.entry and n.entry[2]:find('float', 1, true) ~= nil and not n.entry[2]:find('int', 1, true) or false
end

--- lpose.config.encode(cfg) -> YAML text, in LP's section order
function M.encode(cfg)
    return yaml.encode(interpolate.escape(tree.import(cfg)), { order = order, is_float = is_float })
end

--- lpose.config.save(cfg, path): write cfg as YAML atomically (temp file + rename)
function M.save(cfg, path)
    local text = '# written by lpose.config.save, ' .. os.date('!%Y-%m-%dT%H:%M:%SZ') .. '\n' .. M.encode(cfg)
    local tmp = ('%s.tmp.%d'):format(path, math.random(1, 1e9))
    local f, err = io.open(tmp, 'wb')
    if not f then error('lpose.config.save: ' .. tostring(err), 2) end
    local ok, werr = f:write(text)
    f:close()
    if not ok then
        os.remove(tmp)
        error('lpose.config.save: ' .. tostring(werr), 2)
    end
    local rok, rerr = os.rename(tmp, path)
    if not rok then
        os.remove(tmp)
        error('lpose.config.save: ' .. tostring(rerr), 2)
    end
    return path
end

--- lpose.config.model_dir(cfg, {base=, time=, create=}) -> 'BASE/outputs/YYYY-MM-DD/HH-MM-SS'
-- LP's layout (§4.12): hydra.run.dir when the config has one, with ${now:...}
-- expanded at `time` (default now, local time as Hydra); base defaults to '.'.
function M.model_dir(cfg, opts)
    opts = opts or {}
    local pattern = M.get(cfg or {}, 'hydra.run.dir') or 'outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}'
    local rel = interpolate.string(pattern, tree.import(cfg or {}), { now = opts.time })
    local dir = rel:sub(1, 1) == '/' and rel or ((opts.base or '.') .. '/' .. rel)
    if opts.create then
        if not require('lpose.files').try_mkdir_p(dir) then
            error('lpose.config.model_dir: cannot create ' .. dir, 2)
        end
    end
    return dir
end

M.schema = schema
return M
