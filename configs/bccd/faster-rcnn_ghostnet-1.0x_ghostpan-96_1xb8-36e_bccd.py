# BCCD study, Faster R-CNN light variant: GhostNet 1.0x + GhostFPN 96 with the bottom-up path (Ghost-PAN) and
# 96-channel RPN and RoI heads. Why: docs/accuracy.md
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(
    neck=dict(out_channels=96, bottom_up=True),
    rpn_head=dict(in_channels=96, feat_channels=96),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=96), bbox_head=dict(in_channels=96)))
