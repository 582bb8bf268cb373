# Light RetinaNet for 320x320 input on COCO 2017, 1x: GhostNet 1.0x (ImageNet weights by URL) + a 96-channel
# GhostFPN with the bottom-up path (Ghost-PAN), 96-channel head with 2 convs. Why: docs/light_detectors.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py'

image_size = (320, 320)
model = dict(
    neck=dict(out_channels=96, bottom_up=True),
    bbox_head=dict(in_channels=96, feat_channels=96, stacked_convs=2))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=image_size, allow_negative_crop=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
