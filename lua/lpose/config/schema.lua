-- lpose.config.schema: every config key LP reads (docs/spec/lp-data-train.md §4.9),
-- in LP's order, with its type. Type grammar: int | float (an int is fine) |
-- number | bool | string | map (free-form) | any | list<T> | A|B, and a
-- trailing ? for "null allowed" (only where LP's default is null or LP
-- documents the key optional). Flags: opt = the key may be absent (LP has a
-- code fallback or a mode choice); values = allowed strings; open = a section
-- that also takes keys we do not list (each a free-form map); lpose = a key
-- LP does not have.
local M = {}

M.sections = { 'data', 'training', 'model', 'dali', 'losses', 'eval', 'callbacks', 'hydra' }

M.backbones = {
    'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
    'resnet50_animal_apose', 'resnet50_animal_ap10k',
    'resnet50_human_jhmdb', 'resnet50_human_res_rle', 'resnet50_human_top_res', 'resnet50_human_hand',
    'efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2',
    'vits_dino', 'vits_dinov2', 'vits_dinov3', 'vitb_dino', 'vitb_dinov2', 'vitb_dinov3',
    'vitb_imagenet', 'vitb_sam', 'vitb_sam2', 'vits_sam2', 'vitt_sam2',
}
M.model_types = { 'regression', 'heatmap', 'heatmap_mhcrnn', 'heatmap_multiview_transformer' }
-- What people call the TCN, for the "did you mean" of model_type.
M.model_type_aliases = { tcn = 'heatmap_mhcrnn', heatmap_tcn = 'heatmap_mhcrnn', context = 'heatmap_mhcrnn',
    heatmap_context = 'heatmap_mhcrnn', mhcrnn = 'heatmap_mhcrnn' }
