# BCCD study, RetinaNet row "mmdet's MobileNetV2 + FPN", tapped at the ends of the stride 4/8/16/32 levels
# (layer2, layer3, layer5, layer7) as GhostNet is, from scratch.
_base_ = './retinanet_ghostnet-1.0x_fpn_1xb8-36e_bccd.py'

model = dict(backbone={{_base_.mobilenetv2_scratch}}, neck=dict(in_channels={{_base_.mobilenetv2_channels}}))
