-- The guides' code blocks run as written (issue 12).
--
--   build/lpose run /usr/bin/busted --no-auto-insulate tests/lua/guides_spec.lua
--
-- Every fenced code block of README.md, docs/index.md, docs/getting-started.md
-- and docs/guides/*.md carries a marker, an HTML comment on the line right
-- before its opening fence (invisible when the page is rendered):
--
--   <!-- guides_spec: run -->          run it: a shell block (any language but
--                                      lua) as a `bash -e` script, a Lua block as
--                                      a script (`lpose run block.lua`)
--   <!-- guides_spec: run tiny -->     the same, with the tiny overrides (below)
--                                      added to every `lpose train` / `lpose run`
--                                      command (a Lua block: as script arguments)
--   <!-- guides_spec: run; A -> B -->  ... after replacing the text A by B (several
--                                      `; A -> B` allowed; B may use $PROJECT,
--                                      $CONFIG, $MODEL, $TINY (shell), $TINY_LUA)
--   <!-- guides_spec: run; continues --> a Lua block that goes on from the page's
--                                      previous Lua block: both run as one script
--   <!-- guides_spec: repl -->         a REPL transcript: the `lpose> ` lines are
--                                      typed into `lpose -i`; where the page shows
--                                      output it must be the output (`.../` stands
--                                      for a folder), where it shows none the line
--                                      must not fail. Options: `; continues` (the
--                                      page's previous transcript is typed first),
--                                      `; untyped: "x", "y": why` (the input lines
--                                      starting so are not typed)
--   <!-- guides_spec: output of CMD --> the block is what CMD prints (stdout and
--                                      stderr; whitespace-insensitive, `…` stands
--                                      for any text); `; exit N` its exit status
--   <!-- guides_spec: file NAME -->    the block is saved as NAME in the sandbox
--                                      (a Lua file must compile); `; appended`
--                                      appends it to NAME (e.g. to config.yaml);
--                                      `; then CMD` runs CMD afterwards (exit 0)
--   <!-- guides_spec: skip: REASON --> not run; reported as pending with REASON
--
-- A block without a marker, or with a marker this spec does not know, fails, so
-- a new block is never forgotten. GUIDES_SPEC_PAGES=training,README.md runs
-- only the pages whose path contains one of the words; GUIDES_SPEC_VERBOSE=1
-- prints every script that runs and its output.
--
-- The sandbox stands for a user's Lightning Pose project: a temporary folder
-- holding the tiny synthetic project lpose.synth.generate writes (videos/,
-- videos_test/, labeled-data/, CollectedData.csv), a config.yaml for it as a
-- user writes one (the data section and the test videos: lpose merges it over
-- configs/config_default.yaml, so LP's defaults apply, backbone_pretrained: true
-- included), and links to the repository's build/, experiments/ and configs/.
-- Commands run there, with `lpose` on the PATH (the build's), HOME and
-- LPOSE_CACHE inside the sandbox, stdin empty, and LPOSE_NUM_THREADS=1 (two
-- libtorch threads on busy cores are several times slower, not faster).
-- config.yaml is written again before each page, so a `file config.yaml;
-- appended` block changes it for the rest of its own page only; other files
-- and the model directories stay.
--
-- Placeholders replaced in every block that runs: /path/to/project, and
-- /path/to/project/config.yaml, /path/to/config.yaml and
-- /path/to/your/lp/config.yaml (the sandbox's config.yaml); MODEL_DIR,
-- outputs/YYYY-MM-DD/HH-MM-SS and outputs/<a date>/<a time>: the newest model
-- directory under the sandbox's outputs/ when the line runs (one is trained
-- first when there is none).
--
-- The tiny overrides make a training run take seconds: the 64x64 synthetic
-- project, resnet18, one epoch of two steps, unlabeled windows of 8 frames.
-- They are appended after the command's own overrides, so where both set a
-- key the tiny value wins. Apart from data.data_dir (the sandbox's project,
-- which its config.yaml names anyway; without it the experiments would
-- generate the full-size synthetic dataset) they change sizes only: a command
-- that lacks a key a user's config needs (model.backbone_pretrained=false,
-- say) still fails.
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local ROOT = io.popen('pwd'):read('*l')
local EXE = support.exe()
if EXE:sub(1, 1) ~= '/' then EXE = ROOT .. '/' .. EXE end

local S = support.mktemp('guides_spec') -- the sandbox
local VERBOSE = (os.getenv('GUIDES_SPEC_VERBOSE') or '') ~= ''
local KEYPOINTS = '[nose, head, neck, back, tail_base, tail_tip]'

local TINY = {
    'data.data_dir=' .. S,
    'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
    'model.backbone=resnet18',
    'training.max_epochs=1', 'training.min_epochs=1', 'training.limit_train_batches=2',
    'training.lr_scheduler_params.multisteplr.milestones=[1]',
    'dali.base.train.sequence_length=8', 'dali.context.train.batch_size=8',
}

local function tiny_sh()
    local args = {}
    for i, o in ipairs(TINY) do args[i] = q(o) end
    return table.concat(args, ' ')
end

local function tiny_lua()
    local quoted = {}
    for i, o in ipairs(TINY) do quoted[i] = ("'%s'"):format(o) end
    return table.concat(quoted, ', ')
end

local CONFIG_YAML = table.concat({
    '# the project\'s Lightning Pose config: only what differs from LP\'s defaults',
    'data:',
    '  image_resize_dims: {height: 64, width: 64}',
    '  data_dir: ' .. S,
    '  video_dir: ' .. S .. '/videos',
    '  csv_file: CollectedData.csv',
    '  num_keypoints: 6',
    '  keypoint_names: ' .. KEYPOINTS,
    'eval:',
    '  test_videos_directory: ' .. S .. '/videos_test',
}, '\n') .. '\n'

---------------------------------------------------------------- the pages

local function pages()
    local list = { 'README.md', 'docs/index.md', 'docs/getting-started.md' }
    local p = io.popen('ls docs/guides/*.md')
    for path in p:lines() do list[#list + 1] = path end
    p:close()
    local only = os.getenv('GUIDES_SPEC_PAGES')
    if not only or only == '' then return list end
    local chosen = {}
    for _, path in ipairs(list) do
        for want in only:gmatch('[^,]+') do
            if path:find(want, 1, true) then
                chosen[#chosen + 1] = path
                break
            end
        end
    end
    return chosen
end

-- The fenced code blocks of a page: {page, line, lang, text, marker}, where
-- marker is the text of a `<!-- guides_spec: ... -->` comment on the line
-- right before the fence (nil when there is none).
local function blocks_of(page)
    local text = assert(slurp(page), page)
    local lines = {}
    for line in (text .. (text:sub(-1) == '\n' and '' or '\n')):gmatch('([^\n]*)\n') do
        lines[#lines + 1] = line
    end
    local blocks, i = {}, 1
    while i <= #lines do
        local indent, fence, lang = lines[i]:match('^(%s*)(```+)%s*([%w_+-]*)%s*$')
        if indent then
            local b = { page = page, line = i, lang = lang, body = {} }
            local prev = lines[i - 1] or ''
            b.marker = prev:match('^%s*<!%-%-%s*guides_spec:%s*(.-)%s*%-%->%s*$')
            i = i + 1
            while i <= #lines and not lines[i]:match('^%s*' .. fence .. '%s*$') do
                local l = lines[i]
                if l:sub(1, #indent) == indent then l = l:sub(#indent + 1) end
                b.body[#b.body + 1] = l
                i = i + 1
            end
            b.text = table.concat(b.body, '\n') .. '\n'
            local first = (b.body[1] or ''):sub(1, 60):gsub('[\192-\255][\128-\191]*$', '') -- no half character
            b.name = ('%s:%d [%s] %s'):format(page, b.line, lang, first)
            blocks[#blocks + 1] = b
        end
        i = i + 1
    end
    return blocks
end

-- The marker's verb and options: {verb=, tiny=, subs={{from, to}}, ...}.
local function parse_marker(m)
    if m == nil then return nil, 'no <!-- guides_spec: ... --> marker on the line before the block' end
    local reason = m:match('^skip:%s*(.+)$')
    if reason then return { verb = 'skip', reason = reason } end
    local parts = {}
    for part in (m .. ';'):gmatch('%s*([^;]-)%s*;') do parts[#parts + 1] = part end
    local head = table.remove(parts, 1)
    local spec = { subs = {} }
    local words = {}
    for w in head:gmatch('%S+') do words[#words + 1] = w end
    spec.verb = words[1]
    if spec.verb == 'run' then
        for k = 2, #words do
            if words[k] == 'tiny' then spec.tiny = true else return nil, 'unknown run option ' .. words[k] end
        end
    elseif spec.verb == 'repl' then
        if #words > 1 then return nil, 'repl takes its options after ";"' end
    elseif spec.verb == 'output' then
        spec.command = head:match('^output of%s+(.+)$')
        if not spec.command then return nil, 'expected "output of CMD"' end
    elseif spec.verb == 'file' then
        spec.file = words[2]
        if not spec.file or #words > 2 then return nil, 'expected "file NAME"' end
    else
        return nil, 'unknown marker "' .. m .. '"'
    end
    for _, part in ipairs(parts) do
        local from, to = part:match('^(.-)%s+%->%s+(.*)$')
        local code = part:match('^exit%s+(%d+)$')
        local untyped = part:match('^untyped:%s*(.*)$')
        if from then
            spec.subs[#spec.subs + 1] = { from, to }
        elseif code then
            spec.exit = tonumber(code)
        elseif part:match('^then%s') then
            spec['then'] = part:match('^then%s+(.*)$')
        elseif part == 'continues' then
            spec.continues = true
        elseif part == 'appended' then
            spec.appended = true
        elseif untyped then
            spec.untyped = {}
            for s in untyped:gmatch('"([^"]*)"') do spec.untyped[#spec.untyped + 1] = s end
            if #spec.untyped == 0 then return nil, 'untyped: lists no "..." strings' end
        else
            return nil, 'unknown option "' .. part .. '"'
        end
    end
    return spec
end

---------------------------------------------------------------- the sandbox

local function sh(cmd)
    local ok, _, code = os.execute(cmd)
    if type(ok) == 'number' then return ok == 0 end -- Lua 5.1 / LuaJIT without 5.2 compat
    return ok and code == 0
end

local ENV = table.concat({
    'PATH=' .. q(S .. '/bin') .. ':"$PATH"', 'HOME=' .. q(S .. '/home'), 'LPOSE_CACHE=' .. q(S .. '/cache'),
    'LPOSE_NUM_THREADS=1', 'LPOSE_HISTORY=' .. q(S .. '/home/.lpose_history'),
}, ' ')

-- In a shell script, the newest model directory when the line runs (so a
-- block that trains and then predicts uses the model it trained).
local MODEL_SH = '"$(guides_spec_model)"'
local SH_PRELUDE = table.concat({
    'guides_spec_model() {',
    '    d=$(ls -d outputs/*/*/checkpoints/best.lpt 2>/dev/null | sort | tail -1)',
    '    if [ -z "$d" ]; then',
    '        lpose run tcn_semi %s >&2 || return 1',
    '        d=$(ls -d outputs/*/*/checkpoints/best.lpt | sort | tail -1)',
    '    fi',
    '    echo "${d%%/checkpoints/best.lpt}"',
    '}',
}, '\n') .. '\n'

