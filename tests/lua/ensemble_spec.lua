-- Specs for ensembles (lua/lpose/ensemble.lua, `lpose train --members`,
-- `lpose predict ENSEMBLE_DIR`): members are ordinary model directories that
-- differ in their seeds, a second run resumes instead of retraining, and an
-- ensemble's prediction writes for each member exactly the file that member
-- alone writes (each frame decoded once for all members), and the EKS fusion
-- of them that `lpose eks` writes.
local lpose = require('lpose')
local support = dofile('tests/lua/support.lua')
local q, slurp, write = support.q, support.slurp, support.write

local tmp = support.mktemp('ensemble_spec')
local project = tmp .. '/project'
local _ -- the ignored stdout of lpose_cmd

local function lpose_cmd(args) return support.run(tmp, args) end

local function config_file(name)
    return support.tiny_config(tmp .. '/' .. name, project,
        { training = { 'rng_seed_model_pt: 5', 'rng_seed_data_pt: 2' } })
end

local function status_of(dir)
    local text = slurp(dir .. '/train_status.json')
    return text and require('cjson').decode(text).status or nil
end

describe('ensembles', function()
    local cfg, dir
    setup(function()
        assert(lpose.synth.generate(project, { n_videos = 2, n_test_videos = 1, n_frames = 24, width = 64,
            height = 64, n_labeled_per_video = 8, seed = 3 }))
        cfg = config_file('ens.yaml')
        dir = tmp .. '/ens'
    end)
    teardown(function() os.execute('rm -rf ' .. q(tmp)) end)

    it('refuses bad member counts and --vary-data alone', function()
        local rc, _, err = lpose_cmd({ 'train', cfg, '--members', '1', '--output', tmp .. '/one' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('--members must be an integer >= 2', 1, true), err)
        rc, _, err = lpose_cmd({ 'train', cfg, '--vary-data', '--output', tmp .. '/one' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('--vary-data needs --members', 1, true), err)
        rc, _, err = lpose_cmd({ 'train', cfg, '--members', '2', 'training.resume_from=x.lpt',
            '--output', tmp .. '/one' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('resumes its members itself', 1, true), err)
    end)

    it('trains members that differ in their seeds, two at a time, and resumes instead of retraining', function()
        local rc, out, err = lpose_cmd({ 'train', cfg, '--members', '2', '--nproc', '2', '--output', dir })
        assert.are.equal(0, rc, err)
        assert.truthy(out:find('ensemble of 2 members', 1, true), out)
        local manifest = assert(require('lpose.ensemble').load(dir))
        assert.are.equal(2, #manifest.members)
        for i, m in ipairs(manifest.members) do
            assert.are.equal('member_' .. (i - 1), m.dir)
            assert.are.equal(5 + i - 1, m.rng_seed_model_pt)
            assert.are.equal(2, m.rng_seed_data_pt) -- the same split without --vary-data
            assert.are.equal('COMPLETED', status_of(m.path))
            assert.truthy(slurp(m.path .. '/config.yaml'):find('rng_seed_model_pt: ' .. (5 + i - 1), 1, true))
        end
        -- different seeds, different models
        local a = assert(lpose.models.load(dir .. '/member_0/checkpoints/best.lpt'))
        local b = assert(lpose.models.load(dir .. '/member_1/checkpoints/best.lpt'))
        local pb = {}
        for name, t in b:named_parameters() do pb[name] = t end
        local differ = false
        for name, t in a:named_parameters() do
            if (t - pb[name]):abs():max():item() > 0 then differ = true end
        end
        assert.is_true(differ)
        -- the same command again: nothing retrained
        rc, _, err = lpose_cmd({ 'train', cfg, '--members', '2', '--output', dir })
        assert.are.equal(0, rc, err)
        assert.truthy(err:find('member_0 already trained', 1, true) and err:find('member_1 already trained', 1, true),
            err)
        -- another member count in the same directory is refused
        rc, _, err = lpose_cmd({ 'train', cfg, '--members', '3', '--output', dir })
        assert.are.equal(1, rc)
        assert.truthy(err:find('already holds an ensemble of 2 members', 1, true), err)
    end)

    it('predicts a video with every member, each writing what it writes alone', function()
        local video = project .. '/videos_test/' .. assert(io.popen('ls ' .. q(project .. '/videos_test')):read('*l'))
        local stem = video:match('([^/]+)%.%w+$')
        local rc, out, err = lpose_cmd({ 'predict', dir, video })
        assert.are.equal(0, rc, err)
        assert.truthy(out:find('[member_1]', 1, true), out)
        for i = 0, 1 do
            local member = dir .. '/member_' .. i
            rc, _, err = lpose_cmd({ 'predict', member, video, '--output', tmp .. '/alone_' .. i })
            assert.are.equal(0, rc, err)
            local together = slurp(member .. '/video_preds/' .. stem .. '.csv')
            assert.truthy(together)
            assert.are.equal(slurp(tmp .. '/alone_' .. i .. '/' .. stem .. '.csv'), together)
        end
        assert.are_not.equal(slurp(dir .. '/member_0/video_preds/' .. stem .. '.csv'),
            slurp(dir .. '/member_1/video_preds/' .. stem .. '.csv'))
        -- the ensemble's prediction: EKS over the members' CSVs, as `lpose eks` writes it
        local fused = dir .. '/video_preds/' .. stem .. '.csv'
        assert.truthy(out:find('[ensemble of 2, EKS]: -> ' .. fused, 1, true), out)
        local direct = tmp .. '/direct_eks.csv'
        rc, _, err = lpose_cmd({ 'eks', dir .. '/member_0/video_preds/' .. stem .. '.csv',
            dir .. '/member_1/video_preds/' .. stem .. '.csv', '--output', direct })
        assert.are.equal(0, rc, err)
        assert.are.equal(slurp(direct), slurp(fused))
    end)

    it('predicts in int8 with every member, each writing what it writes alone in int8', function()
        local video = project .. '/videos_test/' .. assert(io.popen('ls ' .. q(project .. '/videos_test')):read('*l'))
        local stem = video:match('([^/]+)%.%w+$')
        local rc, _, err = lpose_cmd({ 'predict', dir, video, '--precision', 'int8', '--output', tmp .. '/ens8' })
        assert.are.equal(0, rc, err)
        for i = 0, 1 do
            rc, _, err = lpose_cmd({ 'predict', dir .. '/member_' .. i, video, '--precision', 'int8',
                '--output', tmp .. '/alone8_' .. i })
            assert.are.equal(0, rc, err)
            local together = slurp(tmp .. '/ens8/member_' .. i .. '/' .. stem .. '.csv')
            assert.truthy(together)
            assert.are.equal(slurp(tmp .. '/alone8_' .. i .. '/' .. stem .. '.csv'), together)
            assert.are_not.equal(slurp(dir .. '/member_' .. i .. '/video_preds/' .. stem .. '.csv'), together)
        end
    end)

    it('names a member that cannot be loaded', function()
        local broken = tmp .. '/broken'
        os.execute('mkdir -p ' .. q(broken .. '/member_0'))
        write(broken .. '/ensemble.json', '{"members": [{"dir": "member_0"}]}\n')
        local rc, _, err = lpose_cmd({ 'predict', broken, project .. '/videos_test' })
        assert.are.equal(1, rc)
        assert.truthy(err:find('member 0', 1, true) and err:find('no config.yaml', 1, true), err)
    end)
end)