M.imgaug_presets = { 'default', 'none', 'dlc', 'dlc-lr', 'dlc-top-down', 'dlc-mv' }
-- The names model.losses_to_use accepts are not listed here: validation asks
-- the loss registry (lpose.losses.names('unsupervised'): the built-ins and
-- every loss a script registered). These are LP's losses that lpose lacks:
-- listing a not-implemented one is a config error; the multiview 3D ones load
-- (LP's multiview configs list them) and config.unsupported names them.
-- Their losses.<name> sections stay valid keys either way.
M.losses_not_implemented = { 'temporal_heatmap_mse', 'temporal_heatmap_kl' }
M.losses_multiview = { 'supervised_pairwise_projections', 'supervised_reprojection_heatmap_mse' }

local function pca(name)
    return {
        { 'losses.' .. name, 'section', opt = true },
        { 'losses.' .. name .. '.log_weight', 'float', opt = true },
        { 'losses.' .. name .. '.components_to_keep', 'number', opt = true },
        { 'losses.' .. name .. '.epsilon', 'float?', opt = true },
        { 'losses.' .. name .. '.empirical_epsilon_percentile', 'float', opt = true },
        { 'losses.' .. name .. '.empirical_epsilon_multiplier', 'float', opt = true },
        { 'losses.' .. name .. '.centering_method', 'string?', opt = true, values = { 'mean', 'median' } },
    }
end

local function temporal(name)
    return {
        { 'losses.' .. name, 'section', opt = true },
        { 'losses.' .. name .. '.log_weight', 'float', opt = true },
        { 'losses.' .. name .. '.epsilon', 'float|list<float>', opt = true },
        { 'losses.' .. name .. '.prob_threshold', 'float', opt = true },
    }
end

local keys = {
    -- data
    { 'data.image_resize_dims.height', 'int?' },
    { 'data.image_resize_dims.width', 'int?' },
    { 'data.data_dir', 'string' },
    { 'data.video_dir', 'string' },
    { 'data.csv_file', 'string|list<string>' },
    { 'data.num_keypoints', 'int?' },
    { 'data.keypoint_names', 'list<string>?' },
    { 'data.mirrored_column_matches', 'list<list<int>>?' },
    { 'data.columns_for_singleview_pca', 'list<int>?' },
    { 'data.downsample_factor', 'int', opt = true },
    { 'data.view_names', 'list<string>?', opt = true },
    { 'data.camera_params_file', 'string?', opt = true },
    { 'data.bbox_file', 'string|list<string>?', opt = true },
    { 'data.header_rows', 'list<int>?', opt = true },
    { 'data.num_targets', 'int?', opt = true },
    { 'data.allow_keypoint_name_mismatch', 'bool', opt = true, lpose = true },
    { 'data.skeleton', 'list<list<string>>?', opt = true, lpose = true },
    -- training
    { 'training.imgaug', 'string|map', values = M.imgaug_presets },
    { 'training.imgaug_hflip', 'bool', opt = true },
    { 'training.imgaug_3d', 'bool?', opt = true },
    { 'training.train_batch_size', 'int' },
    { 'training.val_batch_size', 'int' },
    { 'training.test_batch_size', 'int' },
    { 'training.train_prob', 'float' },
    { 'training.val_prob', 'float' },
    { 'training.train_frames', 'number?' },
    { 'training.num_gpus', 'int' },
    { 'training.num_workers', 'int?', opt = true },
    { 'training.unfreezing_epoch', 'int', opt = true },
    { 'training.unfreezing_step', 'int', opt = true },
    { 'training.min_epochs', 'int', opt = true },
    { 'training.max_epochs', 'int', opt = true },
    { 'training.min_steps', 'int', opt = true },
    { 'training.max_steps', 'int', opt = true },
    { 'training.log_every_n_steps', 'int' },
    { 'training.check_val_every_n_epoch', 'int', opt = true },
    { 'training.val_check_interval', 'number?', opt = true },
    { 'training.ckpt_every_n_epochs', 'int?', opt = true },
    { 'training.early_stopping', 'bool', opt = true },
    { 'training.early_stop_patience', 'int', opt = true },
    { 'training.rng_seed_data_pt', 'int' },
    { 'training.rng_seed_model_pt', 'int' },
    { 'training.optimizer', 'string', opt = true, values = { 'Adam', 'AdamW' } },
    { 'training.optimizer_params.learning_rate', 'float', opt = true },
    { 'training.lr_scheduler', 'string', opt = true, values = { 'multisteplr', 'multistep_lr' } },
    { 'training.lr_scheduler_params.multisteplr.milestones', 'list<int>', opt = true },
    { 'training.lr_scheduler_params.multisteplr.milestone_steps', 'list<int>', opt = true },
    { 'training.lr_scheduler_params.multisteplr.gamma', 'float', opt = true },
    { 'training.uniform_heatmaps_for_nan_keypoints', 'bool', opt = true },
    { 'training.limit_train_batches', 'number?', opt = true },
    { 'training.accumulate_grad_batches', 'int', opt = true },
    { 'training.profiler', 'string?', opt = true },
    { 'training.patch_mask', 'section', opt = true },
    { 'training.patch_mask.init_epoch', 'int', opt = true },
    { 'training.patch_mask.final_epoch', 'int', opt = true },
    { 'training.patch_mask.init_ratio', 'float', opt = true },
    { 'training.patch_mask.final_ratio', 'float', opt = true },
    { 'training.device', 'string', opt = true, lpose = true },
    { 'training.num_threads', 'int?', opt = true, lpose = true },
    { 'training.resume_from', 'string?', opt = true, lpose = true },
    { 'training.num_nodes', 'int', opt = true, lpose = true },
    { 'training.freeze_batchnorm', 'bool', opt = true, lpose = true },
    { 'training.sync_batchnorm', 'bool', opt = true, lpose = true },
    -- model
    { 'model.losses_to_use', 'list<string>?' },
    -- lpose: Lua files that register losses (lpose.losses.register), loaded
    -- before the loss names are checked; relative to the config file
    { 'model.loss_files', 'list<string>?', opt = true },
    { 'model.backbone', 'string', values = M.backbones },
    { 'model.model_type', 'string', values = M.model_types, aliases = M.model_type_aliases },
    { 'model.heatmap_loss_type', 'string', values = { 'mse', 'kl', 'js' } },
    { 'model.model_name', 'string' },
    { 'model.checkpoint', 'string?', opt = true },
    { 'model.backbone_pretrained', 'bool', opt = true },
    { 'model.backbone_checkpoint', 'string?', opt = true },
    { 'model.head', 'string', opt = true },
    { 'model.lightning_pose_version', 'string', opt = true },
    { 'model.backbone_weights', 'string?', opt = true, lpose = true },
    { 'model.backbone_weights_strict', 'bool', opt = true, lpose = true },
    -- dali (also the window sizes of every video reader)
    { 'dali.base.train.sequence_length', 'int' },
    { 'dali.base.predict.sequence_length', 'int' },
    { 'dali.context.train.batch_size', 'int' },
    { 'dali.context.predict.sequence_length', 'int' },
    { 'dali.general.seed', 'int', opt = true },
    -- losses: open, since custom losses (experiments/custom_loss.lua) add sections
    { 'losses', 'section', open = true },
    -- eval
    { 'eval.predict_vids_after_training', 'bool' },
    { 'eval.test_videos_directory', 'string?', opt = true },
    { 'eval.save_vids_after_training', 'bool', opt = true },
    { 'eval.colormap', 'string', opt = true },
    { 'eval.confidence_thresh_for_vid', 'float', opt = true },
    -- callbacks
    { 'callbacks.anneal_weight.attr_name', 'string' },
    { 'callbacks.anneal_weight.init_val', 'float' },
    { 'callbacks.anneal_weight.increase_factor', 'float' },
    { 'callbacks.anneal_weight.final_val', 'float' },
    { 'callbacks.anneal_weight.freeze_until_epoch', 'int' },
    -- hydra's own section, kept verbatim (model_dir reads hydra.run.dir)
    { 'hydra', 'map', opt = true },
    { 'creation_datetime', 'string', opt = true },
}
for _, name in ipairs({ 'pca_multiview', 'pca_singleview' }) do
    for _, e in ipairs(pca(name)) do keys[#keys + 1] = e end
end
for _, name in ipairs({ 'temporal', 'temporal_heatmap_mse', 'temporal_heatmap_kl' }) do
    for _, e in ipairs(temporal(name)) do keys[#keys + 1] = e end
end
for _, name in ipairs({ 'supervised_pairwise_projections', 'supervised_reprojection_heatmap_mse' }) do
    keys[#keys + 1] = { 'losses.' .. name, 'section', opt = true, open = true }
    keys[#keys + 1] = { 'losses.' .. name .. '.log_weight', 'float', opt = true }
end
M.keys = keys

-- The schema as a tree: node = {name, path, entry, children = {}, order = {}}.
-- Intermediate sections get implicit nodes; a 'section' entry only adds flags.
local function build()
    local root = { path = '', children = {}, order = {} }
    for _, e in ipairs(keys) do
        local node = root
        for part in (e[1] .. '.'):gmatch('([^.]*)%.') do
            local child = node.children[part]
            if not child then
                child = { name = part, path = node.path == '' and part or node.path .. '.' .. part,
                    children = {}, order = {} }
                node.children[part] = child
                node.order[#node.order + 1] = part
            end
            node = child
        end
        node.entry = e
    end
    return root
end
M.root = build()

-- Node for a dotted path, or nil.
function M.node(path)
    local node = M.root
    for part in (path .. '.'):gmatch('([^.]*)%.') do
        node = node.children[part]
        if not node then return nil end
    end
    return node
end

-- True for a node that holds a value (a leaf), false for a section.
function M.is_leaf(node)
    return node.entry ~= nil and node.entry[2] ~= 'section'
end

-- Every leaf key, dotted, in order.
function M.leaves()
    local out = {}
    local function walk(n)
        if M.is_leaf(n) then out[#out + 1] = n.path return end
        for _, k in ipairs(n.order) do walk(n.children[k]) end
    end
    walk(M.root)
    return out
end

return M
