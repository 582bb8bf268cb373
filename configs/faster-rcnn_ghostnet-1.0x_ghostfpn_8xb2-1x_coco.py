# Faster R-CNN with GhostNet 1.0x + Ghost-FPN on COCO 2017, with the released 1.0x ImageNet weights named by their
# URL (downloaded on first use and cached). Offline, give the file:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ghostnet_1x.pth      (see docs/weights.md)
_base_ = './faster-rcnn_ghostnet_fpn_coco.py'

checkpoint = 'https://github.com/huawei-noah/CV-backbones/releases/download/ghostnet_pth/ghostnet_1x.pth'  # noqa: E501
model = dict(
    backbone=dict(widen_factor=1.0, init_cfg=dict(checkpoint=checkpoint)),
    neck=dict(in_channels=[24, 40, 112, 160]))  # GhostNet(widen_factor=1.0).out_channels