-- Run a bash script in the sandbox: rc, stdout, stderr. `timeout` only
-- guards against a hang (a REPL waiting for input); it never decides a result.
local function run_script(script, stdin)
    local path = write(S .. '/.guides_spec.sh', SH_PRELUDE:format(tiny_sh()) .. script)
    local input = stdin and write(S .. '/.guides_spec.in', stdin) or '/dev/null'
    os.execute(('cd %s && %s timeout 300 bash %s < %s > %s 2> %s; echo $? > %s'):format(q(S), ENV, q(path),
        q(input), q(S .. '/.out'), q(S .. '/.err'), q(S .. '/.rc')))
    local rc, out, err = tonumber(slurp(S .. '/.rc')), slurp(S .. '/.out') or '', slurp(S .. '/.err') or ''
    if VERBOSE then
        io.stderr:write(('\n==== %s\n---- exit %s; stdout:\n%s---- stderr:\n%s'):format(script, rc, out, err))
    end
    return rc, out, err
end

local function tail(s, n)
    n = n or 3000
    return #s > n and ('...' .. s:sub(-n)) or s
end

local function newest_model()
    local p = io.popen('cd ' .. q(S) .. ' && ls -d outputs/*/*/checkpoints/best.lpt 2>/dev/null | sort | tail -1')
    local file = p:read('*l')
    p:close()
    return file and file:gsub('/checkpoints/best%.lpt$', '') or nil
