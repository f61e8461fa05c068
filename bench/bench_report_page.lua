-- bench_report_page: size and Chromium render time of `lpose report`'s page
-- (a benchmark, not a test), on
--   (a) MODEL_DIR as it is (the demo's model and its 300-frame video), and
--   (b) two copies of MODEL_DIR that each predicted a generated 100,000-frame
--       video, with ground truth and occlusions (every section at full load:
--       two sources, disagreement ranked over all frames, error traces).
-- Per page: the bytes, the time `lpose report` takes, and Chromium's time to
-- open it (headless, --dump-dom), as the wall time of the browser process
-- minus that of an empty page, median of ROUNDS runs each, alternating; and
-- the page's own clock at the end of drawing (data-render-ms, performance.now()
-- since navigation started: parsing the page, its JSON, and drawing).
--
--   build/lpose run bench/bench_report_page.lua [MODEL_DIR] [rounds=3]
--
-- MODEL_DIR defaults to the newest outputs/*/*/ with a metrics.csv (make demo
-- writes one); without one, or without chromium, it says so and stops.
local timing = dofile('bench/timing.lua')
local now, median = timing.now, timing.median
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local args = arg or {}
local model = args[1]
local rounds = tonumber((args[2] or ''):match('rounds=(%d+)') or (args[1] or ''):match('rounds=(%d+)')) or 3
if model and model:match('^rounds=') then model = nil end
if not model then
    local p = io.popen('ls -1d outputs/*/*/metrics.csv 2>/dev/null | sort | tail -1')
    local found = p:read('*l')
    p:close()
    model = found and found:gsub('/metrics%.csv$', '')
end
if not model then print('bench_report_page: no model directory (run make demo, or name one); skipped') return end
local browser = io.popen('command -v chromium 2>/dev/null'):read('*l')
if not browser or browser == '' then print('bench_report_page: chromium not installed (make deps); skipped') return end

local tmp = support.mktemp('bench_report_page')
local exe = support.exe()

local function sh(cmd)
    local rc = os.execute(cmd)
    assert(rc == 0 or rc == true, 'failed: ' .. cmd)
end

-- seconds of one headless Chromium that opens `url` and prints its DOM
local function open_page(url)
    local t0 = now()
    sh(('%s --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=%s --virtual-time-budget=60000 '
        .. '--dump-dom %s > %s 2>/dev/null'):format(q(browser), q(tmp .. '/profile'), q(url), q(tmp .. '/dom')))
    local dt = now() - t0
    local tag = (slurp(tmp .. '/dom') or ''):match('<html[^>]*>') or ''
    return dt, tag
end

local function report(dirs, out)
    local quoted = {}
    for i, d in ipairs(dirs) do quoted[i] = q(d) end
    local t0 = now()
    sh(('%s report %s --output %s > %s'):format(q(exe), table.concat(quoted, ' '), q(out), q(tmp .. '/log')))
    return now() - t0, slurp(tmp .. '/log')
end

