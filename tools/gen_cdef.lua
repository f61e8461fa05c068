-- Turn engine/include/lpose.h into lua/lpose/cdef.lua for ffi.cdef (run by
-- `make cdef`; `make check-cdef` compares). Drops preprocessor lines, the
-- extern "C" braces and comments, keeps declarations verbatim.
local path = assert(arg[1], "usage: luajit tools/gen_cdef.lua engine/include/lpose.h")
local dir = path:match("^(.*)/[^/]*$") or "."

-- Read a header with its quoted includes ("lpose/video.h") inlined, so the
-- public API can be split into one section header per area.
local function read_header(file)
    local f = assert(io.open(file, "rb"))
    local text = f:read("*a")
    f:close()
    return (text:gsub('\n%s*#%s*include%s*"([^"]+)"', function(name)
        return "\n" .. read_header(dir .. "/" .. name)
    end))
end
local src = read_header(path)

src = src:gsub("/%*.-%*/", "")          -- block comments
local out = {}
local skip_depth = 0
for line in (src .. "\n"):gmatch("(.-)\r?\n") do
    local directive = line:match("^%s*#%s*(%a+)")
    if directive then
        -- #ifdef __cplusplus ... #endif blocks hold only the extern "C" braces
        if directive == "ifdef" and line:find("__cplusplus") then skip_depth = skip_depth + 1
        elseif directive == "endif" and skip_depth > 0 then skip_depth = skip_depth - 1 end
    elseif skip_depth == 0 then
        line = line:gsub("%s*//.*$", ""):gsub("%s+$", "")
        if line ~= "" then out[#out + 1] = line end
    end
end

io.write("-- Generated from engine/include/lpose.h by tools/gen_cdef.lua: do not edit.\n")
io.write("-- Run `make cdef` after changing the header.\n")
io.write("return [[\n", table.concat(out, "\n"), "\n]]\n")
