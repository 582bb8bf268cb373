# BCCD blood-cell detection (Shenggan/BCCD_Dataset, MIT licence): 364 microscope images of 640x480, 3 classes,
# PASCAL VOC layout, published splits train / val / test = 205 / 87 / 72 images. Train on train, select
# checkpoints on val, report on test, with COCO-style bbox mAP (pycocotools through mmdet's CocoMetric, ground
# truth converted from the XML files, per-class AP included).
#   data_root: $BCCD_ROOT if set, else data/bccd/ (a clone of the public repository: data/bccd/BCCD/...).
# Any other VOC-layout dataset works the same way: change data_root, sub_data_root and metainfo.classes.
# CheckedVOCDataset (mmdet_ghostnet.datasets) drops and counts boxes that cannot be trained on (BCCD has two
# degenerate ones) and logs how many and why.
# The dataset class lives in mmdet_ghostnet.datasets (kept out of 'import mmdet_ghostnet', which stays light).
custom_imports = dict(imports=['mmdet_ghostnet', 'mmdet_ghostnet.datasets'], allow_failed_imports=False)
data_root = '{{$BCCD_ROOT:data/bccd/}}'
sub_data_root = 'BCCD/'
metainfo = dict(classes=('RBC', 'WBC', 'Platelets'), palette=[(220, 20, 60), (0, 90, 255), (250, 170, 30)])
image_size = (512, 384)  # 0.8 of the native 640x480

# Microscopy has no up or down: flips in both axes (and both) multiply the 205 training images.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    # Three scales, not a continuous range: each new input shape costs oneDNN a fresh set of conv kernels on CPU.
    dict(type='RandomChoiceResize', scales=[(448, 336), image_size, (576, 432)], keep_ratio=True),
    dict(type='RandomFlip', prob=[0.25, 0.25, 0.25], direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    # 'instances': the raw ground truth, which CocoMetric converts to COCO format (there is no COCO JSON).
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'instances'))
]


def split(name):
    return f'{sub_data_root}ImageSets/Main/{name}.txt'


train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='CheckedVOCDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=split('train'),
        data_prefix=dict(sub_data_root=sub_data_root),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CheckedVOCDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file=split('val'),
        data_prefix=dict(sub_data_root=sub_data_root),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file=split('test')))
val_evaluator = dict(type='CocoMetric', metric='bbox', classwise=True)
test_evaluator = val_evaluator
