-- tests/lua/scripts/dist_train.lua: a short supervised TCN run for
-- dist_spec.lua, alone or as one rank of `lpose run --nproc N`.
--   lpose run tests/lua/scripts/dist_train.lua PROJECT MODEL_DIR [die_at_step] [key=value...]
-- Writes MODEL_DIR (rank 0). With die_at_step=K (K a number), rank 1
-- SIGKILLs itself after its K-th step, as a crashed worker would; with
-- LPOSE_TEST_STOP=1 it SIGSTOPs itself instead, as a hung worker would.
-- With LPOSE_TEST_SGD=1 it trains with plain SGD instead of Adam (below).
local ffi = require('ffi')
local lpose = require('lpose')
local config = require('lpose.config')

local project, model_dir = arg[1], arg[2]
local die_at = tonumber(arg[3])
local overrides = {
    'data.data_dir=' .. project, 'data.image_resize_dims.height=64', 'data.image_resize_dims.width=64',
    'model.model_type=heatmap_mhcrnn', 'model.losses_to_use=[]',
    'training.train_batch_size=8', 'training.val_batch_size=8', 'training.train_prob=0.75',
    'training.val_prob=0.25', 'training.unfreezing_epoch=0', 'training.check_val_every_n_epoch=1',
    'training.optimizer_params.learning_rate=0.001', 'training.lr_scheduler_params.multisteplr.milestones=[2]',
    'training.num_workers=1', 'training.device=cpu',
    'training.max_epochs=2', 'training.min_epochs=2', 'eval.predict_vids_after_training=false',
}
for i = die_at and 4 or 3, #arg do overrides[#overrides + 1] = arg[i] end
local cfg = config.load({ file = 'configs/config_synthetic.yaml', overrides = overrides })
local run = lpose.train.setup(cfg, { model_dir = model_dir, quiet = true })
if os.getenv('LPOSE_TEST_SGD') then
    -- plain SGD in the same groups (backbone, head) at the schedule's rates:
    -- an update proportional to the gradient, so the gradient's float
    -- rounding stays as small in the weights (Adam's m / sqrt(v) is ~ +-1
    -- whatever the gradient's size, and turns rounding noise on a near-zero
    -- gradient into a whole learning-rate step); the initial weights go to
    -- MODEL_DIR/init.lpt (rank 0), so a test can measure the update itself
    local sgd = lpose.optim.SGD({}, { lr = cfg.training.optimizer_params.learning_rate })
    sgd:add_param_group(run.model:parameters('backbone.'), 0)
    local head = {}
    for pname, p in run.model:named_parameters() do
        if pname:sub(1, 9) ~= 'backbone.' then head[#head + 1] = p end
    end
    sgd:add_param_group(head)
    run.optimizer:free()
    run.optimizer = sgd
    if run.is_main then assert(lpose.save(model_dir .. '/init.lpt', (run.model:state_dict()))) end
end
if die_at and run.rank == 1 then
    ffi.cdef('int getpid(void);')
    run.callbacks[#run.callbacks + 1] = { on_step_end = function(r)
        local sig = os.getenv('LPOSE_TEST_STOP') and 'STOP' or 'KILL'
        if r.step >= die_at then os.execute(('kill -%s %d'):format(sig, ffi.C.getpid())) end
    end }
end
lpose.train.fit(run)
lpose.train.finish(run)
print(('rank %d of %d: %d steps done'):format(run.rank, run.world_size, run.step))
