# Faster R-CNN, GhostNet 1.0x + GhostFPN 256 on COCO 2017, 1x: faster-rcnn_ghostnet_fpn_coco.py at the width of the
# released ImageNet weights (ghostnet_1x.pth, fetched by URL on first use; offline: docs/weights.md).
# Runs: docs/training.md
_base_ = './faster-rcnn_ghostnet_fpn_coco.py'

checkpoint = 'https://github.com/huawei-noah/CV-backbones/releases/download/ghostnet_pth/ghostnet_1x.pth'  # noqa: E501
model = dict(
    backbone=dict(widen_factor=1.0, init_cfg=dict(checkpoint=checkpoint)),
    neck=dict(in_channels=[24, 40, 112, 160]))  # GhostNet(widen_factor=1.0).out_channels
