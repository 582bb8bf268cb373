# BCCD study, Faster R-CNN row "GhostNet 1.0x + mmdet's FPN": the default row with the neck swapped, to isolate
# what GhostFPN costs or gains against the plain FPN (same width, norm and activation).
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(neck=dict(type='FPN'))
