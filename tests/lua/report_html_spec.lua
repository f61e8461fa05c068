-- Specs for `lpose report` (lua/lpose/cli/report.lua over lpose.diagnostics):
-- two tiny models are trained through the user's commands (the TCN and the
-- single-frame baseline, each predicting the held-out video after training),
-- the report of both is written, and headless Chromium (Debian's `chromium`,
-- installed by `make deps`) opens it offline: the page must report no
-- JavaScript error and must have drawn every chart; its screenshot must not
-- be blank. Bad input gets a clear error and leaves no file behind.
local lpose = require('lpose')
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('report_html_spec')
local project = tmp .. '/project'

local function sh(cmd)
    local rc = os.execute(cmd .. ' > ' .. q(tmp .. '/out') .. ' 2> ' .. q(tmp .. '/err'))
    return rc == 0 or rc == true, slurp(tmp .. '/out') or '', slurp(tmp .. '/err') or ''
end

local function report(args)
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = q(a) end
    return sh(q(support.exe()) .. ' report ' .. table.concat(quoted, ' '))
end

local function train(script, dir)
    local ok, out, err = sh(table.concat({ q(support.exe()), 'run', script,
        'data.data_dir=' .. q(project), 'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
        'model.backbone_pretrained=false', 'training.max_epochs=2', 'training.min_epochs=2',
        'training.limit_train_batches=2', 'training.train_batch_size=4', 'training.unfreezing_epoch=0',
        'training.check_val_every_n_epoch=1',
        'training.lr_scheduler_params.multisteplr.milestones=[1]', 'training.device=cpu',
        'training.num_workers=1', 'eval.predict_vids_after_training=true',
        'dali.context.predict.sequence_length=10', '+hydra.run.dir=' .. q(dir) }, ' '))
    assert(ok, script .. ' failed:\n' .. out .. err)
end

local function chromium()
    for _, name in ipairs({ 'chromium', 'chromium-browser' }) do
        local p = io.popen('command -v ' .. name .. ' 2>/dev/null')
        local path = p:read('*l')
        p:close()
        if path and path ~= '' then return path end
    end
end

-- Chromium with nothing to reach: virtual time lets the page's timers run to the end.
-- A profile of its own: a second Chromium on the same profile hands its URL to
-- the first and prints nothing.
local function browse(page, flag)
    local browser = chromium()
    return sh(('%s --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=%s '
        .. '--virtual-time-budget=30000 --window-size=1280,3000 %s %s'):format(q(browser),
        q(tmp .. '/chromium-profile'), flag, q('file://' .. page)))
end

local tcn, baseline = tmp .. '/tcn', tmp .. '/baseline'
local page = tmp .. '/report.html'