end

-- The newest model directory; trains one (tiny) when there is none yet.
local function model_dir()
    local dir = newest_model()
    if dir then return dir end
    local rc, out, err = run_script('lpose run tcn_semi ' .. tiny_sh() .. '\n')
    assert(rc == 0, 'training a model for MODEL_DIR failed:\n' .. tail(out) .. tail(err))
    return assert(newest_model())
end

local function escape(s) return (s:gsub('[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0')) end

-- Placeholders and the marker's own `A -> B`, in order. `shell`: the text is
-- a shell script (the model directory is looked up when the line runs).
-- `marker`: the text is the marker's own command (`output of`, `then`), where
-- $PROJECT, $CONFIG, $MODEL, $TINY and $TINY_LUA are expanded too.
local function substitute(text, spec, shell, marker)
    local model = shell and function() return MODEL_SH end or model_dir
    local vars = { PROJECT = function() return S end, CONFIG = function() return S .. '/config.yaml' end,
        MODEL = model, TINY_LUA = tiny_lua, TINY = tiny_sh }
    local function expand(s)
        return (s:gsub('%$([%u_]+)', function(name) return vars[name] and vars[name]() or nil end))
    end
    if marker then text = expand(text) end
    for _, sub in ipairs(spec.subs or {}) do
        local from = sub[1]
        assert(text:find(from, 1, true), ('the marker replaces "%s", which the block does not contain'):format(from))
        local to = expand(sub[2])
        text = text:gsub(escape(from), (to:gsub('%%', '%%%%')))
    end
    for _, path in ipairs({ '/path/to/your/lp/config.yaml', '/path/to/project/config.yaml', '/path/to/config.yaml' }) do
        text = text:gsub(escape(path), S .. '/config.yaml')
    end
    text = text:gsub('/path/to/project', S)
    for _, pat in ipairs({ 'outputs/YYYY%-MM%-DD/HH%-MM%-SS', 'outputs/%d%d%d%d%-%d%d%-%d%d/%d%d%-%d%d%-%d%d',
        '%f[%w_]MODEL_DIR%f[^%w_]' }) do
        if text:find(pat) then
            local dir = model()
            text = text:gsub(pat, (dir:gsub('%%', '%%%%')))
        end
    end
    return text
