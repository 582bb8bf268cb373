# BCCD study, RetinaNet row "GhostNet 1.0x + GhostFPN" (the plugin's default pairing), from scratch on CPU.
# Every RetinaNet row of docs/accuracy.md inherits this file and replaces only the backbone and/or the neck:
# same head (64 channels, 2 stacked convs, sized for 2 CPU cores), data, recipe and seed.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py',
    '../_base_/models/scratch_backbones.py'
]

neck_channels = 64
model = dict(
    backbone={{_base_.ghostnet_scratch}},
    neck=dict(
        _delete_=True,
        type='GhostFPN',
        in_channels={{_base_.ghostnet_channels}},
        out_channels=neck_channels,
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')),
    bbox_head=dict(num_classes=3, in_channels=neck_channels, feat_channels=neck_channels, stacked_convs=2))
