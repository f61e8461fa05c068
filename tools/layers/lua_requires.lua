-- tools/layers/lua_requires.lua: the Lua side of lpose's layer check: reads
-- every require in lua/, experiments/ and bench/ and fails when a file
-- reaches up or across.
--
--   luajit tools/layers/lua_requires.lua [ROOT]     (make check-lua-layers)
--
-- The layers, bottom to top: the lpose executable (its preloaded C modules
-- lpose.cli.host and lpose.lineedit), the library (lua/lpose/ outside cli/;
-- only it binds C through the FFI), then the CLI (lua/lpose/cli/) and the
-- scripts (experiments/, bench/) side by side. The rules:
--   1. the library does not require lpose.cli.* (lpose.cli.host excepted:
--      the executable's own module, a layer below);
--   2. the CLI does not use the FFI: no require of ffi, lpose.C or
--      lpose.cdef, no lpose.C field; it calls library functions;
--   3. only lpose.C requires lpose.cdef (the generated declarations);
--   4. experiments and bench use the library, not lpose.cli.*
--      (lpose.cli.host excepted, as in rule 1);
--   5. nothing outside experiments/ (bench/) requires or loads a file of it
--      (they are entry points; bench/timing.lua serves only bench/);
--   6. every required lpose.* module exists (a move leaves no stale name).
-- Exit status 1 with one line per violation. Also a module: check(files)
-- with files = {{path = 'lua/lpose/x.lua', text = '...'}, ...} returns the
-- list of violations (tests/lua/layers_spec.lua feeds it fake files).
local M = {}

-- Modules the executable provides itself (engine/main), not files under lua/.
M.preloaded = { ['lpose.cli.host'] = true, ['lpose.lineedit'] = true }

-- The text without comments and long strings, so that help texts and
-- comments that quote a require are not read as code.
local function code_of(text)
    local function blank(s) return (s:gsub('[^\n]', '')) end -- keep the line numbers
    text = text:gsub('(%-%-%[(=*)%[.-%]%2%])', blank)
    text = text:gsub('(%[(=*)%[.-%]%2%])', function(s) return '""' .. blank(s) end)
    local out = {}
    for line in (text .. '\n'):gmatch('(.-)\n') do
        -- a '--' that starts a comment: outside quotes (quotes counted before it)
        local cut = #line + 1
        local pos = 1
        while true do
            local s = line:find('--', pos, true)
            if not s then break end
            local before = line:sub(1, s - 1)
            local _, sq = before:gsub("'", '')
            local _, dq = before:gsub('"', '')
            if sq % 2 == 0 and dq % 2 == 0 then cut = s break end
            pos = s + 2
        end
        out[#out + 1] = line:sub(1, cut - 1)
    end
    return table.concat(out, '\n')
end
M.code_of = code_of

-- The modules a chunk of code requires: {{name=, line=}, ...}
local function requires_of(code)
    local found, n = {}, 0
    for line in (code .. '\n'):gmatch('(.-)\n') do
        n = n + 1
        for name in line:gmatch('require%s*%(?%s*[\'"]([^\'"]+)[\'"]') do
            found[#found + 1] = { name = name, line = n }
        end
        for name in line:gmatch('pcall%s*%(%s*require%s*,%s*[\'"]([^\'"]+)[\'"]') do
            found[#found + 1] = { name = name, line = n }
        end
        for _, fn in ipairs({ 'dofile', 'loadfile' }) do
            for path in line:gmatch(fn .. '%s*%(%s*[\'"]([^\'"]+)[\'"]') do
                found[#found + 1] = { name = path, line = n, file = true }
            end
        end
    end
    return found
end

-- lua/lpose/a/b.lua -> lpose.a.b; lua/lpose/a/init.lua -> lpose.a
local function module_name(path)
    local rel = path:match('^lua/(.+)%.lua$')
    if not rel then return nil end
    return (rel:gsub('/init$', ''):gsub('/', '.'))
end
M.module_name = module_name

local function layer_of(path)
    if path:match('^lua/lpose/cli/') then return 'cli' end
    if path:match('^lua/') then return 'library' end
    if path:match('^experiments/') or path:match('^bench/') then return 'scripts' end
    return nil
end

--- check(files) -> {'path:line: message', ...}
function M.check(files)
    local modules = {}
    for name in pairs(M.preloaded) do modules[name] = true end
    for _, f in ipairs(files) do
        local name = module_name(f.path)
        if name then modules[name] = true end
    end
    local bad = {}
    local function report(f, line, msg) bad[#bad + 1] = ('%s:%d: %s'):format(f.path, line, msg) end
    for _, f in ipairs(files) do
        local layer = layer_of(f.path)
        local code = code_of(f.text)
        for _, r in ipairs(requires_of(code)) do
            local name = r.name
            local script_dir = name:match('^(experiments)[%./]') or name:match('^(bench)[%./]')
                or (r.file and (name:match('/(experiments)/') or name:match('/(bench)/')))
            if script_dir and not f.path:match('^' .. script_dir .. '/') then
                report(f, r.line, ("%s '%s': only %s/ itself uses its helpers"):format(
                    r.file and 'loads' or 'requires', name, script_dir))
            elseif not r.file then -- (a dofile of another path is no module: nothing more to check)
                local cli = name:match('^lpose%.cli%.') or name == 'lpose.cli'
                if cli and not M.preloaded[name] and layer == 'library' then
                    report(f, r.line, ("requires '%s': the library does not require the CLI"):format(name))
                elseif cli and not M.preloaded[name] and layer == 'scripts' then
                    report(f, r.line,
                        ("requires '%s': experiments and bench use the library, not the CLI"):format(name))
                end
                if layer == 'cli' and (name == 'ffi' or name == 'lpose.C' or name == 'lpose.cdef') then
                    report(f, r.line, ("requires '%s': the CLI calls library functions, not C"):format(name))
                end
                if name == 'lpose.cdef' and f.path ~= 'lua/lpose/C.lua' and layer ~= 'cli' then
                    report(f, r.line, "requires 'lpose.cdef': only lpose.C loads the C declarations")
                end
                if name:match('^lpose%.') and not modules[name] and layer then
                    report(f, r.line, ("requires '%s': no such module under lua/"):format(name))
                end
            end
        end
        if layer == 'cli' then
            local n = 0
            for line in (code .. '\n'):gmatch('(.-)\n') do
                n = n + 1
                -- lpose.C as a field (lpose.C.lp_x, require('lpose').C), not the require's string
                if (' ' .. line):find('[^\'"%w_%.]lpose%.C%f[^%w_]')
                    or line:find("require%s*%(?%s*['\"]lpose['\"]%s*%)%s*%.C%f[^%w_]") then
                    report(f, n, 'uses lpose.C: the CLI calls library functions, not C')
                end
            end
        end
    end
    return bad
end

local function read(path)
    local fh = assert(io.open(path, 'rb'))
    local s = fh:read('*a')
    fh:close()
    return s
end

--- files_under(root) -> the .lua files of lua/, experiments/ and bench/, sorted
function M.files_under(root)
    local files = {}
    local p = assert(io.popen(("cd '%s' && find lua experiments bench -name '*.lua' 2>/dev/null | sort")
        :format(root:gsub("'", "'\\''"))))
    for path in p:lines() do files[#files + 1] = { path = path, text = read(root .. '/' .. path) } end
    p:close()
    return files
end

-- Run as a script (a spec's dofile only gets the module).
if arg and arg[0] and arg[0]:match('lua_requires%.lua$') then
    local root = arg[1] or '.'
    local files = M.files_under(root)
    local bad = M.check(files)
    for _, line in ipairs(bad) do io.stderr:write(line, '\n') end
    if #bad > 0 then
        io.stderr:write(('check-lua-layers: %d violation%s (tools/layers/lua_requires.lua says which rules)\n')
            :format(#bad, #bad == 1 and '' or 's'))
        os.exit(1)
    end
    print(('check-lua-layers: %d files, no require reaches up'):format(#files))
end

return M