end

---------------------------------------------------------------- shell blocks

-- The position of a comment (` #...` outside quotes) in a shell line, or nil.
local function comment_at(line)
    local quote
    for i = 1, #line do
        local c = line:sub(i, i)
        if quote then
            if c == quote then quote = nil end
        elseif c == "'" or c == '"' then
            quote = c
        elseif c == '#' and (i == 1 or line:sub(i - 1, i - 1):match('%s')) then
            return i
        end
    end
end

-- The tiny overrides added to every `lpose train` / `lpose run` command.
local function add_tiny(line)
    if not line:find('lpose%s+train%f[%s]') and not line:find('lpose%s+run%f[%s]') then return line end
    local c = comment_at(line)
    local code, comment = line, ''
    if c then code, comment = line:sub(1, c - 1), line:sub(c) end
    code = code:gsub('%s+$', '')
    local amp = code:match('%s&$') and ' &' or ''
    if amp ~= '' then code = code:sub(1, -3) end
    local extra = tiny_sh()
    local s = code:find('%s%-%-%s') -- a script's own arguments: the overrides go before them
    if s then
        code = code:sub(1, s) .. extra .. ' ' .. code:sub(s + 1)
    else
        code = code .. ' ' .. extra
    end
    return code .. amp .. (comment ~= '' and ' ' .. comment or '')
end

