# Faster R-CNN with GhostNetV2 1.0x + Ghost-FPN on COCO 2017: faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py with the backbone
# type switched (same taps and channels) and the authors' GhostNetV2 1.0x ImageNet weights, named by their URL
# (downloaded on first use and cached). Offline, give the file (or timm's ghostnetv2_100 weights, same names):
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ck_ghostnetv2_10.pth.tar      (see docs/weights.md)
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py'

checkpoint = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/GhostNetV2/ck_ghostnetv2_10.pth.tar'  # noqa: E501
model = dict(backbone=dict(type='GhostNetV2', init_cfg=dict(checkpoint=checkpoint)))