-- (b): two model directories predicting a 100,000-frame video, and its ground truth
local N = 100000
local function long_video_models()
    local lpose = require('lpose')
    local metrics = require('lpose.metrics')
    local cfg_text = assert(slurp(model .. '/config.yaml'))
    local names = {}
    local kp_line = cfg_text:match('\n%s*keypoint_names:%s*%[([^%]]*)%]')
    for name in (kp_line or ''):gmatch('[^,%s]+') do names[#names + 1] = name end
    assert(#names > 0, model .. '/config.yaml: no data.keypoint_names [..] line')
    local K = #names
    local project = tmp .. '/project'
    sh('mkdir -p ' .. q(project .. '/videos_gt'))
    -- a smooth path with noise; predictions drift off it, with jumps now and then
    local gen = lpose.manual_seed and lpose.manual_seed(0)
    local _ = gen
    math.randomseed(0)
    local truth, occluded = {}, {}
    for f = 1, N do
        local row, occ = {}, {}
        for k = 1, K do
            row[k] = { 64 + 40 * math.sin(f / 300 + k), 64 + 40 * math.cos(f / 470 + 2 * k) }
            occ[k] = (math.floor(f / 40) % 25 == 0) and 1 or 0
        end
        truth[f], occluded[f] = row, occ
    end
    local function predictions(seed)
        math.randomseed(seed)
        local kps, lik = {}, {}
        for f = 1, N do
            local row, l = {}, {}
            for k = 1, K do
                local jump = math.random() < 0.002 and 30 or 0
                local noise = occluded[f][k] == 1 and 6 or 1
                row[k] = { truth[f][k][1] + noise * (math.random() - 0.5) + jump,
                           truth[f][k][2] + noise * (math.random() - 0.5) }
                l[k] = occluded[f][k] == 1 and 0.3 + 0.4 * math.random() or 0.9 + 0.1 * math.random()
            end
            kps[f], lik[f] = row, l
        end
        return kps, lik
    end
    local function write_predictions(path, kps, lik)
        local lines = { 'scorer' .. ('' .. (',bench'):rep(3 * K)), 'bodyparts', 'coords' }
        for k = 1, K do
            lines[2] = lines[2] .. (',' .. names[k]):rep(3)
            lines[3] = lines[3] .. ',x,y,likelihood'
        end
        for f = 1, N do
            local cells = { tostring(f - 1) }
            for k = 1, K do
                cells[#cells + 1] = ('%.3f,%.3f,%.4f'):format(kps[f][k][1], kps[f][k][2], lik and lik[f][k] or 1)
            end
            lines[#lines + 1] = table.concat(cells, ',')
        end
        write(path, table.concat(lines, '\n') .. '\n')
    end
    write_predictions(project .. '/videos_gt/long_100k.csv', truth)
    local occ_values = {}
    for f = 1, N do occ_values[f] = occluded[f] end
    assert(metrics.write_csv(project .. '/videos_gt/long_100k_occluded.csv', names, occ_values))
    -- the copies point data.data_dir at this project (labeled frames linked, not copied)
    local data_dir = cfg_text:match('\n%s*data_dir:%s*(%S+)')
    sh(('ln -s %s %s && cp %s %s/'):format(q(data_dir .. '/labeled-data'), q(project .. '/labeled-data'),
        q(data_dir .. '/CollectedData.csv'), q(project)))
    local dirs = {}
    for i, seed in ipairs({ 1, 2 }) do
        local d = ('%s/model_%s'):format(tmp, string.char(96 + i))
        sh(('mkdir -p %s/video_preds'):format(q(d)))
        for _, name in ipairs({ 'metrics.csv', 'predictions.csv', 'predictions_pixel_error.csv' }) do
            sh(('cp %s %s/'):format(q(model .. '/' .. name), q(d)))
        end
        write(d .. '/config.yaml', (cfg_text:gsub('(\n%s*data_dir:%s*)%S+', '%1' .. project, 1)))
        local kps, lik = predictions(seed)
        write_predictions(d .. '/video_preds/long_100k.csv', kps, lik)
        dirs[i] = d
    end
    return dirs
end

print(('model: %s, rounds: %d, chromium: %s'):format(model, rounds, browser))
local pages = { { name = 'demo model (its video)', dirs = { model } } }
print('generating two 100,000-frame predictions and their ground truth ...')
pages[2] = { name = '2 models x 100,000 frames + truth', dirs = long_video_models() }
write(tmp .. '/empty.html', '<!DOCTYPE html><html><body></body></html>\n')

for i, p in ipairs(pages) do
    p.out = ('%s/page%d.html'):format(tmp, i)
    p.report_s = {}
    for r = 1, rounds do
        local dt, log = report(p.dirs, p.out)
        p.report_s[r] = dt
        p.log = log
    end
    p.bytes = #assert(slurp(p.out))
    p.open_s, p.empty_s, p.render_ms = {}, {}, {}
end
for _ = 1, rounds do
    for _, p in ipairs(pages) do
        p.empty_s[#p.empty_s + 1] = open_page('file://' .. tmp .. '/empty.html')
        local dt, tag = open_page('file://' .. p.out)
        assert(tag:find('data-rendered="ok"', 1, true) and tag:find('data-js-errors="0"', 1, true),
            p.out .. ': the page did not render cleanly: ' .. tag)
        p.open_s[#p.open_s + 1] = dt
        p.render_ms[#p.render_ms + 1] = tonumber(tag:match('data%-render%-ms="(%d+)"'))
        p.tag = tag
    end
end
for _, p in ipairs(pages) do
    local extra = {}
    for i = 1, #p.open_s do extra[i] = p.open_s[i] - p.empty_s[i] end
    local lo, hi = math.huge, -math.huge
    for _, v in ipairs(extra) do lo, hi = math.min(lo, v), math.max(hi, v) end
    print(('%s: page %.1f KiB; lpose report %.2f s (median of %d); Chromium open minus empty page %.2f s '
        .. '(median; range %.2f-%.2f), page clock at end of drawing %d ms (median); %s'):format(
        p.name, p.bytes / 1024, median(p.report_s), rounds, median(extra), lo, hi, median(p.render_ms),
        p.tag:match('data%-charts="%d+"') or ''))
    local lo_open, hi_open = math.huge, -math.huge
    for _, v in ipairs(p.open_s) do lo_open, hi_open = math.min(lo_open, v), math.max(hi_open, v) end
    print(('  Chromium open: %.2f s median (range %.2f-%.2f); empty page %.2f s median'):format(median(p.open_s),
        lo_open, hi_open, median(p.empty_s)))
    io.write('  ', ((p.log or ''):gsub('\n(.)', '\n  %1')))
end
-- LPOSE_BENCH_KEEP=DIR keeps the pages (to look at them)
local keep = os.getenv('LPOSE_BENCH_KEEP')
if keep and keep ~= '' then
    for i, p in ipairs(pages) do
        os.execute(('cp %s %s'):format(q(p.out), q(('%s/bench_report_page%d.html'):format(keep, i))))
    end
end
os.execute('rm -rf ' .. q(tmp))
