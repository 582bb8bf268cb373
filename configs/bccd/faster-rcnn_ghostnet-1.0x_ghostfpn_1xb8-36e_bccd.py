# BCCD study, Faster R-CNN: GhostNet 1.0x + GhostFPN 64 (BN), 64-channel RPN and RoI heads, from scratch, 36 epochs
# AdamW, batches of 8. Every Faster R-CNN row inherits it and swaps only backbone and/or neck. Why: docs/accuracy.md
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
