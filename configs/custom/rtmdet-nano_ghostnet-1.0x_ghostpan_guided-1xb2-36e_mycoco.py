# Your own COCO-layout data (annotations/*.json and image folders) with the recommended detector, the guided
# nano, fine-tuned from its BCCD weights or from scratch: copy this file and change the four settings below
# (why and how: docs/training.md, "Your own data with the recommended detector").
_base_ = '../bccd/rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd.py'

data_root = 'data/mycoco/'  # the folder that holds annotations/{train,val}.json, train/ and val/
classes = ('cat', 'dog')  # category names of the JSON files; the head and its guide get len(classes) classes
image_size = (512, 384)  # (width, height) the images are resized to, keeping their aspect ratio
load_from = 'checkpoints/rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd.pth'  # None: from scratch

metainfo = dict(classes=classes, palette=None)  # palette None: seeded random colours for painting
model = dict(bbox_head=dict(num_classes=len(classes)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    # 7/8, 1 and 9/8 of image_size, as the BCCD recipe's three scales
    dict(type='RandomChoiceResize', scales=[(image_size[0] * k // 8, image_size[1] * k // 8) for k in (7, 8, 9)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),  # horizontal; BCCD's vertical and diagonal flips suit microscopy only
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/train.json', data_prefix=dict(img='train/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/val.json', data_prefix=dict(img='val/'), test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
