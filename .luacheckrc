-- luacheck settings: no globals (modules return tables), LuaJIT's std.
std = 'luajit'
max_line_length = 120
unused_args = false
files['tests/lua'] = { std = '+busted' }
files['experiments'] = { globals = { 'arg' } }
files['bench'] = { globals = { 'arg' } }
exclude_files = { 'lua/lpose/cdef.lua' }