describe('lpose report', function()
    setup(function()
        assert(lpose.synth.generate(project, { n_videos = 2, n_test_videos = 1, n_frames = 24, width = 64,
            height = 64, n_labeled_per_video = 8, seed = 5 }))
        train('experiments/tcn_supervised.lua', tcn)
        train('experiments/baseline.lua', baseline)
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('writes one page that carries everything it shows and loads nothing', function()
        local ok, out, err = report({ tcn, baseline, '--output', page })
        assert(ok, out .. err)
        assert.truthy(out:find('report: ' .. page, 1, true), out)
        assert.truthy(out:find('video synth_01: 24 frames, 24 points drawn per trace', 1, true), out)
        local html = assert(slurp(page))
        -- nothing fetched: no external src/href, no CSS url() or @import, and a CSP that forbids it
        assert.falsy(html:find('src%s*=%s*["\']?https?:'), 'an external src')
        assert.falsy(html:find('href%s*=%s*["\']?https?:'), 'an external href')
        assert.falsy(html:find('url%(%s*["\']?https?:'), 'an external url()')
        assert.falsy(html:find('@import', 1, true), 'an @import')
        assert.truthy(html:find("default-src 'none'", 1, true))
        -- the vendored chart library is inlined, with its version
        assert.truthy(html:find('uPlot 1.6.32, MIT licence', 1, true))
        -- both models, the video, the gallery images, the config difference
        assert.truthy(html:find('"model_type":"heatmap_mhcrnn"', 1, true))
        assert.truthy(html:find('"model_type":"heatmap"', 1, true))
        assert.truthy(html:find('"model.model_type"', 1, true))
        assert.truthy(html:find('"name":"synth_01"', 1, true))
        assert.truthy(html:find('"image":"data:image\\/png;base64,', 1, true)) -- JSON writes / as \\/
        -- no temporary file left beside it
        local p = io.popen('ls ' .. q(tmp))
        for name in p:lines() do assert.falsy(name:find('report.html.tmp', 1, true), name) end
        p:close()
    end)

    it('renders in headless Chromium with no JavaScript error and every chart drawn', function()
        if not chromium() then
            pending('chromium is not installed (make deps installs it): browser checks skipped')
            return
        end
        assert(slurp(page), 'the first test writes the page')
        local ok, dom, err = browse(page, '--dump-dom')
        assert(ok, err)
        local html_tag = dom:match('<html[^>]*>') or ''
        assert.truthy(html_tag:find('data-rendered="ok"', 1, true), html_tag .. '\n' .. err)
        local js_errors = html_tag:match('data%-js%-errors="(%d+)"')
        local listed = dom:match('id="js%-errors"[^>]*>(.-)</pre>') or ''
        assert.are.equal('0', js_errors, listed)
        local charts = tonumber(html_tag:match('data%-charts="(%d+)"'))
        local drawn = tonumber(html_tag:match('data%-charts%-drawn="(%d+)"'))
        -- loss charts, and per video x, y, likelihood, temporal norm, error (ground truth) and disagreement
        assert.is_true(charts >= 6 + 6, html_tag)
        assert.are.equal(charts, drawn, html_tag)
        -- the gallery drew its frames with overlays (plus the box plot's SVG)
        assert.truthy(dom:find('<img alt="labeled%-data/'), 'gallery images')
        assert.truthy(dom:find('ground truth', 1, true))

        local shot = tmp .. '/report.png'
        local shot_ok, _, shot_err = browse(page, '--screenshot=' .. q(shot))
        assert(shot_ok, shot_err)
        local img = assert(lpose.data.read_image_rgb(shot))
        assert.are.same({ 3000, 1280, 3 }, img:size())
        -- not blank: a white page has no pixel below 250 in any channel; the
        -- charts, text and images make a good share of the page darker
        local dark = img:lt(250):any(3):double():mean():item()
        assert.is_true(dark > 0.01, ('only %.4f of the screenshot is not white'):format(dark))
        local keep = os.getenv('LPOSE_REPORT_SCREENSHOT')
        if keep and keep ~= '' then os.execute('cp ' .. q(shot) .. ' ' .. q(keep)) end
    end)

    it('switches keypoint, zooms to a disagreement frame and back, changes split, with no JavaScript error', function()
        if not chromium() then
            pending('chromium is not installed (make deps installs it): browser checks skipped')
            return
        end
        -- the page as written, plus a script that uses its controls once it is drawn
        local probe = [[<script>setTimeout(function () {
  var select = document.querySelector('select');
  select.value = '2';
  select.dispatchEvent(new Event('change'));
  var row = document.querySelector('tr.pick');
  if (row) row.click();
  Array.prototype.forEach.call(document.querySelectorAll('.controls button'), function (b) { b.click(); });
  document.documentElement.setAttribute('data-probe', row ? 'done' : 'no disagreement row');
}, 50);</script>
</body>]]
        local text = assert(slurp(page))
        local at = assert(text:find('</body>', 1, true))
        local probed = write(tmp .. '/probe.html', text:sub(1, at - 1) .. probe .. text:sub(at + #'</body>'))
        local ok, dom, err = browse(probed, '--dump-dom')
        assert(ok, err)
        local html_tag = dom:match('<html[^>]*>') or ''
        assert.truthy(html_tag:find('data-probe="done"', 1, true), html_tag)
        local listed = dom:match('id="js%-errors"[^>]*>(.-)</pre>') or ''
        assert.are.equal('0', html_tag:match('data%-js%-errors="(%d+)"'), listed)
    end)

    it('names a missing model directory, one without metrics.csv, and a missing --output', function()
        local ok, _, err = report({ tmp .. '/nope', '--output', tmp .. '/x.html' })
        assert.is_false(ok)
        assert.truthy(err:find("model directory '" .. tmp .. "/nope' does not exist", 1, true), err)
        os.execute(('mkdir -p %s && cp %s %s/'):format(q(tmp .. '/bare'), q(tcn .. '/config.yaml'), q(tmp .. '/bare')))
        ok, _, err = report({ tmp .. '/bare', '--output', tmp .. '/x.html' })
        assert.is_false(ok)
        assert.truthy(err:find(tmp .. '/bare: no metrics.csv', 1, true), err)
        -- a malformed metrics.csv line is named by file and line
        write(tmp .. '/bare/metrics.csv', 'step,epoch,stage,name,value\n1,0,train,total_loss,0.5\n2,0,train\n')
        ok, _, err = report({ tmp .. '/bare', '--output', tmp .. '/x.html' })
        assert.is_false(ok)
        assert.truthy(err:find(tmp .. '/bare/metrics.csv:3: expected step,epoch,stage,name,value, got "2,0,train"', 1,
            true), err)
        ok, _, err = report({ tcn })
        assert.is_false(ok)
        assert.truthy(err:find('missing --output FILE', 1, true), err)
        assert.is_nil(slurp(tmp .. '/x.html'))
    end)

    it('names a prediction CSV whose keypoints differ from the models\'', function()
        local csv = tcn .. '/video_preds/synth_01.csv'
        local text = assert(slurp(csv))
        local other = write(tmp .. '/other.csv', (text:gsub('tail_tip', 'paw')))
        local ok, _, err = report({ tcn, '--video', other, '--output', tmp .. '/x.html' })
        assert.is_false(ok)
        assert.truthy(err:find(other .. ': keypoints nose,head,neck,back,tail_base,paw differ from the models\' '
            .. 'nose,head,neck,back,tail_base,tail_tip', 1, true), err)
        assert.is_nil(slurp(tmp .. '/x.html'))
        -- a video no model predicted is named, with the command that predicts it
        ok, _, err = report({ tcn, '--video', project .. '/videos/synth_00.mp4', '--output', tmp .. '/x.html' })
        assert.is_false(ok)
        assert.truthy(err:find('has no video_preds/synth_00.csv (run: lpose predict ' .. tcn, 1, true), err)
    end)

    it('draws a given prediction CSV beside the models\' own predictions of that video', function()
        local copy = write(tmp .. '/synth_01.csv', assert(slurp(baseline .. '/video_preds/synth_01.csv')))
        local ok, out, err = report({ tcn, '--video', copy, '--output', tmp .. '/csv.html' })
        assert(ok, out .. err)
        local html = assert(slurp(tmp .. '/csv.html'))
        assert.truthy(html:find('"label":"synth_01.csv"', 1, true))
        assert.truthy(html:find('"disagreement":', 1, true))
    end)
end)

describe('lpose.diagnostics.downsample', function()
    local ds = require('lpose.diagnostics').downsample

    it('draws every frame of a short series', function()
        local xs, bounds = ds.grid(5, 3)
        assert.are.same({ 0, 1, 2, 3, 4 }, xs)
        assert.is_nil(bounds)
        assert.are.same({ 1, 2, 3 }, ds.minmax({ 1, 2, 3 }, nil))
    end)

    it('keeps each bucket\'s minimum and maximum in frame order, so a one-frame spike is drawn', function()
        local n, values = 100000, {}
        for i = 1, n do values[i] = math.sin(i / 1000) end
        values[54321] = 50 -- one frame
        values[77777] = -50
        local xs, bounds = ds.grid(n, 1000)
        assert.are.equal(2000, #xs)
        local drawn = ds.minmax(values, bounds)
        local hi, lo = -math.huge, math.huge
        for _, v in ipairs(drawn) do hi, lo = math.max(hi, v), math.min(lo, v) end
        assert.are.equal(50, hi)
        assert.are.equal(-50, lo)
        -- every frame falls in exactly one bucket
        local covered = 0
        for b, r in ipairs(bounds) do
            covered = covered + r[2] - r[1] + 1
            if b > 1 then assert.are.equal(bounds[b - 1][2] + 1, r[1]) end
        end
        assert.are.equal(n, covered)
        -- order: a falling bucket draws its maximum first
        local falling = ds.minmax({ 3, 2, 1, 0 }, { { 1, 4 } })
        assert.are.same({ 3, 0 }, falling)
        local empty = ds.minmax({ 0 / 0, 0 / 0 }, { { 1, 2 } })
        assert.is_true(empty[1] ~= empty[1] and empty[2] ~= empty[2])
    end)
end)
