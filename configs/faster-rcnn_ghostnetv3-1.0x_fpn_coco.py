# Faster R-CNN with GhostNetV3 1.0x + Ghost-FPN on COCO 2017: faster-rcnn_ghostnet-1.0x_fpn_coco.py with the backbone
# type switched (same taps and channels). It trains with GhostNetV3's re-parameterised branches; test folded with
# tools/test.py ... --deploy. ImageNet weights (official ghostnetv3-1.0.pth.tar or timm's ghostnetv3_100) load as
# they are:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ghostnetv3-1.0.pth.tar
_base_ = './faster-rcnn_ghostnet-1.0x_fpn_coco.py'

model = dict(backbone=dict(type='GhostNetV3'))
