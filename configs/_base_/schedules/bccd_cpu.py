# The from-scratch CPU recipe of the BCCD study (docs/accuracy.md), the same for every row: no ImageNet weights
# (none can be fetched offline), so every stage trains, BatchNorm statistics update, AdamW with warm-up and
# cosine decay; COCO evaluation on val every 3 epochs keeps the best checkpoint (by val bbox mAP) for the test.
# Seeded: --cfg-options randomness.seed=N for another seed.
_base_ = 'mmdet::_base_/default_runtime.py'

runner_type = 'ResumableRunner'
randomness = dict(seed=0)

max_epochs = 36
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs, eta_min_ratio=0.01)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=3, max_keep_ckpts=1, save_best='coco/bbox_mAP', rule='greater'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
auto_scale_lr = dict(enable=False, base_batch_size=8)
