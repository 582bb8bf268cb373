# BCCD study, Faster R-CNN: GhostNet 1.0x + mmdet's FPN 64 (BN), the GhostFPN row with only the neck swapped, to
# isolate what GhostFPN costs or gains. Why: docs/accuracy.md
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(neck=dict(type='FPN'))
