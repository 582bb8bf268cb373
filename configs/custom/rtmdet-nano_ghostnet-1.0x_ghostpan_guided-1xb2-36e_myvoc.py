# Your own VOC-layout data (Annotations/*.xml, JPEGImages/*.jpg, ImageSets/Main/{train,val}.txt) with the
# recommended detector, the guided nano, fine-tuned from its BCCD weights or from scratch: copy this file and
# change the four settings below (why and how: docs/training.md, "Your own data with the recommended detector").
_base_ = '../bccd/rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd.py'

data_root = 'data/myvoc/'  # the folder that holds Annotations/, JPEGImages/ and ImageSets/Main/
classes = ('cat', 'dog')  # the <name>s of the XML objects; the head and its guide get len(classes) classes
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
    # 'instances': the ground truth that CocoMetric converts (there is no COCO JSON)
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'instances'))
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(sub_data_root=''),
                 ann_file='ImageSets/Main/train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(sub_data_root=''),
                 ann_file='ImageSets/Main/val.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
