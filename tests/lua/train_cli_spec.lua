-- Specs for `lpose train CONFIG` (lua/lpose/cli/train.lua): it trains what
-- the config says, loads loss files, refuses bad data before training starts
-- (naming the key, file or frame), and leaves a failed run marked FAILED.
local lpose = require('lpose')
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('train_cli_spec')
local project = tmp .. '/project'

-- run from /tmp: lpose train works from any directory (the signal specs below
-- start it in the background themselves, with the absolute path)
local exe = support.exe()
if exe:sub(1, 1) ~= '/' then exe = io.popen('pwd'):read('*l') .. '/' .. exe end
local function lpose_cmd(args) return support.run(tmp, args, '/tmp') end

-- A small LP config for the synthetic project: what a user writes.
local function config_file(name, model_type, extra)
    return support.tiny_config(tmp .. '/' .. name, project, { model_type = model_type, extra = extra })
end

local function status_of(dir)
    local text = slurp(dir .. '/train_status.json')
    return text and require('cjson').decode(text) or nil
end

describe('lpose train', function()
    setup(function()
        assert(lpose.synth.generate(project, { n_videos = 2, n_test_videos = 1, n_frames = 24, width = 64,
            height = 64, n_labeled_per_video = 8, seed = 3 }))
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('trains the model type the config names, from any directory, and predicts after', function()
        local cfg = config_file('single.yaml', 'heatmap')
        local rc, out, err = lpose_cmd({ 'train', cfg, '--output', tmp .. '/single' })
        assert.are.equal(0, rc, err)
        assert.truthy(slurp(tmp .. '/single/config.yaml'):find('model_type: heatmap\n', 1, true))
        assert.truthy(slurp(tmp .. '/single/predictions.csv'):find('^scorer,heatmap_tracker'))
        assert.are.equal('COMPLETED', status_of(tmp .. '/single').status)
        assert.truthy(out:find('labeled frames: mean pixel error', 1, true), out)
        -- the same directory again is refused unless the run resumes it
        rc, out, err = lpose_cmd({ 'train', cfg, '--output', tmp .. '/single' })
        assert.are.equal(1, rc, out)
        assert.truthy(err:find('already holds a model; resume it with training.resume_from=', 1, true), err)
    end)

    it('loads loss files from --loss and model.loss_files, and keeps a copy with the model', function()
        local loss = write(tmp .. '/zero_loss.lua', table.concat({
            "local losses = require('lpose.losses')",
            "losses.register('zero_prior', function(ctx) return ctx.unlabeled.keypoints_pred:sum() * 0 end)",
        }, '\n') .. '\n')
        local cfg = config_file('custom.yaml', 'heatmap_mhcrnn')
        local rc, _, err = lpose_cmd({ 'train', cfg, '--loss', loss, 'model.losses_to_use=[zero_prior]',
            '--output', tmp .. '/custom' })
        assert.are.equal(0, rc, err)
        assert.truthy(slurp(tmp .. '/custom/metrics.csv'):find(',train_zero_prior_loss,', 1, true))
        -- the config alone: model.loss_files relative to the config file
        local cfg2 = config_file('custom2.yaml', 'heatmap_mhcrnn', '')
        write(cfg2, slurp(cfg2):gsub('  losses_to_use: %[%]\n', '  losses_to_use: [zero_prior]\n  loss_files: '
            .. '[zero_loss.lua]\n'))
        rc, _, err = lpose_cmd({ 'train', cfg2, '--output', tmp .. '/custom2' })
        assert.are.equal(0, rc, err)
        assert.truthy(slurp(tmp .. '/custom2/loss_files/zero_loss.lua'))
        assert.truthy(slurp(tmp .. '/custom2/config.yaml'):find('loss_files:%s*%-? ?%[?loss_files/zero_loss.lua'))
        -- the model directory stands alone: prediction works with the original file gone
        os.remove(loss)
        rc, _, err = lpose_cmd({ 'predict', tmp .. '/custom2', project .. '/videos_test' })
        assert.are.equal(0, rc, err)
    end)

    it('names the key of a missing folder, and refuses a labels CSV without frames', function()
        local cfg = config_file('nodir.yaml', 'heatmap')
        local rc, _, err = lpose_cmd({ 'train', cfg, 'data.data_dir=' .. tmp .. '/nowhere', '--output', tmp .. '/x1' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('data.data_dir', 1, true) and err:find('nowhere', 1, true), err)
        assert.is_nil(slurp(tmp .. '/x1/train_status.json'))
        os.execute('mkdir -p ' .. q(tmp .. '/empty'))
        write(tmp .. '/empty/CollectedData.csv', 'scorer,a,a\nbodyparts,nose,nose\ncoords,x,y\n')
        rc, _, err = lpose_cmd({ 'train', cfg, 'data.data_dir=' .. tmp .. '/empty', 'data.num_keypoints=1',
            'data.keypoint_names=[nose]', '--output', tmp .. '/x2' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('has no labeled frames', 1, true), err)
    end)

    it('finds a video cut short at setup, naming the key, the file and the frame', function()
        local vids = tmp .. '/cut_videos'
        os.execute('mkdir -p ' .. q(vids))
        local full = vids .. '/full.tmp'
        os.execute(('ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x64:rate=25 -frames:v 120 '
            .. '-pix_fmt yuv420p -movflags +faststart -f mp4 %s'):format(q(full)))
        local bytes = slurp(full)
        if not bytes then return pending('ffmpeg cannot make a clip') end
        write(vids .. '/cut.mp4', bytes:sub(1, math.floor(#bytes / 2)))
        os.remove(full)
        local cfg = config_file('cut.yaml', 'heatmap_mhcrnn')
        local rc, _, err = lpose_cmd({ 'train', cfg, 'model.losses_to_use=[temporal]', 'data.video_dir=' .. vids,
            '--output', tmp .. '/x3' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('data.video_dir', 1, true), err)
        assert.truthy(err:find('cut.mp4: frame 119 of 120 cannot be decoded', 1, true), err)
        assert.is_nil(slurp(tmp .. '/x3/train_status.json'))
    end)

    it('refuses to resume from a checkpoint of another model, naming the file and the counts', function()
        local five = tmp .. '/project5' -- the same animal with 5 keypoints
        assert(lpose.synth.generate(five, { n_videos = 1, n_test_videos = 0, n_frames = 12, width = 64, height = 64,
            n_labeled_per_video = 4, n_keypoints = 5, seed = 3 }))
        local cfg = config_file('resume.yaml', 'heatmap')
        local names = require('lpose.data').read_labels(five .. '/CollectedData.csv'):keypoint_names()
        local rc, _, err = lpose_cmd({ 'train', cfg, 'data.data_dir=' .. five, 'data.num_keypoints=5',
            'data.keypoint_names=[' .. table.concat(names, ',') .. ']',
            'training.resume_from=' .. tmp .. '/single/checkpoints/last.lpt', '--output', tmp .. '/x4' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('training.resume_from: ' .. tmp .. '/single/checkpoints/last.lpt', 1, true), err)
        assert.truthy(err:find('num_keypoints 6 in the checkpoint, 5 in this config', 1, true), err)
    end)

    it('stops at Ctrl-C (and SIGTERM) between steps: last.lpt, INTERRUPTED, exit 130; resumes exactly', function()
        local cfg = config_file('sig.yaml', 'heatmap_mhcrnn')
        local common = { 'model.losses_to_use=[temporal]', 'training.limit_train_batches=4', 'training.max_epochs=2',
            'training.min_epochs=2', 'training.log_every_n_steps=1' }
        local function args_of(extra)
            local a = { 'train', cfg }
            for _, x in ipairs(common) do a[#a + 1] = x end
            for _, x in ipairs(extra) do a[#a + 1] = x end
            return a
        end
        local function train_rows(dir)
            local rows = {}
            for line in (slurp(dir .. '/metrics.csv') or ''):gmatch('[^\n]+') do
                local st, v = line:match('^(%d+),%d+,train,train_supervised_loss,(.*)$')
                if st then rows[tonumber(st)] = tonumber(v) end
            end
            return rows
        end
        -- the uninterrupted run
        local rc, _, err = lpose_cmd(args_of({ '--output', tmp .. '/sig_full' }))
        assert.are.equal(0, rc, err)
        local full = train_rows(tmp .. '/sig_full')
        for signame, dir in pairs({ INT = tmp .. '/sig_int', TERM = tmp .. '/sig_term' }) do
            -- in the background; the signal once the first step is logged
            local quoted = {}
            for i, a in ipairs(args_of({ '--output', dir })) do quoted[i] = q(a) end
            -- (a shell starts background jobs with SIGINT ignored: env restores its default, as a terminal has it)
            os.execute(('cd /tmp && (env --default-signal=INT %s %s > %s 2>&1; echo $? > %s) &'):format(q(exe),
                table.concat(quoted, ' '), q(dir .. '.log'), q(dir .. '.rc')))
            for _ = 1, 600 do -- a hang guard only (60 s), never a timing assertion
                if next(train_rows(dir)) or slurp(dir .. '.rc') then break end
                os.execute('sleep 0.1')
            end
            -- the lpose process itself (its command line starts with the executable), not the shell around it
            os.execute(('pkill -%s -f -- %s'):format(signame, q('^' .. exe .. ' train .*--output ' .. dir .. '$')))
            for _ = 1, 600 do
                if slurp(dir .. '.rc') then break end
                os.execute('sleep 0.1')
            end
            local log = slurp(dir .. '.log') or ''
            assert.are.equal(130, tonumber(slurp(dir .. '.rc')), log)
            assert.truthy(slurp(dir .. '/checkpoints/last.lpt'), log)
            assert.are.equal('INTERRUPTED', status_of(dir).status)
            assert.is_nil(slurp(dir .. '/predictions.csv'), 'predicted after an interrupt')
            assert.is_nil(io.popen('ls ' .. q(dir .. '/checkpoints')):read('*a'):find('tmp-', 1, true))
            if signame == 'INT' then
                local done = train_rows(dir)
                rc, _, err = lpose_cmd(args_of({ '--output', dir,
                    'training.resume_from=' .. dir .. '/checkpoints/last.lpt' }))
                assert.are.equal(0, rc, err)
                local resumed = train_rows(dir)
                local n_done, worst = 0, 0
                for st in pairs(done) do n_done = n_done + 1 end
                for st = 1, 8 do
                    assert.truthy(resumed[st], 'step ' .. st .. ' missing after resume')
                    worst = math.max(worst, math.abs(resumed[st] - full[st]) / math.abs(full[st]))
                end
                print(('# Ctrl-C after %d of 8 steps, resumed: max relative loss difference vs uninterrupted %.3g')
                    :format(n_done, worst))
                assert.are.equal(0, worst)
            end
        end
    end)

    it('leaves a run that fails in training marked FAILED with the message', function()
        local loss = write(tmp .. '/bad_loss.lua', table.concat({
            "local losses = require('lpose.losses')",
            "losses.register('fails', function() error('this loss fails on purpose', 0) end)",
        }, '\n') .. '\n')
        local cfg = config_file('fail.yaml', 'heatmap_mhcrnn')
        local rc, _, err = lpose_cmd({ 'train', cfg, '--loss', loss, 'model.losses_to_use=[fails]',
            '--output', tmp .. '/failed' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('this loss fails on purpose', 1, true), err)
        local st = status_of(tmp .. '/failed')
        assert.are.equal('FAILED', st.status)
        assert.truthy(st.message:find('this loss fails on purpose', 1, true))
    end)
end)
