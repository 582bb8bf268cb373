# RetinaNet with GhostNet 1.0x + Ghost-FPN on COCO 2017: the width of the released GhostNet V1 ImageNet weights
# (ghostnet_1x.pth = state_dict_73.98.pth, 73.98% top-1), named by their URL: downloaded on first use into
# torch.hub's cache (~/.cache/torch/hub/checkpoints) and loaded strictly. Offline, give the file:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH/ghostnet_1x.pth      (see docs/weights.md)
_base_ = './retinanet_ghostnet_fpn_coco.py'

checkpoint = 'https://github.com/huawei-noah/CV-backbones/releases/download/ghostnet_pth/ghostnet_1x.pth'  # noqa: E501
model = dict(
    backbone=dict(widen_factor=1.0, init_cfg=dict(checkpoint=checkpoint)),
    neck=dict(in_channels=[24, 40, 112, 160]))  # GhostNet(widen_factor=1.0).out_channels
