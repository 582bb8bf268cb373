# BCCD study, Faster R-CNN row "mmdet's ResNet-18 + FPN", from scratch.
_base_ = './faster-rcnn_ghostnet-1.0x_fpn_1xb8-36e_bccd.py'

model = dict(backbone={{_base_.resnet18_scratch}}, neck=dict(in_channels={{_base_.resnet18_channels}}))
