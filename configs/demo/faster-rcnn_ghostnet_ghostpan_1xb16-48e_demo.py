# Offline CPU demo: Faster R-CNN, GhostNet 1.0x from scratch + GhostFPN 64 (BN, bottom-up path), 64-channel
# RPN and RoI heads, on the generated 128x128 shapes (data/demo), 48 epochs AdamW. docs/get_started.md
_base_ = [
    '../_base_/models/faster-rcnn_ghostnet_fpn.py', '../_base_/datasets/demo_shapes.py',
    '../_base_/schedules/demo_cpu.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

model = dict(
    backbone={{_base_.demo_backbone}},
    neck={{_base_.demo_neck}},
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=3)),
    test_cfg=dict(rcnn=dict(max_per_img=20)))
