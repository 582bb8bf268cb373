# BCCD study, Faster R-CNN: mmdet's ResNet-18 + FPN 64, from scratch. Why: docs/accuracy.md
_base_ = './faster-rcnn_ghostnet-1.0x_fpn_1xb8-36e_bccd.py'

model = dict(backbone={{_base_.resnet18_scratch}}, neck=dict(in_channels={{_base_.resnet18_channels}}))
