# Faster R-CNN with GhostNet 1.1x + Ghost-FPN: MMDetection's Faster R-CNN-R50-FPN model with the backbone and
# neck replaced.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py', './ghostnet-1.1x_fpn_taps.py']

model = dict(
    backbone={{_base_.ghostnet_backbone}},
    neck=dict(type='GhostFPN', in_channels={{_base_.ghostnet_channels}}, out_channels=256, num_outs=5))
