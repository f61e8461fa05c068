-- lpose.cli.args: the option parser of the `lpose` subcommands, so that
-- each states only its options and every command reads and fails alike
-- (`lpose run` passes its script's arguments through and `lpose -e` has
-- short options: they keep their own few lines).
--
--   local args = require('lpose.cli.args')
--   local o, err = args.parse(argv, { output = 'value', mean = 'flag', video = 'list' }, { 'csv' })
--   -- o.output, o.mean == true, o.video = {...}, o.csv; o.help after -h / --help
--
-- `--name value` and `--name=value` both work; anything else that starts
-- with `--` is an option, every other argument a positional.
local M = {}

--- args.parse(argv, options [, positional]) -> opts, positionals | nil, err
-- options: name -> 'value' | 'flag' | 'list' (a repeatable value; opts[name] is
-- the list, {} when absent). -h or --help gives {help = true} (what follows is not read).
-- positional: the names of exactly that many positionals (opts[name] = value);
-- without it any number is accepted. positionals: the list of them, in order.
function M.parse(argv, options, positional)
    local opts, pos, i = {}, {}, 1
    for name, kind in pairs(options) do
        if kind == 'list' then opts[name] = {} end
    end
    while i <= #argv do
        local a = argv[i]
        if a == '-h' or a == '--help' then return { help = true }, {} end
        if a:sub(1, 2) == '--' then
            local name, value = a:match('^%-%-([^=]*)=(.*)$')
            name = name or a:sub(3)
            local kind = options[name]
            if kind == nil then return nil, ("unknown option '%s'"):format(a) end
            if kind == 'flag' then
                if value ~= nil then return nil, ("option '--%s' takes no value"):format(name) end
                opts[name] = true
            else
                if value == nil then
                    i = i + 1
                    value = argv[i]
                    if value == nil then return nil, ("option '--%s' needs a value"):format(name) end
                end
                if kind == 'list' then
                    table.insert(opts[name], value)
                else
                    opts[name] = value
                end
            end
        else
            pos[#pos + 1] = a
        end
        i = i + 1
    end
    if positional then
        if #pos ~= #positional then
            return nil, ('expected %d argument%s (%s), got %d'):format(#positional,
                #positional == 1 and '' or 's', table.concat(positional, ' '), #pos)
        end
        for j, name in ipairs(positional) do opts[name] = pos[j] end
    end
    return opts, pos
end

--- args.int(opts, name, default [, min]) -> n | nil, err
-- The integer value of option `name` (default when absent), at least min (0).
function M.int(opts, name, default, min)
    local v = opts[name]
    if v == nil then return default end
    local n = tonumber(v)
    min = min or 0
    if not n or n % 1 ~= 0 or n < min then
        return nil, ('--%s must be an integer >= %d, got %s'):format(name, min, v)
    end
    return n
end

--- args.usage_error(command, err) -> nil, "command: err (see 'lpose help command')"
-- The usage error every command returns.
function M.usage_error(command, err)
    return nil, ("%s: %s (see 'lpose help %s')"):format(command, err, command)
end

return M
