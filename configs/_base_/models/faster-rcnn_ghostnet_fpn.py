# Faster R-CNN with GhostNet 1.1x + Ghost-FPN: MMDetection's Faster R-CNN-R50-FPN model with the backbone and
# neck replaced.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
# The plugin's runner: atomic checkpoint writes and exact resumption of random streams (see the README).
runner_type = 'ResumableRunner'

model = dict(
    backbone=dict(
        _delete_=True,
        type='GhostNet',
        widen_factor=1.1,
        out_indices=(3, 5, 7, 9),  # ends of the stride 4/8/16/32 levels, the paper's FPN taps
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        # ImageNet weights: --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint=None)),
    neck=dict(
        type='GhostFPN',
        in_channels=[28, 44, 124, 176],  # GhostNet(widen_factor=1.1).out_channels
        out_channels=256,
        num_outs=5))
