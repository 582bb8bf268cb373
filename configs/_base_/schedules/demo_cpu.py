# A short from-scratch schedule for the demo set on CPU: AdamW, linear warm-up, cosine decay; checkpoints and
# COCO evaluation every 12 epochs; progress logged every 10 iterations; gloo for multi-process CPU runs.
# Seeded, so that a fresh `make demo` gives the README's figures (--cfg-options randomness.seed=N for others).
# Also the GhostNet 1.0x backbone and 64-channel Ghost-FPN (with the bottom-up path) settings that both demo detectors use, as
# ``{{_base_.demo_backbone}}`` and ``{{_base_.demo_neck}}``.
_base_ = 'mmdet::_base_/default_runtime.py'

# From scratch (there are no ImageNet weights offline): every stage trains and BatchNorm statistics update.
demo_backbone = dict(
    widen_factor=1.0,
    frozen_stages=-1,
    norm_eval=False,
    init_cfg=[dict(type='Kaiming', layer='Conv2d'),
              dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])])
demo_neck = dict(
    in_channels=[24, 40, 112, 160],  # GhostNet(widen_factor=1.0).out_channels
    out_channels=64,
    norm_cfg=dict(type='BN'),
    act_cfg=dict(type='ReLU'),
    bottom_up=True)

randomness = dict(seed=0)

max_epochs = 48
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=12)
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
    checkpoint=dict(type='CheckpointHook', interval=12, max_keep_ckpts=2, save_best='coco/bbox_mAP', rule='greater'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
auto_scale_lr = dict(enable=False, base_batch_size=16)
