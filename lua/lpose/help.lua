-- lpose.help: `help()` and `help(x)` for the REPL, with the text taken from
-- the reference pages docs/reference/lua/*.md (docs/design/house-style.md §6): each
-- `### name(...)` heading and the text under it, each table row and bullet
-- that starts with a call (`t:view(...)`), and, when nothing is headed by
-- the name, the paragraphs that mention it.
--
--   help()                 the main modules and how to get more
--   help(lpose.zeros)      a function, module table, tensor, model, reader, ...
--   help('tensor:view')    by name; help('view') searches every page
--
-- The pages are found at run time: $LPOSE_DOCS, the source tree's docs/
-- (this file at <repo>/lua/lpose/help.lua), or the copy `make install` puts
-- beside the modules (<luadir>/lpose/docs). Docs: docs/reference/lua/help.md.
local box = require('lpose.box')

local M = {}

M.width = 78      -- lines are wrapped to this
M.max_lines = 30  -- of one entry's text, then "... (N more lines in PAGE)"
M.max_entries = 4 -- shown in full for one name; the others are listed

local this_dir = (debug.getinfo(1, 'S').source:match('^@(.*)/help%.lua$')) or 'lpose'

-- ---------------------------------------------------------------- finding the pages

local readable = require('lpose.files').exists

local function slurp(path)
    local f = io.open(path, 'rb')
    if not f then return nil end
    local s = f:read('*a')
    f:close()
    return s
end

--- help.docs_dirs() -> {dir, ...}: where the docs are looked for, in order
function M.docs_dirs()
    local dirs = {}
    local env = os.getenv('LPOSE_DOCS')
    if env and env ~= '' then dirs[#dirs + 1] = env end
    local repo = this_dir == 'lua/lpose' and '.' or this_dir:match('^(.*)/lua/lpose$')
    if repo then dirs[#dirs + 1] = repo .. '/docs' end
    dirs[#dirs + 1] = this_dir .. '/docs'
    return dirs
end

--- help.docs_dir() -> dir | nil, message: the docs folder (it holds reference/lua/index.md)
function M.docs_dir()
    for _, d in ipairs(M.docs_dirs()) do
        if readable(d .. '/reference/lua/index.md') then return d end
    end
    return nil, 'the reference docs were not found (looked for reference/lua/index.md in '
        .. table.concat(M.docs_dirs(), ', ') .. '; set LPOSE_DOCS to a docs folder)'
end

-- ---------------------------------------------------------------- parsing

local function trim(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end

local function last_part(name) return name:match('([%w_]+)$') end

-- The names a signature documents: calls `a.b(`, `t:view(`, `ds:loader{`
-- and dotted fields `labels.n_frames`, left of any `->`.
local function signature_names(sig)
    local names, seen = {}, {}
    local left = sig:gsub('%->.*$', '')
    local function add(n)
        n = n:gsub('[%.:]+$', '')
        if n ~= '' and not seen[n] then
            seen[n] = true
            names[#names + 1] = n
        end
    end
    -- drop argument lists, so that `t:slice(dim [, first=1])` does not name `first`
    local depth, bare = 0, {}
    for i = 1, #left do
        local ch = left:sub(i, i)
        if ch == '(' or ch == '{' or ch == '[' then
            if depth == 0 then bare[#bare + 1] = '(' end
            depth = depth + 1
        elseif (ch == ')' or ch == '}' or ch == ']') and depth > 0 then
            depth = depth - 1
        elseif depth == 0 then
            bare[#bare + 1] = ch
        end
    end
    bare = table.concat(bare)
    for name in bare:gmatch('([%a_][%w_%.:]*)%s*%(') do add(name) end
    for name in bare:gmatch('[%a_][%w_]*[%.:][%a_][%w_%.:]*') do add(name) end
    return names
end

local function code_spans(s)
    local spans = {}
    for c in s:gmatch('`([^`]+)`') do spans[#spans + 1] = c end
    return spans
end

-- Names of the code spans of `s` that are calls (`t:item()`).
local function call_spans(s, qualified_only)
    local names, seen = {}, {}
    for _, c in ipairs(code_spans(s)) do
        if c:find('[%(%{]') then
            for _, n in ipairs(signature_names(c)) do
                if not seen[n] and (not qualified_only or n:find('[%.:]')) then
                    seen[n] = true
                    names[#names + 1] = n
                end
            end
        end
    end
    return names
end

local function split_row(line)
    local cells = {}
    local body = line:gsub('^%s*|', ''):gsub('|%s*$', '')
    for cell in (body .. '|'):gmatch('(.-)|') do cells[#cells + 1] = trim(cell) end
    return cells
end

-- One page -> {title=, intro={lines}, entries={...}, paragraphs={...}}.
-- An entry: {names=, sig=, lines={body}, page=, section=, kind='heading'|'row'|'bullet'}.
local function parse_page(text, page)
    local doc = { page = page, entries = {}, paragraphs = {}, intro = {} }
    local section, subsection = nil, nil
    local entry -- the heading entry collecting lines
    local in_fence = false
    local para = nil
    local header_cells = nil
    local function end_para()
        if para and #para.lines > 0 then doc.paragraphs[#doc.paragraphs + 1] = para end
        para = nil
    end
    local function where() return subsection and (section .. ' > ' .. subsection) or section end
    for line in (text .. '\n'):gmatch('([^\n]*)\n') do
        local fence = line:match('^%s*```')
        local h1 = not in_fence and line:match('^#%s+(.+)$')
        local h2 = not in_fence and line:match('^##%s+(.+)$')
        local h3 = not in_fence and line:match('^###%s+(.+)$')
        if h1 and not h2 and not h3 then
            doc.title = trim(h1)
        elseif h2 and not h3 then
            end_para()
            entry, section, subsection = nil, trim(h2), nil
        elseif h3 then
            end_para()
            local sig = trim(h3)
            local names = signature_names(sig)
            if #names == 0 and sig:match('^[%a_][%w_]*$') then names = { sig } end
            if #names > 0 and sig:find('[%(%{%.:]') then
                entry = { names = names, sig = sig, lines = {}, page = page, section = where(), kind = 'heading' }
                doc.entries[#doc.entries + 1] = entry
            else
                -- a plain title ("### Selection", "### Loss"): a subsection, and an
                -- entry under its own name when it is one word
                entry, subsection = nil, sig
                if #names > 0 then
                    entry = { names = names, sig = sig, lines = {}, page = page, section = section, kind = 'title' }
                    doc.entries[#doc.entries + 1] = entry
                end
            end
        else
            if fence then in_fence = not in_fence end
            if entry then entry.lines[#entry.lines + 1] = line
            elseif not section then doc.intro[#doc.intro + 1] = line end
            -- paragraphs, for the "mentioned in" fallback
            if line:match('^%s*$') and not in_fence and not fence then
                end_para()
            else
                para = para or { lines = {}, page = page, section = where() }
                para.lines[#para.lines + 1] = line
            end
            -- table rows and bullets that document calls
            if not in_fence and line:match('^%s*|') then
                local cells = split_row(line)
                local separator = cells[1] and cells[1]:match('^%-+$')
                if not separator and #cells >= 2 and cells[1]:find('`') then
                    local n = #cells
                    local sig_cells = {}
                    for i = 1, n - 1 do sig_cells[#sig_cells + 1] = cells[i] end
                    local names = call_spans(table.concat(sig_cells, ' '))
                    if #names > 0 then
                        local text_line = cells[n]
                        if header_cells and n > 2 then
                            local parts = {}
                            for i = 2, n - 1 do parts[#parts + 1] = (header_cells[i] or '') .. ': ' .. cells[i] end
                            text_line = table.concat(parts, '; ') .. '; ' .. text_line
                            sig_cells = { cells[1] }
                        end
                        doc.entries[#doc.entries + 1] = { names = names, sig = table.concat(sig_cells, ', '),
                            lines = { text_line }, page = page, section = where(), kind = 'row' }
                    end
                elseif not separator then
                    header_cells = cells
                end
            elseif not in_fence then
                header_cells = nil
                local item = line:match('^%- (.+)$')
                if item then
                    local sig, rest = item:match('^(`[^`]+`[^:]*):%s*(.*)$')
                    local names = sig and call_spans(sig, true) or {}
                    if #names > 0 then
                        doc.entries[#doc.entries + 1] = { names = names, sig = sig, lines = { rest },
                            page = page, section = where(), kind = 'bullet' }
                    end
                end
            end
        end
    end
    end_para()
    return doc
end

-- ---------------------------------------------------------------- the docs, parsed once

local docs_cache

-- {dir=, pages={name=doc}, order={name}, modules={module=page}, what={module=text},
--  module_order={module}} or nil, err
local function load_docs()
    if docs_cache then return docs_cache end
    local dir, err = M.docs_dir()
    if not dir then return nil, err end
    local ref = dir .. '/reference/lua/'
    local index = slurp(ref .. 'index.md') or ''
    local docs = { dir = dir, pages = {}, order = {}, modules = {}, what = {}, module_order = {}, sections = {} }
    -- the module tables of the index: | `lpose.x`, `.y` | what | [page.md](page.md) |
    local section
    for line in index:gmatch('[^\n]+') do
        local h2 = line:match('^##%s+(.+)$')
        if h2 then section = trim(h2) end
        if line:match('^|') then
            local cells = split_row(line)
            local mods = cells[1] and code_spans(cells[1]) or {}
            if #mods > 0 and #cells >= 3 then
                local page = cells[#cells]:match('%]%(([%w_%-]+%.md)')
                local parent = mods[1]:match('^(.*)%.[%w_]+$') or mods[1]
                for i, m in ipairs(mods) do
                    if m:sub(1, 1) == '.' then m = parent .. m end
                    if m:match('^lpose[%w_%.]*$') and not docs.what[m] then
                        if page then docs.modules[m] = page end
                        docs.what[m] = cells[2]
                        if i == 1 then
                            docs.module_order[#docs.module_order + 1] = m
                            docs.sections[m] = section
                        end
                    end
                end
            end
        end
    end
    -- the pages, in the order the index lists them
    local seen = {}
    for page in index:gmatch('%]%(([%w_%-]+%.md)%)') do
        if not seen[page] and page ~= 'index.md' then
            seen[page] = true
            local text = slurp(ref .. page)
            if text then
                docs.pages[page] = parse_page(text, page)
                docs.order[#docs.order + 1] = page
            end
        end
    end
    docs_cache = docs
    return docs
end

--- help.reload(): forget the parsed pages (after editing the docs)
function M.reload() docs_cache = nil end

-- ---------------------------------------------------------------- naming values

local function module_name_of(t)
    local best
    for name, mod in pairs(package.loaded) do
        if rawequal(mod, t) and type(name) == 'string' and (name == 'lpose' or name:match('^lpose%.')) then
            if best == nil or #name < #best then best = name end
        end
    end
    return best
end
M.module_name = module_name_of

local function sorted_lpose_modules()
    local names = {}
    for name, mod in pairs(package.loaded) do
        if type(name) == 'string' and type(mod) == 'table' and (name == 'lpose' or name:match('^lpose%.')) then
            names[#names + 1] = name
        end
    end
    table.sort(names, function(a, b) if #a ~= #b then return #a < #b end return a < b end)
    return names
end

-- A name for the function `fn`: 'lpose.zeros', 'lpose.tensor:view', ... or nil.
local function function_name(fn)
    for _, name in ipairs(sorted_lpose_modules()) do
        local mod = package.loaded[name]
        for k, v in pairs(mod) do
            if rawequal(v, fn) and type(k) == 'string' then return name .. '.' .. k end
        end
    end
    for _, spec in pairs(box.kinds()) do
        for k, v in pairs(spec.methods) do
            if rawequal(v, fn) and type(k) == 'string' then return spec.module .. ':' .. k, spec end
        end
    end
    -- methods of lpose.class classes kept in module tables (models.HeatmapTracker, ...)
    for _, name in ipairs(sorted_lpose_modules()) do
        for _, cls in pairs(package.loaded[name]) do
            if type(cls) == 'table' and rawget(cls, '__name') then
                for k, v in pairs(cls) do
                    if rawequal(v, fn) and type(k) == 'string' then return name .. ':' .. k end
                end
            end
        end
    end
    return nil
end
M.function_name = function_name

-- ---------------------------------------------------------------- formatting

local function wrap(words, indent, width)
    local lines, line = {}, indent
    for _, w in ipairs(words) do
        if #line > #indent and #line + 1 + #w > width then
            lines[#lines + 1] = line
            line = indent
        end
        line = (#line > #indent) and (line .. ' ' .. w) or (line .. w)
    end
    if #line > #indent then lines[#lines + 1] = line end
    return lines
end

-- "a, b, c" wrapped under a label.
local function name_list(label, names, width)
    local words = {}
    for i, n in ipairs(names) do words[i] = n .. (i < #names and ',' or '') end
    local pad = string.rep(' ', #label)
    local lines = wrap(words, pad, width)
    if lines[1] then lines[1] = label .. lines[1]:sub(#pad + 1) end
    return lines
end

local function page_path(docs, page) return docs.dir .. '/reference/lua/' .. page end

local function strip_blank_edges(lines)
    local a, b = 1, #lines
    while a <= b and lines[a]:match('^%s*$') do a = a + 1 end
    while b >= a and lines[b]:match('^%s*$') do b = b - 1 end
    local out = {}
    for i = a, b do out[#out + 1] = lines[i] end
    return out
end

local function format_entry(docs, e)
    local out = {}
    local sig = e.sig
    if e.kind ~= 'heading' then sig = sig:gsub('`', '') end
    local where = ('[%s%s]'):format(e.page, e.section and (', ' .. e.section) or '')
    out[#out + 1] = sig
    out[#out + 1] = '  ' .. where
    local body = strip_blank_edges(e.lines)
    local n = math.min(#body, M.max_lines)
    for i = 1, n do out[#out + 1] = (body[i] == '' and '' or '  ' .. body[i]) end
    if #body > n then
        out[#out + 1] = ('  ... (%d more lines in %s)'):format(#body - n, page_path(docs, e.page))
    end
    return table.concat(out, '\n')
end

local function format_paragraph(docs, p)
    local out = { ('[%s%s]'):format(p.page, p.section and (', ' .. p.section) or '') }
    for i = 1, math.min(#p.lines, M.max_lines) do out[#out + 1] = '  ' .. p.lines[i] end
    return table.concat(out, '\n')
end

-- ---------------------------------------------------------------- lookups

-- The page of a module-ish qualifier: 'lpose.tensor', 'tensor', 'lpose.train.logger'.
local function page_of(docs, qual)
    if not qual or qual == '' then return nil end
    local tries = { qual, 'lpose.' .. qual }
    for _, q in ipairs(tries) do
        local name = q
        while name do
            if docs.modules[name] and name ~= 'lpose' then return docs.modules[name] end
            name = name:match('^(.*)%.[%w_]+$')
        end
    end
    if qual == 'lpose' then return docs.modules.lpose end
    if docs.pages[qual .. '.md'] then return qual .. '.md' end
    return nil
end

local function all_keys(docs)
    local keys, seen = {}, {}
    for _, page in ipairs(docs.order) do
        for _, e in ipairs(docs.pages[page].entries) do
            for _, n in ipairs(e.names) do
                local k = last_part(n)
                if k and not seen[k] then seen[k] = true; keys[#keys + 1] = k end
            end
        end
    end
    return keys
end

local function is_module_name(docs, q)
    return docs.what[q] ~= nil or docs.what['lpose.' .. q] ~= nil
        or (type(package.loaded[q]) == 'table' and (q == 'lpose' or q:match('^lpose%.')) ~= nil)
end

-- Entries for a query: {entry, ...} best first.
local function find_entries(docs, query)
    local qual, name = query:match('^(.*)[%.:]([%w_]+)$')
    if not qual then qual, name = nil, query end
    local page = page_of(docs, qual)
    local scored = {}
    for pi, p in ipairs(docs.order) do
        for ei, e in ipairs(docs.pages[p].entries) do
            local score = 0
            for _, n in ipairs(e.names) do
                if n == query or n == 'lpose.' .. query or 'lpose.' .. n == query then score = math.max(score, 4)
                elseif last_part(n) == name then
                    local s = 1
                    if page and p == page then s = 3 end
                    if qual and n:match('^(.*)[%.:]') == qual then s = math.max(s, 3) end
                    score = math.max(score, s)
                end
            end
            if score > 0 then scored[#scored + 1] = { e = e, s = score, pi = pi, ei = ei } end
        end
    end
    table.sort(scored, function(a, b)
        if a.s ~= b.s then return a.s > b.s end
        if a.pi ~= b.pi then return a.pi < b.pi end
        return a.ei < b.ei
    end)
    local out = {}
    local top = scored[1] and scored[1].s
    -- with a known module page, other pages' entries of the same name do not count
    -- an exact name wins; so does a known module page over other pages
    for _, x in ipairs(scored) do
        if x.s == top or (top < 3 and not page) then out[#out + 1] = x.e end
    end
    return out, page, name
end

local function find_mentions(docs, name, page)
    local pat = '%f[%w_]' .. name:gsub('%p', '%%%0') .. '%('
    local out = {}
    for _, p in ipairs(docs.order) do
        if not page or p == page then
            for _, para in ipairs(docs.pages[p].paragraphs) do
                if table.concat(para.lines, '\n'):find(pat) then out[#out + 1] = para end
            end
        end
    end
    return out
end

-- ---------------------------------------------------------------- the texts

local function module_overview(docs, name)
    local out = {}
    local page = page_of(docs, name)
    local what = docs.what[name] or docs.what['lpose.' .. name]
    out[#out + 1] = name .. (what and (': ' .. what:gsub('`', '')) or '')
    if page and docs.pages[page] then
        local doc = docs.pages[page]
        out[#out + 1] = '  [' .. page_path(docs, page) .. ']'
        -- the page's introduction, its first lines
        local intro = strip_blank_edges(doc.intro)
        for i = 1, math.min(#intro, 14) do out[#out + 1] = intro[i] == '' and '' or '  ' .. intro[i] end
        if #intro > 14 then out[#out + 1] = '  ...' end
        out[#out + 1] = ''
        -- entries by section
        local by_section, order = {}, {}
        for _, e in ipairs(doc.entries) do
            local s = (e.section or 'Functions'):match('^[^>]+'):gsub('%s+$', '')
            if not by_section[s] then by_section[s] = {}; order[#order + 1] = s end
            local list = by_section[s]
            for _, n in ipairs(e.names) do
                if not list[n] and e.kind ~= 'title' then list[n] = true; list[#list + 1] = n end
            end
        end
        for _, s in ipairs(order) do
            for _, l in ipairs(name_list('  ' .. s .. ': ', by_section[s], M.width)) do out[#out + 1] = l end
        end
        local example
        for _, e in ipairs(doc.entries) do
            for _, n in ipairs(e.names) do
                if not example and n:find('[%.:]') and n ~= name then example = n end
            end
        end
        out[#out + 1] = ''
        out[#out + 1] = ("help('%s') shows one entry."):format(example or (name .. '.name'))
    else
        local mod = package.loaded[name] or package.loaded['lpose.' .. name]
        if type(mod) == 'table' then
            for _, l in ipairs(M.summary_lines(mod, name)) do out[#out + 1] = l end
        end
        out[#out + 1] = '(no reference page for ' .. name .. ' yet)'
    end
    return table.concat(out, '\n')
end

local function overview(docs, err)
    local out = {}
    local lpose = package.loaded.lpose
    out[#out + 1] = ('lpose %s: animal pose estimation in LuaJIT over libtorch; the package is `lpose`.')
        :format(type(lpose) == 'table' and rawget(lpose, 'version') or '')
    out[#out + 1] = ''
    out[#out + 1] = '  help(x)          the docs of x: a module (help(lpose.train)), a function'
    out[#out + 1] = '                   (help(lpose.zeros)), a tensor, a model, a video reader, ...'
    out[#out + 1] = "  help('name')     by name: help('tensor:view'), help('config.load'), help('view')"
    out[#out + 1] = '  TAB              completes globals, fields and methods: lpose.ten<TAB>, x:vi<TAB>'
    out[#out + 1] = ''
    if docs then
        local cur
        for _, m in ipairs(docs.module_order) do
            local section = docs.sections[m]
            if section and not section:match('^Command') then
                if section ~= cur then
                    cur = section
                    out[#out + 1] = section .. ':'
                end
                local what = docs.what[m]:gsub('`', ''):gsub('%b[]%b()', ''):gsub('%s+', ' ')
                local line = ('  %-20s %s'):format(m, what)
                if #line > M.width then
                    line = line:sub(1, M.width - 4):gsub('[,;:]?%s+%S*$', '') .. ' ...'
                end
                out[#out + 1] = line
            end
        end
        out[#out + 1] = ''
        out[#out + 1] = 'Reference: ' .. docs.dir .. '/reference/lua/index.md; guides: ' .. docs.dir .. '/guides/'
    else
        if type(lpose) == 'table' then
            for _, l in ipairs(M.summary_lines(lpose, 'lpose')) do out[#out + 1] = l end
        end
        out[#out + 1] = 'help: ' .. err
    end
    return table.concat(out, '\n')
end

local function entries_text(docs, query, entries)
    local out = {}
    for i = 1, math.min(#entries, M.max_entries) do out[#out + 1] = format_entry(docs, entries[i]) end
    if #entries > M.max_entries then
        local rest = {}
        for i = M.max_entries + 1, #entries do
            rest[#rest + 1] = entries[i].names[1] .. ' (' .. entries[i].page .. ')'
        end
        out[#out + 1] = table.concat(name_list('also: ', rest, M.width), '\n')
    end
    return table.concat(out, '\n\n')
end

local function lookup(docs, query)
    query = trim(query)
    if query == '' or query == 'lpose' then return overview(docs) end
    local qbare = query:gsub('[%.:]$', '')
    if is_module_name(docs, qbare) then
        local name = docs.what[qbare] and qbare or (docs.what['lpose.' .. qbare] and 'lpose.' .. qbare) or qbare
        return module_overview(docs, name)
    end
    local entries, page, name = find_entries(docs, query)
    if #entries > 0 then return entries_text(docs, query, entries) end
    local mentions = find_mentions(docs, name, page)
    if #mentions > 0 then
        local out = { ("'%s' has no entry of its own; it is mentioned here:"):format(query) }
        for i = 1, math.min(#mentions, M.max_entries) do out[#out + 1] = format_paragraph(docs, mentions[i]) end
        return table.concat(out, '\n\n')
    end
    local s = box.closest(name, all_keys(docs))
    return ("help: no documentation found for '%s'%s\n(searched %s/reference/lua/*.md; help() lists the modules)")
        :format(query, s and ("; did you mean '%s'?"):format(s) or '', docs.dir)
end

local function class_name(x)
    local ok, class = pcall(require, 'lpose.class')
    if not ok then return nil end
    local name = class.type(x)
    if name ~= type(x) then return name end
    return nil
end

--- help.text([x]) -> string: what help(x) prints
function M.text(x, ...)
    if select('#', ...) > 0 then error('help takes one value (or none)', 2) end
    local docs, err = load_docs()
    if x == nil then return overview(docs, err) end
    local tx = type(x)
    -- what is x?
    local query, header
    if tx == 'string' then
        query = x
    elseif tx == 'function' then
        query = function_name(x)
        if not query then
            local info = debug.getinfo(x, 'S')
            return ('help: a function from outside lpose (defined at %s): no documentation'):format(
                info.short_src .. (info.linedefined > 0 and (':' .. info.linedefined) or ''))
        end
    elseif tx == 'table' then
        if rawequal(x, package.loaded.lpose) then return overview(docs, err) end
        query = module_name_of(x)
        if not query then
            local cname = class_name(x)
            if cname then
                header = ('a %s object'):format(cname)
                query = cname:match('^(.*)%.[%w_]+$') or cname
            end
        end
        if not query then
            return 'help: a plain table, not an lpose module or object (help() lists the modules)'
        end
    elseif tx == 'cdata' then
        local spec = box.kind_of(x)
        if not spec then return 'help: an FFI value (' .. tostring(x) .. '), not an lpose object' end
        local ok, s = pcall(tostring, x)
        header = ok and s:match('^[^\n]*') or spec.name
        header = ('a %s: %s'):format(spec.name, header)
        local lines = { header, '' }
        if docs and page_of(docs, spec.module) then
            lines[#lines + 1] = module_overview(docs, spec.module)
        else
            for _, l in ipairs(name_list('  methods: ', box.names(spec), M.width)) do lines[#lines + 1] = l end
            if not docs then lines[#lines + 1] = 'help: ' .. err end
        end
        return table.concat(lines, '\n')
    else
        return ('help: a %s (%s); help() lists what is documented'):format(tx, tostring(x))
    end
    if not docs then return ("help: no documentation for '%s': %s"):format(query, err) end
    local text = lookup(docs, query)
    return header and (header .. '\n\n' .. text) or text
end

-- ---------------------------------------------------------------- module summaries

local function is_ident(k) return type(k) == 'string' and k:match('^[%a_][%w_]*$') ~= nil end

--- help.summary_lines(t, name) -> {line, ...}: a short listing of a module table
-- (functions, submodules, values), at most about 12 lines
function M.summary_lines(t, name)
    local funcs, tables, values = {}, {}, {}
    local seen = {}
    for k, v in pairs(t) do
        if is_ident(k) and k:sub(1, 1) ~= '_' then
            seen[k] = true
            if type(v) == 'function' then funcs[#funcs + 1] = k
            elseif type(v) == 'table' then tables[#tables + 1] = k
            else values[#values + 1] = k end
        end
    end
    local mt = getmetatable(t)
    local lazy = type(mt) == 'table' and rawget(mt, '__lazy')
    if type(lazy) == 'table' then
        for k in pairs(lazy) do if not seen[k] then tables[#tables + 1] = k end end
    end
    table.sort(funcs)
    table.sort(tables)
    table.sort(values)
    local lines = {}
    local function add(label, list, max)
        if #list == 0 then return end
        local l = name_list(label, list, M.width)
        for i = 1, math.min(#l, max) do lines[#lines + 1] = l[i] end
        if #l > max then lines[#lines] = lines[#lines] .. ' ...' end
    end
    add('  functions: ', funcs, 5)
    add('  modules:   ', tables, 4)
    local vals = {}
    for _, k in ipairs(values) do
        local v = t[k]
        if type(v) == 'string' then vals[#vals + 1] = ('%s = %q'):format(k, v)
        elseif type(v) == 'number' or type(v) == 'boolean' then vals[#vals + 1] = k .. ' = ' .. tostring(v)
        else vals[#vals + 1] = k .. ' (' .. type(v) .. ')' end
    end
    add('  values:    ', vals, 2)
    return lines
end

--- help.summary(t [, name]) -> string: what the REPL prints for an lpose module table
function M.summary(t, name)
    name = name or module_name_of(t) or 'module'
    local head
    if name == 'lpose' then
        head = ('lpose %s: the lpose package (a module table)'):format(tostring(rawget(t, 'version') or ''))
    else
        head = name .. ': a module table'
    end
    local lines = { head }
    for _, l in ipairs(M.summary_lines(t, name)) do lines[#lines + 1] = l end
    lines[#lines + 1] = name == 'lpose'
        and "help() for an overview; help(lpose.zeros), help('tensor:view') for one entry"
        or ('help(%s) for its docs'):format(name)
    return table.concat(lines, '\n')
end

--- help([x]): print help.text(x)
function M.show(x, ...)
    io.stdout:write(M.text(x, ...), '\n')
    io.stdout:flush()
end

return setmetatable(M, {
    __call = function(_, ...) return M.show(...) end,
    __tostring = function() return 'help: call help() for an overview, help(x) for the docs of x' end,
})
