-- lpose.cli.help: `lpose help [COMMAND]`.
local M = {}

M.help = [[
Show help for lpose or for one command.

usage: lpose help [COMMAND]

Without COMMAND, print the usage, the options and the list of commands.]]

-- First line of a command's help: its one-line summary.
local function summary(mod)
    return (tostring(mod.help or ''):match('^[^\n]*'))
end

function M.text()
    local cli = require('lpose.cli')
    local names = {}
    for name in pairs(cli.commands) do names[#names + 1] = name end
    table.sort(names)
    local lines = { cli.usage, '', 'Commands:' }
    for _, name in ipairs(names) do
        local ok, mod = pcall(cli.load_command, name)
        local text = ok and mod and summary(mod) or '(cannot load: ' .. tostring(mod) .. ')'
        lines[#lines + 1] = string.format('  %-16s %s', name, text)
    end
    lines[#lines + 1] = ''
    lines[#lines + 1] = "Run 'lpose help COMMAND' for the details of one command."
    return table.concat(lines, '\n')
end

function M.command(args)
    local name = args[1]
    if name == nil then
        print(M.text())
        return true
    end
    local mod, err = require('lpose.cli').load_command(name)
    if not mod then return nil, err, 1 end
    print(mod.help)
    return true
end

return M
