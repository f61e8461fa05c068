-- lpose.nn: network building blocks. Functional ops live in
-- lpose.nn.functional (also lpose.F); models are in lpose.models.
local M = {}

M.functional = require('lpose.nn.functional')

return M
