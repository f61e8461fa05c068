-- tests/lua/support.lua: what the specs that drive the lpose executable
-- share (loaded with dofile, not a spec itself).
local M = {}

--- The executable under test: $LPOSE_TEST_BUILD/lpose (set by tests/run_all.sh).
function M.exe()
    local build = os.getenv('LPOSE_TEST_BUILD')
    if build and build ~= '' then return build .. '/lpose' end
    return 'build/lpose'
end

--- Shell-quote one argument.
function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- The contents of a file, or nil when it cannot be read.
function M.slurp(path)
    local f = io.open(path, 'rb')
    if not f then return nil end
    local s = f:read('*a')
    f:close()
    return s
end

--- Write `text` to `path`; returns the path.
function M.write(path, text)
    local f = assert(io.open(path, 'wb'))
    f:write(text)
    f:close()
    return path
end

--- support.run(tmp, args [, cwd]) -> exit code, stdout, stderr
-- Runs the executable under test with `args` (each shell-quoted), its output
-- captured in tmp/out and tmp/err. With `cwd` it runs from that directory
-- (the executable's path made absolute first).
function M.run(tmp, args, cwd)
    local exe = M.exe()
    local cd = ''
    if cwd then
        if exe:sub(1, 1) ~= '/' then exe = io.popen('pwd'):read('*l') .. '/' .. exe end
        cd = 'cd ' .. M.q(cwd) .. ' && '
    end
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = M.q(a) end
    os.execute(('%s%s %s > %s 2> %s; echo $? > %s'):format(cd, M.q(exe), table.concat(quoted, ' '),
        M.q(tmp .. '/out'), M.q(tmp .. '/err'), M.q(tmp .. '/rc')))
    return tonumber(M.slurp(tmp .. '/rc')), M.slurp(tmp .. '/out'), M.slurp(tmp .. '/err')
end

--- support.tiny_config(path, project [, {model_type=, training=, extra=}]) -> path
-- Writes a small LP config (what a user writes) for a synthetic project made by
-- lpose.synth.generate (6 keypoints): 64x64 input, one epoch of two batches on
-- the CPU, no prediction after training. model_type defaults to
-- heatmap_mhcrnn; training: more lines of the training section ('key: value');
-- extra: YAML text appended at the end.
function M.tiny_config(path, project, o)
    o = o or {}
    local lines = {
        'data:',
        '  image_resize_dims: {height: 64, width: 64}',
        '  data_dir: ' .. project,
        '  video_dir: ' .. project .. '/videos',
        '  csv_file: CollectedData.csv',
        '  num_keypoints: 6',
        '  keypoint_names: [nose, head, neck, back, tail_base, tail_tip]',
        'training:',
        '  train_batch_size: 4', '  max_epochs: 1', '  min_epochs: 1', '  limit_train_batches: 2',
        '  unfreezing_epoch: 0', '  num_workers: 1', '  device: cpu', '  train_prob: 0.75', '  val_prob: 0.25',
    }
    for _, line in ipairs(o.training or {}) do lines[#lines + 1] = '  ' .. line end
    for _, line in ipairs({
        '  lr_scheduler_params: {multisteplr: {milestones: [1], gamma: 0.5}}',
        'model:', '  model_type: ' .. (o.model_type or 'heatmap_mhcrnn'), '  backbone: resnet18',
        '  backbone_pretrained: false', '  losses_to_use: []',
        'dali:', '  context: {train: {batch_size: 6}, predict: {sequence_length: 8}}',
        '  base: {train: {sequence_length: 4}, predict: {sequence_length: 8}}',
        'eval:', '  predict_vids_after_training: false',
        o.extra,
    }) do lines[#lines + 1] = line end
    return M.write(path, table.concat(lines, '\n') .. '\n')
end

--- A fresh temporary directory named after the spec.
function M.mktemp(name)
    local p = io.popen('mktemp -d /tmp/lpose_' .. name .. '.XXXXXX')
    local dir = p:read('*l')
    p:close()
    return dir
end

return M
