-- lpose.C: the engine's C API through the LuaJIT FFI, and the one place
-- where a status from C becomes a Lua error (docs/design/errors.md §5).
--
-- Inside the `lpose` executable the lp_* symbols are already in the
-- process (ffi.C); from plain `luajit` liblpose.so is loaded instead
-- (M.library_candidates: $LPOSE_LIB, the source tree's build/, the install
-- prefix's lib/, package.cpath, the system path).
local ffi = require('ffi')

local M = {}

ffi.cdef(require('lpose.cdef'))

-- Where this file is: <dir>/C.lua, with <dir> = .../lpose.
local this_dir = debug.getinfo(1, 'S').source:match('^@(.*)/C%.lua$')

-- The paths liblpose.so may be at, each with the reason it is tried, in
-- order: $LPOSE_LIB; the build/ folder of the source tree this file is in;
-- the lib/ folder of the prefix this file was installed under
-- (<prefix>/share/lua/5.1/lpose/C.lua -> <prefix>/lib, as `make install`
-- lays it out); package.cpath (LuaRocks deploys the library beside C
-- modules); last the system's search path (ffi.load('lpose')).
function M.library_candidates()
    local list = {}
    local env = os.getenv('LPOSE_LIB')
    if env and env ~= '' then list[#list + 1] = { env, '$LPOSE_LIB' } end
    if this_dir then
        local repo = this_dir == 'lua/lpose' and '.' or this_dir:match('^(.*)/lua/lpose$')
        if repo then list[#list + 1] = { repo .. '/build/liblpose.so', 'the source tree' } end
        local prefix = this_dir:match('^(.*)/share/lua/[^/]+/lpose$')
        if prefix then list[#list + 1] = { prefix .. '/lib/liblpose.so', 'the install prefix' } end
    end
    local found = package.searchpath and package.searchpath('liblpose', package.cpath)
    if found then list[#list + 1] = { found, 'package.cpath' } end
    list[#list + 1] = { 'lpose', 'the system library path' }
    return list
end

local function find_library()
    if pcall(function() return ffi.C.lp_version end) then return ffi.C end
    local tried, seen = {}, {}
    if (os.getenv('LPOSE_LIB') or '') == '' then tried[1] = '  $LPOSE_LIB: not set' end
    for _, c in ipairs(M.library_candidates()) do
        local name, why = c[1], c[2]
        if not seen[name] then
            seen[name] = true
            local ok, lib = pcall(ffi.load, name)
            if ok then
                M.library_path = name
                return lib
            end
            tried[#tried + 1] = ('  %s (%s): %s'):format(name, why, tostring(lib))
        end
    end
    error('lpose: cannot load liblpose.so; tried:\n' .. table.concat(tried, '\n')
        .. '\nset LPOSE_LIB to the path of liblpose.so (make builds build/liblpose.so, '
        .. 'make install puts it in PREFIX/lib)', 0)
end

M.lib = find_library()
local C = M.lib

-- The stack level of the first caller outside lpose's own Lua modules, so
-- an error points at the user's line however deep inside lpose it began.
function M.user_level()
    local level = 3
    while true do
        local info = debug.getinfo(level, 'S')
        if not info then return 0 end
        local src = info.source
        if not (src:find('lua/lpose/', 1, true) or (this_dir and src:sub(2, #this_dir + 2) == this_dir .. '/')) then
            return level - 1
        end
        level = level + 1
    end
end

-- Raise the engine's message when `status` is not LP_STATUS_OK.
function M.check(status)
    if status ~= 0 then
        error(ffi.string(C.lp_last_error()), M.user_level())
    end
end

-- Raise an argument error that names the Lua function (`fname`).
function M.argerror(fname, message)
    error(fname .. ': ' .. message, M.user_level())
end

-- Argument checks with one wording for every module: "<fname>: <what> must be
-- a <type>, got <type>" and "... must be an integer >= <min>, got <x>".
function M.check_type(fname, what, x, ty)
    if type(x) ~= ty then M.argerror(fname, ('%s must be a %s, got %s'):format(what, ty, type(x))) end
end

function M.check_int(fname, what, x, min)
    if type(x) ~= 'number' or x % 1 ~= 0 or x < min then
        M.argerror(fname, ('%s must be an integer >= %d, got %s'):format(what, min, tostring(x)))
    end
end

-- The message of the last failure, for APIs that return nil, err.
function M.last_error()
    return ffi.string(C.lp_last_error())
end

return setmetatable(M, { __index = C })
