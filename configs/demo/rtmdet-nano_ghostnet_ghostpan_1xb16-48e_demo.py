# Offline CPU demo: the light GhostNet detector, GhostNet 1.0x from scratch + Ghost-PAN 64 + GhostSepBNHead 64,
# on the generated 128x128 shapes (data/demo), 48 epochs AdamW. Why: docs/light_detectors.md, docs/get_started.md
_base_ = [
    '../_base_/models/rtmdet_ghostnet_ghostpan.py', '../_base_/datasets/demo_shapes.py',
    '../_base_/schedules/demo_cpu.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
runner_type = 'ResumableRunner'

model = dict(
    backbone={{_base_.demo_backbone}},
    neck=dict(out_channels=64, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')),
    bbox_head=dict(num_classes=3, in_channels=64, feat_channels=64),
    test_cfg=dict(max_per_img=20))
