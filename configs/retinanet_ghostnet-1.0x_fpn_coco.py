# RetinaNet with GhostNet 1.0x + Ghost-FPN on COCO 2017: the width of the only released ImageNet weights
# (state_dict_73.98.pth / ghostnet_1x.pth, 73.98% top-1), which load as they are:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/state_dict_73.98.pth
_base_ = './retinanet_ghostnet_fpn_coco.py'

model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=[24, 40, 112, 160]))  # GhostNet(widen_factor=1.0).out_channels
