# Light GhostNet detector, tiny, on COCO 2017: MMDetection's RTMDet-tiny (300 epochs at 640x640, mosaic, mixup, EMA)
# with GhostNetV2 1.3x (ImageNet weights by URL) + Ghost-PAN 128 + dense GhostSepBNHead. Not trained here.
# Why, cost and commands: docs/light_detectors.md
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
runner_type = 'ResumableRunner'

checkpoint = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download/GhostNetV2/ck_ghostnetv2_13.pth.tar'  # noqa: E501
neck_channels = 128
model = dict(
    # GhostNet's ImageNet weights expect RGB images normalised with ImageNet's mean and std
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='GhostNetV2',
        widen_factor=1.3,
        out_indices=(5, 7, 9),  # ends of the stride 8/16/32 levels
        frozen_stages=-1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(
        _delete_=True,
        type='GhostFPN',
        in_channels=[52, 144, 208],  # GhostNetV2(widen_factor=1.3).out_channels at out_indices (5, 7, 9)
        out_channels=neck_channels,
        num_outs=3,
        bottom_up=True,
        norm_cfg=dict(type='SyncBN'),
        act_cfg=dict(type='ReLU')),
    bbox_head=dict(
        type='GhostSepBNHead', conv_type='dense', in_channels=neck_channels, feat_channels=neck_channels,
        act_cfg=dict(type='ReLU')))
