# Faster R-CNN + GhostNet 1.0x + Ghost-FPN trained from scratch on the generated shapes set (data/demo), for
# CPU: 64-channel neck with BN, RPN and RoI heads sized for 128x128 images with 3 classes.
_base_ = [
    '../_base_/models/faster-rcnn_ghostnet_fpn.py', '../_base_/datasets/demo_shapes.py',
    '../_base_/schedules/demo_cpu.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        widen_factor=1.0,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ]),
    neck=dict(
        in_channels=[24, 40, 112, 160],  # GhostNet(widen_factor=1.0).out_channels
        out_channels=64,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=3)),
    test_cfg=dict(rcnn=dict(max_per_img=20)))
