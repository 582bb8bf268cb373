# The light GhostNet detector (configs/_base_/models/rtmdet_ghostnet_ghostpan.py) on the offline demo set: the
# demo's GhostNet 1.0x from scratch, 64-channel Ghost-PAN and head for 128x128 images, the demo's schedule.
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
