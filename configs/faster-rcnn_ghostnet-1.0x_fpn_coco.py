# Faster R-CNN with GhostNet 1.0x + Ghost-FPN on COCO 2017, for the released 1.0x ImageNet weights:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/state_dict_73.98.pth
_base_ = './faster-rcnn_ghostnet_fpn_coco.py'

model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=[24, 40, 112, 160]))  # GhostNet(widen_factor=1.0).out_channels
