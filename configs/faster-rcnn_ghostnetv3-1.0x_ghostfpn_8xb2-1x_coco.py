# Faster R-CNN with GhostNetV3 1.0x + Ghost-FPN on COCO 2017: faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py with the backbone
# type switched (same taps and channels) and the authors' GhostNetV3 1.0x ImageNet weights, named by their URL
# (downloaded on first use and cached). It trains with GhostNetV3's re-parameterised branches; test folded with
# tools/test.py ... --deploy. Offline, give the file (or timm's ghostnetv3_100 weights):
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ghostnetv3-1.0.pth.tar      (see docs/weights.md)
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py'

checkpoint = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/GhostNetV3/ghostnetv3-1.0.pth.tar'  # noqa: E501
model = dict(backbone=dict(type='GhostNetV3', init_cfg=dict(checkpoint=checkpoint)))
