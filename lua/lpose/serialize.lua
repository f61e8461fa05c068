-- lpose.serialize: named tensors saved to and loaded from lpose tensor
-- files (.lpt, our own format: see engine/include/lpose.h). Saving is
-- atomic: a crash never leaves a half-written file under the final name.
--
--   lpose.save('w.lpt', {weight = w, bias = b}, {epoch = 3})
--   local tensors, meta = lpose.load('w.lpt')
local ffi = require('ffi')
local lp = require('lpose.C')
local tensor = require('lpose.tensor')
local box = require('lpose.box')

local C, check, argerror = lp.lib, lp.check, lp.argerror

local M = {}

local List = {}
local ListBox, list_handle = box.define({
    handle = 'lp_tensor_list', free = C.lp_tensor_list_free, what = 'tensor list',
    name = 'lpose.serialize tensor list', module = 'lpose.serialize', methods = List,
})
local out1 = ffi.new('lp_tensor*[1]')

function List:size() return C.lp_tensor_list_size(M.list_handle(self)) end

--- list:totable() -> {name = Tensor}, {names in order}
function List:totable()
    local h = M.list_handle(self)
    local map, names = {}, {}
    for i = 0, C.lp_tensor_list_size(h) - 1 do
        local name = ffi.string(C.lp_tensor_list_name(h, i))
        check(C.lp_tensor_list_get(h, i, out1))
        map[name] = tensor.wrap(out1[0])
        names[#names + 1] = name
    end
    return map, names
end

function List:meta() return ffi.string(C.lp_tensor_list_meta(M.list_handle(self))) end

function M.wrap_list(h) return ListBox(h) end

function M.list_handle(list)
    if not ffi.istype(ListBox, list) then argerror('serialize', 'expected a tensor list') end
    return list_handle(list, 'serialize')
end

--- serialize.list(tensors [, names] [, meta]) -> list (names default to sorted keys)
function M.list(tensors, names, meta)
    local out = ffi.new('lp_tensor_list*[1]')
    check(C.lp_tensor_list_init(out))
    local list = ListBox(out[0])
    if names == nil then
        names = {}
        for k in pairs(tensors) do names[#names + 1] = k end
        table.sort(names)
    end
    for _, name in ipairs(names) do
        check(C.lp_tensor_list_push(list.h, name, tensor.handle(tensors[name], 'lpose.save')))
    end
    if meta then check(C.lp_tensor_list_set_meta(list.h, meta)) end
    return list
end

--- lpose.save(path, {name = tensor, ...} [, meta]): meta is a string or a table (JSON)
function M.save(path, tensors, meta)
    if type(path) ~= 'string' then argerror('lpose.save', 'expected a path') end
    if type(tensors) ~= 'table' then argerror('lpose.save', 'expected a table of tensors') end
    if type(meta) == 'table' then meta = require('cjson').encode(meta) end
    local list = M.list(tensors, nil, meta)
    local status = C.lp_tensor_list_save(list.h, path)
    list:free()
    if status ~= 0 then return nil, lp.last_error() end
    return true
end

--- lpose.load(path) -> {name = tensor}, meta_string, names | nil, err
function M.load(path)
    local out = ffi.new('lp_tensor_list*[1]')
    if C.lp_tensor_list_load(path, out) ~= 0 then return nil, lp.last_error() end
    local list = ListBox(out[0])
    local map, names = list:totable()
    local meta = list:meta()
    list:free()
    return map, meta, names
end

return M
