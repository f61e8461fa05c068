-- lpose.cli.args: the one option parser of the subcommands (lua/lpose/cli/args.lua).
--
--   build/lpose run /usr/bin/busted --no-auto-insulate tests/lua/cli_args_spec.lua
local args = require('lpose.cli.args')

describe('lpose.cli.args', function()
    local options = { output = 'value', mean = 'flag', video = 'list' }

    it('reads values, flags, repeatable options and positionals in order', function()
        local o, pos = args.parse({ 'a.csv', '--output', 'x.csv', '--mean', '--video=v1', 'b.csv', '--video', 'v2' },
            options)
        assert.are.equal('x.csv', o.output)
        assert.is_true(o.mean)
        assert.are.same({ 'v1', 'v2' }, o.video)
        assert.are.same({ 'a.csv', 'b.csv' }, pos)
        assert.are.same({}, (args.parse({}, options)).video)
    end)

    it('names positionals when told how many there are', function()
        local o = args.parse({ 'in.mp4' }, options, { 'video' })
        assert.are.equal('in.mp4', o.video)
        local _, err = args.parse({ 'a', 'b' }, options, { 'video' })
        assert.are.equal('expected 1 argument (video), got 2', err)
    end)

    it('gives help for -h or --help, whatever follows', function()
        assert.is_true(args.parse({ '-h', '--frob' }, options).help)
        assert.is_true(args.parse({ '--help' }, options, { 'video' }).help)
    end)

    it('fails with one set of messages', function()
        assert.are.equal("unknown option '--frob=1'", select(2, args.parse({ '--frob=1' }, options)))
        assert.are.equal("option '--output' needs a value", select(2, args.parse({ '--output' }, options)))
        assert.are.equal("option '--mean' takes no value", select(2, args.parse({ '--mean=no' }, options)))
        assert.are.equal('--n must be an integer >= 1, got 0', select(2, args.int({ n = '0' }, 'n', 5, 1)))
        assert.are.equal(5, args.int({}, 'n', 5, 1))
        assert.are.same({ nil, "eks: bad (see 'lpose help eks')" }, { args.usage_error('eks', 'bad') })
    end)
end)
