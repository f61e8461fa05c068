-- lpose.diagnostics.base64: RFC 4648 base64, for images embedded in the
-- report page as data: URIs (the page must open offline, with no file beside it).
local bit = require('bit')

local M = {}

local ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local DIGIT = {}
for i = 1, 64 do DIGIT[i - 1] = ALPHABET:sub(i, i) end

--- base64.encode(bytes) -> text (padded with '=')
function M.encode(s)
    local out, n = {}, #s
    for i = 1, n - 2, 3 do
        local a, b, c = s:byte(i, i + 2)
        local v = a * 65536 + b * 256 + c
        out[#out + 1] = DIGIT[bit.rshift(v, 18)] .. DIGIT[bit.band(bit.rshift(v, 12), 63)]
            .. DIGIT[bit.band(bit.rshift(v, 6), 63)] .. DIGIT[bit.band(v, 63)]
    end
    local rest = n % 3
    if rest == 1 then
        local v = s:byte(n) * 65536
        out[#out + 1] = DIGIT[bit.rshift(v, 18)] .. DIGIT[bit.band(bit.rshift(v, 12), 63)] .. '=='
    elseif rest == 2 then
        local a, b = s:byte(n - 1, n)
        local v = a * 65536 + b * 256
        out[#out + 1] = DIGIT[bit.rshift(v, 18)] .. DIGIT[bit.band(bit.rshift(v, 12), 63)]
            .. DIGIT[bit.band(bit.rshift(v, 6), 63)] .. '='
    end
    return table.concat(out)
end

return M
