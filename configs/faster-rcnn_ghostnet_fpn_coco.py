# Faster R-CNN with GhostNet 1.1x + Ghost-FPN on COCO 2017 (data/coco): the paper's setting (Table 8: 164M
# backbone FLOPs at 224x224, 26.9 mAP with ImageNet weights) and MMDetection's Faster R-CNN 1x schedule
# (12 epochs, SGD lr 0.02 for 8 GPUs x 2 images; add --auto-scale-lr for another total batch size).
#
# ImageNet weights: --cfg-options model.backbone.init_cfg.checkpoint=PATH (see retinanet_ghostnet_fpn_coco.py).
_base_ = [
    './_base_/models/faster-rcnn_ghostnet_fpn.py', 'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
