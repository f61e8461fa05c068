-- lpose.help: help() and help(x), with the text from docs/reference/lua/*.md.
local lpose = require('lpose')
local help = require('lpose.help')
local support = dofile('tests/lua/support.lua')

local function first_line(s) return s:match('^[^\n]*') end

local function lines(s)
    local n = 0
    for _ in (s .. '\n'):gmatch('[^\n]*\n') do n = n + 1 end
    return n
end

local function is_public_fn(k, v) return type(k) == 'string' and type(v) == 'function' and k:sub(1, 1) ~= '_' end

describe('lpose.help', function()
    it('finds the docs of the source tree', function()
        local dir = assert(help.docs_dir())
        assert.truthy(dir:match('docs$'), dir)
        assert.truthy(io.open(dir .. '/reference/lua/tensor.md'))
    end)

    it('help() gives an overview: how to get more and the main modules', function()
        local text = help.text()
        assert.truthy(text:find("help('tensor:view')", 1, true), text)
        assert.truthy(text:find('TAB', 1, true), text)
        for _, m in ipairs({ 'lpose.tensor', 'lpose.optim', 'lpose.config', 'lpose.train', 'lpose.predict' }) do
            assert.truthy(text:find('\n  ' .. m .. ' ', 1, true), m .. ' missing from\n' .. text)
        end
        assert.are.equal(text, help.text(lpose))
        assert.are.equal(text, help.text('lpose'))
    end)

    it('help(name) shows the entry under the heading or in the table row', function()
        local view = help.text('tensor:view')
        assert.are.equal('t:view(...)', first_line(view))
        assert.truthy(view:find('[tensor.md, Shape ops]', 1, true), view)
        assert.truthy(view:find('new shape', 1, true), view)
        assert.are.equal(view, help.text('lpose.tensor:view'))
        assert.are.equal(view, help.text('view'))
        local load = help.text('config.load')
        assert.truthy(first_line(load):find('^config%.load{file='), load)
        assert.truthy(load:find('Merges', 1, true), load)
        assert.truthy(first_line(help.text('lpose.zeros')):find('lpose.zeros(d1', 1, true))
        -- an in-place variant is found through its row
        assert.truthy(help.text('tensor:neg_'):find('t:neg_()', 1, true))
    end)

    it('help(function) names the function, then shows its entry', function()
        assert.are.equal(help.text('lpose.zeros'), help.text(lpose.zeros))
        assert.are.equal('t:sum([dims [, keepdim]])', first_line(help.text(lpose.zeros(1).sum)))
        assert.are.equal('lpose.zeros', help.function_name(lpose.zeros))
        assert.are.equal('lpose.tensor:view', help.function_name(lpose.tensor.Tensor.view))
        assert.truthy(first_line(help.text(lpose.config.load)):find('^config%.load'))
        assert.truthy(help.text(print):find('^help: a function from outside lpose'))
    end)

    it('help(module) lists the page by section', function()
        local text = help.text(lpose.train)
        assert.truthy(first_line(text):find('^lpose.train: '), text)
        assert.truthy(text:find('train.setup', 1, true), text)
        assert.are.equal(text, help.text('lpose.train'))
        assert.are.equal(text, help.text('train'))
    end)

    it('help(object) says what it is, then its module', function()
        local text = help.text(lpose.zeros(2))
        assert.are.equal('a Tensor: tensor(shape=(2,), dtype=f32, device=cpu)', first_line(text))
        assert.truthy(text:find('\nlpose.tensor: ', 1, true), text)
        local opt = lpose.optim.SGD({ lpose.zeros(1):requires_grad_() }, { lr = 1 })
        assert.truthy(help.text(opt):find('\nlpose.optim: ', 1, true))
    end)

    it('says clearly when nothing is documented, with a suggestion', function()
        local text = help.text('tensor:sume')
        assert.truthy(text:find("^help: no documentation found for 'tensor:sume'; did you mean 'sum'%?"), text)
        assert.truthy(help.text('no_such_thing'):find("^help: no documentation found for 'no_such_thing'"))
        assert.truthy(help.text({}):find('^help: a plain table'))
        assert.truthy(help.text(42):find('^help: a number'))
        assert.has_error(function() help.text(1, 2) end, 'help takes one value (or none)')
    end)

    it('says where it looked when the docs are missing', function()
        local tmp = support.mktemp('help_spec')
        os.execute(('cp -r lua/lpose %s/lpose'):format(support.q(tmp)))
        local code = "package.path = '" .. tmp .. "/?.lua;' .. package.path "
            .. "local h = require('lpose.help') io.write(h.text('tensor:view'), '\\n', h.text())"
        local p = io.popen('cd /tmp && env -u LPOSE_DOCS luajit -e ' .. support.q(code) .. ' 2>&1')
        local out = p:read('*a')
        p:close()
        os.execute('rm -rf ' .. support.q(tmp))
        assert.truthy(out:find("^help: no documentation for 'tensor:view': the reference docs were not found"), out)
        assert.truthy(out:find(tmp .. '/lpose/docs', 1, true), out)
        assert.truthy(out:find('set LPOSE_DOCS', 1, true), out)
    end)

    it('finds an entry for every public function of the documented modules and every Tensor method', function()
        local missing = {}
        local function check(query)
            local text = help.text(query)
            if text:find('^help: ') then missing[#missing + 1] = query end
        end
        for k, v in pairs(lpose.tensor.Tensor) do
            if is_public_fn(k, v) then check('tensor:' .. k) end
        end
        for _, X in ipairs({ 'tensor', 'optim', 'serialize', 'config', 'losses', 'models', 'video', 'data',
            'predict', 'dataset', 'synth', 'train', 'dist', 'help', 'box' }) do
            local ok, mod = pcall(require, 'lpose.' .. X)
            if ok and type(mod) == 'table' then
                for k, v in pairs(mod) do
                    if is_public_fn(k, v) then check('lpose.' .. X .. '.' .. k) end
                end
            end
        end
        table.sort(missing)
        assert(#missing == 0, 'help finds nothing for: ' .. table.concat(missing, ', '))
    end)

    it('summarises a module table in a few lines (what the REPL prints for `lpose`)', function()
        local text = help.summary(lpose)
        assert.truthy(lines(text) <= 15, text)
        assert.truthy(first_line(text):find('^lpose .*: the lpose package'), text)
        for _, w in ipairs({ 'zeros', 'no_grad', 'train', 'models', 'help()' }) do
            assert.truthy(text:find(w, 1, true), w .. ' missing from\n' .. text)
        end
        assert.truthy(lines(help.summary(lpose.tensor)) <= 15)
    end)

    it('help itself prints how to call it', function()
        assert.are.equal('help: call help() for an overview, help(x) for the docs of x', tostring(help))
    end)
end)
