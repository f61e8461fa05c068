-- lpose.diagnostics.page: the report as one HTML file that opens offline.
-- Everything is inlined: the vendored uPlot (assets/, refreshed by
-- tools/vendor_uplot.sh), the page's own script and style, the data as JSON,
-- images as data: URIs. A Content-Security-Policy with default-src 'none'
-- makes the browser refuse any network load, and the page counts such a
-- refusal as an error (tests/lua/report_html_spec.lua reads the count).
local M = {}

-- assets/ beside this file, in the source tree and where `make install` puts the modules
local function assets_dir()
    local src = debug.getinfo(1, 'S').source:gsub('^@', '')
    return (src:match('^(.*)/page%.lua$') or '.') .. '/assets'
end

local function asset(name)
    local path = assets_dir() .. '/' .. name
    local f = io.open(path, 'rb')
    if not f then return nil, ('missing asset %s (reinstall lpose)'):format(path) end
    local text = f:read('*a')
    f:close()
    -- a "</script" inside an inlined script would end the element early
    if text:lower():find('</script', 1, true) or text:lower():find('</style', 1, true) then
        return nil, path .. ' contains a closing script/style tag and cannot be inlined'
    end
    return text
end

local function escape_html(s)
    return (tostring(s):gsub('[&<>"]', { ['&'] = '&amp;', ['<'] = '&lt;', ['>'] = '&gt;', ['"'] = '&quot;' }))
end

--- page.json(value) -> JSON text safe inside <script>: NaN -> null, 7 significant digits, no '<'
function M.json(value)
    local cjson = require('cjson').new()
    cjson.encode_invalid_numbers('null')
    -- 7 digits: frame and step numbers stay exact below 10 million; coordinates to 0.001 px at 1000 px
    cjson.encode_number_precision(7)
    cjson.encode_sparse_array(true)
    return (cjson.encode(value):gsub('<', '\\u003c'))
end

-- Runs before anything else: every JavaScript error, console.error, failed
-- resource or blocked network load is counted in <html data-js-errors> and
-- listed in #js-errors, so headless Chromium's --dump-dom shows them.
local ERROR_TRAP = [[
(function () {
  var list = [];
  function record(msg) {
    list.push(String(msg));
    document.documentElement.setAttribute('data-js-errors', String(list.length));
    var box = document.getElementById('js-errors');
    if (box) { box.hidden = false; box.textContent = 'JavaScript errors:\n' + list.join('\n'); }
  }
  window.lposeRecordError = record;
  window.addEventListener('error', function (e) {
    var target = e.target && e.target !== window ? (e.target.src || e.target.href) : null;
    if (target) record('failed to load ' + target);
    else record((e.message || 'error') + ' at ' + (e.filename || '?') + ':' + (e.lineno || 0));
  }, true);
  window.addEventListener('unhandledrejection', function (e) { record('unhandled rejection: ' + e.reason); });
  document.addEventListener('securitypolicyviolation', function (e) {
    record('blocked load of ' + e.blockedURI + ' (' + e.violatedDirective + ')');
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    consoleError.apply(console, arguments);
  };
})();
]]

--- page.render(report) -> html | nil, err
function M.render(report)
    local parts = {}
    for _, name in ipairs({ 'uPlot.min.css', 'report.css', 'uPlot.iife.min.js', 'report.js', 'uplot.VERSION' }) do
        local text, err = asset(name)
        if not text then return nil, err end
        parts[name] = text
    end
    local title = 'lpose report: '
    local names = {}
    for i, m in ipairs(report.models) do names[i] = m.name end
    title = title .. table.concat(names, ' vs ')
    report.generated = os.date('!%Y-%m-%dT%H:%M:%SZ')
    report.uplot_version = parts['uplot.VERSION']:match('%S+')
    return table.concat({
        '<!DOCTYPE html>\n<html lang="en" data-js-errors="0" data-rendered="no">\n<head>\n<meta charset="utf-8">\n',
        -- no network: the page may only use what it carries
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; ',
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<title>', escape_html(title), '</title>\n',
        '<script>', ERROR_TRAP, '</script>\n',
        '<style>\n', parts['uPlot.min.css'], '\n', parts['report.css'], '\n</style>\n',
        '</head>\n<body>\n<pre id="js-errors" class="js-errors" hidden></pre>\n<main id="report"><h1>',
        escape_html(title), '</h1><p id="loading">Drawing the report (this page needs JavaScript)...</p></main>\n',
        '<script type="application/json" id="report-data">', M.json(report), '</script>\n',
        '<script>/* uPlot ', report.uplot_version, ', MIT licence (lua/lpose/diagnostics/assets/uPlot.LICENSE) */\n',
        parts['uPlot.iife.min.js'], '\n</script>\n',
        '<script>\n', parts['report.js'], '\n</script>\n</body>\n</html>\n',
    })
end

return M
