# BCCD study, RetinaNet: mmdet's MobileNetV2 + FPN 64, tapped at strides 4/8/16/32 as GhostNet, from scratch.
# Why: docs/accuracy.md
_base_ = './retinanet_ghostnet-1.0x_fpn_1xb8-36e_bccd.py'

model = dict(backbone={{_base_.mobilenetv2_scratch}}, neck=dict(in_channels={{_base_.mobilenetv2_channels}}))
