# BCCD study, RetinaNet light variant: GhostNet 1.0x + GhostFPN 96 with the bottom-up path (Ghost-PAN) and a
# 96-channel head, as the COCO 320x320 light RetinaNet. Why: docs/accuracy.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(
    neck=dict(out_channels=96, bottom_up=True),
    bbox_head=dict(in_channels=96, feat_channels=96))
