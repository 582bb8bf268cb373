# The light GhostNet detector: light end to end, from MMDetection's own one-stage parts.
#   backbone  GhostNet 1.0x tapped at strides 8/16/32 (40/112/160 channels)
#   neck      Ghost-PAN = GhostFPN(bottom_up=True): 1x1 laterals, top-down and bottom-up paths of Ghost
#             separable convs (depthwise 3x3 + Ghost 1x1), 96 channels, 3 levels
#   head      GhostSepBNHead: RTMDet's head (towers shared across levels, BatchNorm per level) with
#             depthwise-separable tower convs, 96 channels, 2 per tower
#   training  RTMDet's DynamicSoftLabelAssigner, QualityFocalLoss and GIoULoss on point priors
# This is the nano size (0.67 G multiply-adds at 416x416, NanoDet-Plus-m's budget is 1.52 G), from scratch, as
# the BCCD configs train it; configs/rtmdet-{nano,tiny}_*_coco.py are the COCO configs of both sizes, with
# ImageNet weights. docs/light_detectors.md has the costs, the commands and the results.

neck_channels = 96
model = dict(
    type='RTMDet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        batch_augments=None),
    backbone=dict(
        type='GhostNet',
        widen_factor=1.0,
        out_indices=(5, 7, 9),  # ends of the stride 8/16/32 levels
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=None)),
    neck=dict(
        type='GhostFPN',
        in_channels=[40, 112, 160],  # GhostNet(widen_factor=1.0).out_channels at out_indices (5, 7, 9)
        out_channels=neck_channels,
        num_outs=3,
        bottom_up=True,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')),
    bbox_head=dict(
        type='GhostSepBNHead',
        num_classes=80,
        in_channels=neck_channels,
        feat_channels=neck_channels,
        stacked_convs=2,
        conv_type='depthwise',
        share_conv=True,
        pred_kernel_size=1,
        exp_on_reg=False,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        with_objectness=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')),
    train_cfg=dict(
        assigner=dict(type='DynamicSoftLabelAssigner', topk=13), allowed_border=-1, pos_weight=-1, debug=False),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6),
                  max_per_img=100))
