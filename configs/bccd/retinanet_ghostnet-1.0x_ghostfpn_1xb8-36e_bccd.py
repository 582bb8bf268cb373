# BCCD study, RetinaNet: GhostNet 1.0x + GhostFPN 64 (BN), 64-channel head with 2 convs, from scratch, 36 epochs
# AdamW, batches of 8. Every RetinaNet row inherits it and swaps only backbone and/or neck. Why: docs/accuracy.md
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
