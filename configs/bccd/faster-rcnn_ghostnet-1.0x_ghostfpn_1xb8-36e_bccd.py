# BCCD study, Faster R-CNN row "GhostNet 1.0x + GhostFPN" (the plugin's default pairing), from scratch on CPU.
# Every Faster R-CNN row of docs/accuracy.md inherits this file and replaces only the backbone and/or the neck:
# same RPN and RoI heads (64 channels, a 256-wide shared FC head, sized for 2 CPU cores), data, recipe and seed.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py',
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
        num_outs=5,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')),
    rpn_head=dict(in_channels=neck_channels, feat_channels=neck_channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels, fc_out_channels=256, num_classes=3)))
