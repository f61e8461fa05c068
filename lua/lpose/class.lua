-- lpose.class: a small torch.class. `local Foo = class('lpose.Foo', Parent)`;
-- `Foo(...)` makes an instance and calls Foo.__init(self, ...);
-- class.type(obj) returns the class name.
local M = {}

local registry = setmetatable({}, { __mode = 'k' })

local function new_class(name, parent)
    local cls = {}
    cls.__index = cls
    cls.__name = name
    cls.__parent = parent
    registry[cls] = name
    return setmetatable(cls, {
        __index = parent,
        __call = function(c, ...)
            local obj = setmetatable({}, c)
            if c.__init then c.__init(obj, ...) end
            return obj
        end,
        __tostring = function() return 'class ' .. name end,
    })
end

--- class.type(obj) -> the class name, or Lua's type for other values
function M.type(obj)
    local mt = getmetatable(obj)
    if type(obj) == 'table' and mt and registry[mt] then return registry[mt] end
    return type(obj)
end

--- class.is_a(obj, cls): obj's class is cls or inherits from it
function M.is_a(obj, cls)
    local c = getmetatable(obj)
    while c do
        if c == cls then return true end
        c = rawget(c, '__parent')
    end
    return false
end

return setmetatable(M, { __call = function(_, name, parent) return new_class(name, parent) end })
