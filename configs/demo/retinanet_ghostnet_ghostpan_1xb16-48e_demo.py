# Offline CPU demo: RetinaNet, GhostNet 1.0x from scratch + GhostFPN 64 (BN, bottom-up path), 64-channel head,
# on the generated 128x128 shapes (tools/make_demo_data.py -> data/demo), 48 epochs AdamW. docs/get_started.md
_base_ = [
    '../_base_/models/retinanet_ghostnet_fpn.py', '../_base_/datasets/demo_shapes.py',
    '../_base_/schedules/demo_cpu.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

model = dict(
    backbone={{_base_.demo_backbone}},
    neck={{_base_.demo_neck}},
    bbox_head=dict(
        num_classes=3,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        anchor_generator=dict(octave_base_scale=2)),
    test_cfg=dict(max_per_img=20))
