-- lpose.files: the few file-system helpers lpose needs (training, prediction,
-- the synthetic data, the report and the CLI share them), with atomic writes
-- (temp file + rename) for everything a user may rely on, and the one
-- `mkdir -p` (docs/reference/lua/files.md).
local cjson = require('cjson')
local ffi = require('ffi')

pcall(ffi.cdef, 'int mkdir(const char *path, unsigned int mode); char *strerror(int errnum);')
local EEXIST = 17 -- Linux

local M = {}

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- files.join(dir, name): name itself when it is absolute
function M.join(dir, name)
    if name:sub(1, 1) == '/' or dir == nil or dir == '' then return name end
    return (dir:gsub('/+$', '')) .. '/' .. name
end

function M.basename(path) return path:match('([^/]+)/*$') or path end

function M.exists(path)
    local f = io.open(path, 'rb')
    if f then f:close() return true end
    return false
end

--- files.is_dir(path): true for an existing directory (no shell started)
function M.is_dir(path)
    return type(path) == 'string' and path ~= '' and M.exists(path .. '/.')
end

--- files.list(dir, pattern) -> sorted paths dir/name of the entries whose lower-cased
-- name matches the Lua pattern ({} for a missing folder)
function M.list(dir, pattern)
    dir = dir:gsub('(.)/+$', '%1')
    local out = {}
    local p = io.popen('ls -1 ' .. shell_quote(dir) .. ' 2>/dev/null')
    if not p then return out end
    for name in p:lines() do
        if name:lower():match(pattern) then out[#out + 1] = dir .. '/' .. name end
    end
    p:close()
    table.sort(out)
    return out
end

--- files.try_mkdir_p(dir) -> true | nil, err: creates dir and its parents (mkdir -p)
-- Each missing directory by mkdir(2), not a `mkdir -p` shell: forking a process that holds
-- libtorch took about 4 ms, once per predicted video.
function M.try_mkdir_p(dir)
    if M.is_dir(dir) then return true end
    if type(dir) ~= 'string' or dir == '' then return nil, ("cannot create directory '%s'"):format(tostring(dir)) end
    local path = dir:sub(1, 1) == '/' and '/' or ''
    for part in dir:gmatch('[^/]+') do
        path = path .. part
        if not M.is_dir(path) and ffi.C.mkdir(path, 511) ~= 0 then -- 511 = 0777, less the umask
            local errno = ffi.errno()
            if not M.is_dir(path) then -- (another process may have made it meanwhile)
                local why = errno == EEXIST and ("'%s' exists and is not a directory"):format(path)
                    or ffi.string(ffi.C.strerror(errno))
                return nil, ("cannot create directory '%s': %s"):format(dir, why)
            end
        end
        path = path .. '/'
    end
    return true
end

--- files.mkdir_p(dir): try_mkdir_p that raises with the path when it cannot be created
function M.mkdir_p(dir)
    local ok, err = M.try_mkdir_p(dir)
    if not ok then error(err, 0) end
end

--- files.write_atomic(path, text): PATH.tmp-<random>, then rename
function M.write_atomic(path, text)
    local tmp = ('%s.tmp-%d'):format(path, math.random(1, 2 ^ 30))
    local f, err = io.open(tmp, 'wb')
    if not f then error(("cannot write '%s': %s"):format(path, err), 0) end
    local ok, werr = f:write(text)
    f:close()
    if not ok then os.remove(tmp) error(("cannot write '%s': %s"):format(path, werr), 0) end
    local renamed, rerr = os.rename(tmp, path)
    if not renamed then os.remove(tmp) error(("cannot write '%s': %s"):format(path, rerr), 0) end
end

function M.write_json(path, value) M.write_atomic(path, cjson.encode(value) .. '\n') end

--- files.copy(src, dst): atomic copy of a small file (label CSVs)
function M.copy(src, dst)
    local f, err = io.open(src, 'rb')
    if not f then error(("cannot read '%s': %s"):format(src, err), 0) end
    local text = f:read('*a')
    f:close()
    M.write_atomic(dst, text)
end

return M
