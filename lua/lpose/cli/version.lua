-- lpose.cli.version: `lpose version`, also `lpose --version` and `-v`.
-- Only cheap sources: no tensor is created and no module of lpose loaded.
local M = {}

M.help = [[
Print the versions of lpose, LuaJIT and libtorch.

usage: lpose version     (same as lpose --version, lpose -v)

The first line is "lpose <version>". libtorch's version is read from the
library the process has loaded (Debian's soname, or the build-version file
of a libtorch distribution); it is omitted when it cannot be found.]]

-- The path of the loaded libtorch_cpu, from /proc/self/maps.
local function libtorch_path()
    local f = io.open('/proc/self/maps')
    if not f then return nil end
    local maps = f:read('*a')
    f:close()
    return maps:match('(/%S*/libtorch_cpu%.so[%.%d]*)')
end

local function libtorch_version()
    local path = libtorch_path()
    if not path then return nil end
    local soversion = path:match('%.so%.([%d%.]+)$')
    if soversion then return soversion end
    local f = io.open((path:gsub('/lib/[^/]*$', '/build-version')))
    if not f then return nil end
    local v = f:read('*l')
    f:close()
    return v
end

function M.lines()
    local ok, host = pcall(require, 'lpose.cli.host')
    local lines = { 'lpose ' .. (ok and host.version or 'unknown (not running in the lpose executable)') }
    local jit = rawget(_G, 'jit')
    if jit then lines[#lines + 1] = jit.version end
    if ok and host.engine_version ~= host.version then
        lines[#lines + 1] = 'liblpose ' .. host.engine_version .. ' (differs from the executable)'
    end
    local torch = libtorch_version()
    if torch then lines[#lines + 1] = 'libtorch ' .. torch end
    return lines
end

function M.command(args)
    print(table.concat(M.lines(), '\n'))
    return true
end

return M
