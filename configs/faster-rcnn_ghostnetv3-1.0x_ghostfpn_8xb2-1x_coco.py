# Faster R-CNN, GhostNetV3 1.0x + GhostFPN 256 on COCO 2017, 1x: the 1.0x config with the backbone switched to V3
# and the authors' V3 ImageNet weights by URL (offline: docs/weights.md). Trains V3's re-parameterised branches;
# test with tools/test.py ... --deploy to fold them. Runs: docs/training.md
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py'

checkpoint = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/GhostNetV3/ghostnetv3-1.0.pth.tar'  # noqa: E501
model = dict(backbone=dict(type='GhostNetV3', init_cfg=dict(checkpoint=checkpoint)))