-- A shell block as a script: continuation lines joined, tiny overrides added.
local function shell_script(text, spec)
    local lines, cur = {}, nil
    for line in text:gmatch('([^\n]*)\n') do
        local joined = (cur and cur .. ' ' or '') .. line:gsub('^%s+', cur and '' or '%0')
        if joined:match('\\$') and not comment_at(joined) then
            cur = joined:sub(1, -2):gsub('%s+$', '')
        else
            lines[#lines + 1] = spec.tiny and add_tiny(joined) or joined
            cur = nil
        end
    end
    return 'set -e -o pipefail\n' .. table.concat(lines, '\n') .. '\n', lines
end

---------------------------------------------------------------- REPL transcripts

-- A transcript as {input = {lines}, output = {lines}} per `lpose> ` line.
local function transcript(text)
    local steps, cur = {}, nil
    for line in text:gmatch('([^\n]*)\n') do
        local input = line:match('^lpose> (.*)$') or (line == 'lpose>' and '')
        local more = line:match('^    >> ?(.*)$')
        if input then
            cur = { input = { input }, output = {} }
            steps[#steps + 1] = cur
        elseif more and cur and #cur.output == 0 then
            cur.input[#cur.input + 1] = more
        elseif cur then
            cur.output[#cur.output + 1] = line
        end -- lines before the first prompt: the command and the banner
    end
    return steps
end

local MARK = '\1guides_spec\1'

local function untyped(step, spec)
    for _, prefix in ipairs(spec.untyped or {}) do
        if step.input[1]:sub(1, #prefix) == prefix then return true end
    end
    return false
end

-- Compare one line of output with the page's: `.../` stands for a folder.
local function line_matches(actual, expected)
    if actual == expected then return true end
    if not expected:find('.../', 1, true) then return false end
    local pat = '^' .. escape(expected):gsub('%%%.%%%.%%%./', '.*/') .. '$'
    return actual:match(pat) ~= nil
end

local function run_repl(b, spec, previous)
    local steps = {}
    for _, s in ipairs(previous or {}) do steps[#steps + 1] = { input = s.input, output = {}, quiet = true } end
    local mine = transcript(b.text)
    assert(#mine > 0, 'no "lpose> " lines in the transcript')
    for _, prefix in ipairs(spec.untyped or {}) do
        local n = 0
        for _, s in ipairs(mine) do
            if s.input[1]:sub(1, #prefix) == prefix then n = n + 1 end
        end
        assert(n == 1, ('untyped: "%s" matches %d input lines, not 1'):format(prefix, n))
    end
    for _, s in ipairs(mine) do steps[#steps + 1] = s end
    local typed, input = {}, {}
    for _, s in ipairs(steps) do
        if s.input[1] == '^D' then break end
        if not untyped(s, spec) then
            typed[#typed + 1] = s
            for _, l in ipairs(s.input) do input[#input + 1] = l end
            input[#input + 1] = [[io.stdout:write('\1guides_spec\1\n') io.stdout:flush() ]]
                .. [[io.stderr:write('\1guides_spec\1\n')]]
        end
    end
    local rc, out, err = run_script('lpose -i\n', table.concat(input, '\n') .. '\n')
    assert(rc == 0, ('lpose -i exited with %s:\n%s'):format(rc, tail(err)))
    local function segments(s)
        local segs = {}
        for seg in (s):gmatch('(.-)' .. escape(MARK) .. '\n') do segs[#segs + 1] = seg end
        return segs
    end
    local outs, errs = segments(out), segments(err)
    assert(#outs == #typed, ('%d of %d lines answered; stderr:\n%s'):format(#outs, #typed, tail(err)))
    local problems = {}
    for i, s in ipairs(typed) do
        local e = (errs[i] or ''):gsub('lpose> ', ''):gsub('    >> ', '')
        local got = {}
        for l in (outs[i] .. e):gmatch('([^\n]*)\n') do got[#got + 1] = l end
        local shown = '  lpose> ' .. table.concat(s.input, '\n      >> ')
        -- a previous transcript typed again (`continues`) was checked there
        local expected = s.quiet and {} or s.output
        if s.quiet then e = '' end
        if #expected == 0 then
            if e:find('%S') then problems[#problems + 1] = shown .. '\nfailed:\n' .. e end
        else
            local ok = #got == #expected
            for k = 1, math.min(#got, #expected) do ok = ok and line_matches(got[k], expected[k]) end
            if not ok then
                problems[#problems + 1] = shown .. '\nthe page shows:\n' .. table.concat(expected, '\n')
                    .. '\nlpose prints:\n' .. table.concat(got, '\n')
            end
        end
    end
    assert(#problems == 0, table.concat(problems, '\n\n'))
end

---------------------------------------------------------------- output blocks

local function squash(s) return (s:gsub('%s+', ' '):gsub('^ ', ''):gsub(' $', '')) end

local function run_output(b, spec)
    local cmd = substitute(spec.command, spec, true, true)
    local rc, out, err = run_script(cmd .. '\n')
    local want = spec.exit or 0
    assert(rc == want, ('%s exited with %s, not %d:\n%s%s'):format(cmd, rc, want, tail(out), tail(err)))
    local pat = '^' .. escape(squash(b.text)):gsub('…', '.-') .. '$'
    local got = squash(out .. err)
    assert(got:match(pat), ('%s prints:\n%s\nthe page shows:\n%s'):format(cmd, out .. err, b.text))
end

---------------------------------------------------------------- the spec

local PREVIOUS_REPL = {} -- page -> the steps of its latest transcript
local PREVIOUS_LUA = {} -- page -> its latest Lua block that ran (with what it continued)

local function run_block(b, spec)
    if spec.verb == 'repl' then
        run_repl(b, spec, spec.continues and PREVIOUS_REPL[b.page] or nil)
        local steps = {}
        for _, s in ipairs(spec.continues and PREVIOUS_REPL[b.page] or {}) do steps[#steps + 1] = s end
        for _, s in ipairs(transcript(b.text)) do
            if not untyped(s, spec) and s.input[1] ~= '^D' then steps[#steps + 1] = s end
        end
        PREVIOUS_REPL[b.page] = steps
        return
    end
    if spec.verb == 'output' then return run_output(b, spec) end
    if spec.verb == 'file' then
        local path = S .. '/' .. spec.file
        if spec.file:match('%.lua$') then assert(loadstring(b.text, '@' .. spec.file)) end
        write(path, (spec.appended and (slurp(path) or '') or '') .. b.text)
        if spec['then'] then
            local cmd = substitute(spec['then'], spec, true, true)
            local rc, out, err = run_script(cmd .. '\n')
            assert(rc == 0, ('%s exited with %s:\n%s%s'):format(cmd, rc, tail(out), tail(err)))
        end
        return
    end
    -- run
    local text = substitute(b.text, spec, b.lang ~= 'lua')
    local script, lines
    if b.lang == 'lua' then
        if spec.continues then
            text = assert(PREVIOUS_LUA[b.page], 'continues: no Lua block ran before on this page') .. text
        end
        PREVIOUS_LUA[b.page] = text
        local file = write(S .. '/.guides_block.lua', text)
        script, lines = ('set -e\nlpose run %s %s\n'):format(q(file), spec.tiny and tiny_sh() or ''), { text }
    else
        script, lines = shell_script(text, spec)
    end
    local rc, out, err = run_script(script)
    assert(rc == 0, ('exit status %s of\n%s\n--- stdout:\n%s\n--- stderr:\n%s'):format(rc,
        table.concat(lines, '\n'), tail(out), tail(err)))
end

describe('the guides\' code blocks', function()
    setup(function()
        for _, d in ipairs({ 'bin', 'home', 'cache' }) do assert(sh('mkdir -p ' .. q(S .. '/' .. d))) end
        local build = EXE:match('^(.*)/[^/]+$')
        assert(sh(('ln -s %s %s/build && ln -s %s/experiments %s/experiments && ln -s %s/configs %s/configs '
            .. '&& ln -s %s %s/bin/lpose'):format(q(build), q(S), q(ROOT), q(S), q(ROOT), q(S), q(EXE), q(S))))
        assert(require('lpose.synth').generate(S, { n_videos = 2, n_test_videos = 1, n_frames = 24, width = 64,
            height = 64, n_labeled_per_video = 8 }))
    end)
    teardown(function() os.execute('rm -rf ' .. q(S)) end)

    local all = {}
    for _, page in ipairs(pages()) do
        for _, b in ipairs(blocks_of(page)) do all[#all + 1] = b end
    end

    it('every block is marked run, repl, output, file or skip', function()
        local bad = {}
        for _, b in ipairs(all) do
            local spec, err = parse_marker(b.marker)
            if not spec then bad[#bad + 1] = ('%s:%d: %s'):format(b.page, b.line, err) end
        end
        assert(#bad == 0, 'blocks the spec does not know what to do with:\n' .. table.concat(bad, '\n'))
    end)

    local page
    for _, b in ipairs(all) do
        local spec = parse_marker(b.marker)
        if spec and spec.verb == 'skip' then
            pending(b.name .. ': skipped: ' .. spec.reason)
        elseif spec then
            it(b.name, function()
                if b.page ~= page then -- a new page: its own files
                    page = b.page
                    write(S .. '/config.yaml', CONFIG_YAML)
                end
                run_block(b, spec)
            end)
        end
    end
end)
