# Light GhostNet detector, nano, on COCO 2017: RTMDet-style, GhostNet 1.0x (ImageNet weights by URL) + Ghost-PAN 96
# + depthwise GhostSepBNHead; RTMDet-tiny's 300-epoch recipe (mosaic, mixup, EMA) at 416x416. Not trained here.
# Why, cost and commands: docs/light_detectors.md
_base_ = './rtmdet-tiny_ghostnetv2-1.3x_ghostpan_8xb32-300e_coco.py'

checkpoint = 'https://github.com/huawei-noah/CV-backbones/releases/download/ghostnet_pth/ghostnet_1x.pth'  # noqa: E501
neck_channels = 96
model = dict(
    backbone=dict(type='GhostNet', widen_factor=1.0, init_cfg=dict(checkpoint=checkpoint)),
    neck=dict(in_channels=[40, 112, 160], out_channels=neck_channels),  # GhostNet(widen_factor=1.0) channels
    bbox_head=dict(conv_type='depthwise', in_channels=neck_channels, feat_channels=neck_channels))

# RTMDet-tiny's pipelines with every 640 (and 1280 = 2 x 640) scaled to 416.
image_size = (416, 416)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CachedMosaic', img_scale=image_size, pad_val=114.0, max_cached_images=20, random_pop=False),
    dict(type='RandomResize', scale=(832, 832), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=image_size),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='CachedMixUp', img_scale=image_size, ratio_range=(1.0, 1.0), max_cached_images=10, random_pop=False,
         pad_val=(114, 114, 114), prob=0.5),
    dict(type='PackDetInputs')
]
train_pipeline_stage2 = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=image_size),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True, priority=49),
    dict(type='PipelineSwitchHook', switch_epoch=280, switch_pipeline=train_pipeline_stage2)
]
