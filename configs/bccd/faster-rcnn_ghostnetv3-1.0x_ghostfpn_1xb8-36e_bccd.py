# BCCD study, Faster R-CNN row "GhostNetV3 1.0x + GhostFPN": the default row with the backbone's version switched
# (same widths, taps and out_channels as V1).
# V3 trains with its re-parameterised branches; for the latency column (and deployment) they are folded:
# tools/test.py --deploy, or mmdet_ghostnet.fuse_for_deploy.
_base_ = './faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(backbone=dict(type='GhostNetV3'))
