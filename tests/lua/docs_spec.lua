-- Every CLI command and every public Lua function has a docs entry
-- (docs/design/house-style.md §4, §6; Lightning Pose's TestCliReferenceDocs).
--
--   build/lpose run /usr/bin/busted --no-auto-insulate -o TAP tests/lua/docs_spec.lua
--
-- Paths are relative to the repository root (busted runs from there).
--
-- What counts as "documented": the reference page of the module mentions the
-- function as a call, i.e. the text `name(` with no identifier character
-- right before it, so `t:view(`, `lpose.tensor.zeros(`, `### optim.SGD(` and a
-- bare `zeros(` all count, while `gsub(` does not document `sub`.
--
-- Nothing is skipped silently. The only exclusion is the naming convention
-- for deliberately internal functions: names starting with '_' (e.g.
-- tensor._pair, Tensor:__tostring_impl) are private by house style and need
-- no entry. A module that fails to load is reported as pending with the
-- reason, and a module that loads without a reference page fails.

local function slurp(path)
    local f = io.open(path, 'r')
    if not f then return nil end
    local s = f:read('*a')
    f:close()
    return s
end

local function is_internal(name)
    return name:sub(1, 1) == '_'
end

-- The public function names of a table, sorted.
local function public_functions(t)
    local names = {}
    for k, v in pairs(t) do
        if type(k) == 'string' and type(v) == 'function' and not is_internal(k) then
            names[#names + 1] = k
        end
    end
    table.sort(names)
    return names
end

local function escape(s)
    return (s:gsub('[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0'))
end

-- Is `name` mentioned as a call in `text`?
local function mentions(text, name)
    return text:find('%f[%w_]' .. escape(name) .. '%(') ~= nil
end

local function missing_in(text, names)
    local missing = {}
    for _, name in ipairs(names) do
        if not mentions(text, name) then missing[#missing + 1] = name end
    end
    return missing
end

describe('docs', function()
    describe('CLI reference', function()
        local cli = require('lpose.cli')

        it('lpose.cli.commands is a non-empty table', function()
            assert.is_table(cli.commands)
            assert.is_not_nil(next(cli.commands))
        end)

        local names = {}
        for name in pairs(cli.commands) do names[#names + 1] = name end
        table.sort(names)
        for _, name in ipairs(names) do
            it('command ' .. name .. ' has docs/reference/cli/' .. name .. '.md', function()
                local path = 'docs/reference/cli/' .. name .. '.md'
                local text = slurp(path)
                assert(text, path .. ' is missing (every command in lua/lpose/cli/init.lua needs one)')
                assert(text:find('%S'), path .. ' is empty')
            end)
        end
    end)

    describe('Lua reference', function()
        local modules = {
            'tensor', 'optim', 'serialize', 'config', 'losses', 'models', 'video',
            'data', 'predict', 'dataset', 'synth', 'train', 'dist', 'help', 'box', 'plot',
            'eks', 'files', 'frames',
        }
        modules[#modules + 1] = 'diagnostics'
        for _, X in ipairs(modules) do
            local path = 'docs/reference/lua/' .. X .. '.md'
            local ok, mod = pcall(require, 'lpose.' .. X)
            if not ok then
                pending('lpose.' .. X .. ' does not load, not checked: '
                    .. tostring(mod):match('^[^\n]*'))
            elseif type(mod) ~= 'table' then
                it('lpose.' .. X .. ' returns a table', function()
                    error('require("lpose.' .. X .. '") returned a ' .. type(mod))
                end)
            else
                it('every public function of lpose.' .. X .. ' is in ' .. path, function()
                    local text = slurp(path)
                    assert(text, path .. ' is missing (lpose.' .. X .. ' has public functions: '
                        .. table.concat(public_functions(mod), ', ') .. ')')
                    local missing = missing_in(text, public_functions(mod))
                    assert(#missing == 0, path .. ' does not mention: '
                        .. table.concat(missing, ', '))
                end)
            end
        end

        it('every Tensor method is in docs/reference/lua/tensor.md', function()
            local Tensor = require('lpose.tensor').Tensor
            local text = slurp('docs/reference/lua/tensor.md')
            assert(text, 'docs/reference/lua/tensor.md is missing')
            local missing = missing_in(text, public_functions(Tensor))
            assert(#missing == 0, 'docs/reference/lua/tensor.md does not mention Tensor:'
                .. table.concat(missing, ', Tensor:'))
        end)
    end)

    describe('Lua reference index', function()
        local index = slurp('docs/reference/lua/index.md')

        it('docs/reference/lua/index.md exists', function()
            assert(index, 'docs/reference/lua/index.md is missing')
        end)

        it('every link of the index points at an existing file', function()
            assert(index)
            for target in index:gmatch('%]%(([^)#]+)[^)]*%)') do
                if not target:match('^%a+://') then
                    local f = io.open('docs/reference/lua/' .. target, 'r')
                    assert(f, 'docs/reference/lua/index.md links to a missing file: ' .. target)
                    f:close()
                end
            end
        end)

        it('every docs/reference/lua/*.md page is linked from the index', function()
            assert(index)
            local p = io.popen('ls docs/reference/lua')
            local unlisted = {}
            for name in p:lines() do
                if name:match('%.md$') and name ~= 'index.md'
                    and not index:find('](' .. name, 1, true) then
                    unlisted[#unlisted + 1] = name
                end
            end
            p:close()
            assert(#unlisted == 0, 'not linked from docs/reference/lua/index.md: '
                .. table.concat(unlisted, ', '))
        end)
    end)
end)
