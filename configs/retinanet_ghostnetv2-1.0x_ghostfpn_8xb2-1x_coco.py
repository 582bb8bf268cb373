# RetinaNet, GhostNetV2 1.0x + GhostFPN 256 on COCO 2017, 1x: the 1.0x config with the backbone switched to V2
# and the authors' V2 ImageNet weights by URL (offline: docs/weights.md). Runs: docs/training.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py'

checkpoint = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/GhostNetV2/ck_ghostnetv2_10.pth.tar'  # noqa: E501
model = dict(backbone=dict(type='GhostNetV2', init_cfg=dict(checkpoint=checkpoint)))
