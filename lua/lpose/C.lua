-- lpose.C: the engine's C API through the LuaJIT FFI, and the one place
-- where a status from C becomes a Lua error (docs/design.md §4.5).
--
-- Inside the `lpose` executable the lp_* symbols are already in the
-- process (ffi.C); from plain `luajit` the rockspec-installed liblpose.so
-- is loaded instead ($LPOSE_LIB overrides the path).
local ffi = require('ffi')

local M = {}

ffi.cdef(require('lpose.cdef'))

local function find_library()
    if pcall(function() return ffi.C.lp_version end) then return ffi.C end
    local candidates = { os.getenv('LPOSE_LIB'), 'lpose' }
    local here = debug.getinfo(1, 'S').source:match('^@(.*)/lua/lpose/C%.lua$')
    if here then table.insert(candidates, 2, here .. '/build/liblpose.so') end
    local errors = {}
    for _, name in ipairs(candidates) do
        local ok, lib = pcall(ffi.load, name)
        if ok then return lib end
        errors[#errors + 1] = tostring(lib)
    end
    error('lpose: cannot load liblpose: ' .. table.concat(errors, '; '), 0)
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
        if not info.source:find('lua/lpose/', 1, true) then
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

-- The message of the last failure, for APIs that return nil, err.
function M.last_error()
    return ffi.string(C.lp_last_error())
end

return setmetatable(M, { __index = C })
