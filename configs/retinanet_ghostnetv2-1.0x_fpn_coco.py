# RetinaNet with GhostNetV2 1.0x + Ghost-FPN on COCO 2017: retinanet_ghostnet-1.0x_fpn_coco.py with the backbone type
# switched (same taps and channels). ImageNet weights (official ck_ghostnetv2_10.pth.tar or timm's ghostnetv2_100)
# load as they are:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ck_ghostnetv2_10.pth.tar
_base_ = './retinanet_ghostnet-1.0x_fpn_coco.py'

model = dict(backbone=dict(type='GhostNetV2'))
