# The offline CPU demo: RetinaNet + GhostNet 1.0x + Ghost-FPN (with the bottom-up path) trained from scratch on
# the generated shapes set (tools/make_demo_data.py -> data/demo), evaluated with COCO bbox mAP.
# A small model for 128x128 images: 64-channel neck and head with BN, anchors one octave smaller than COCO's
# (objects are 18-58 px); no ImageNet weights offline, hence AdamW and every stage trainable.
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
