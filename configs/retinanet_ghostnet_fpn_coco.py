# RetinaNet with GhostNet 1.1x + Ghost-FPN on COCO 2017 (data/coco): the paper's setting (Table 8: 164M backbone
# FLOPs at 224x224, 26.6 mAP with ImageNet weights) and MMDetection's RetinaNet 1x schedule (12 epochs, SGD
# lr 0.01 for 8 GPUs x 2 images; add --auto-scale-lr for another total batch size).
#
# No ImageNet weights are released at 1.1x (the paper's width; released: GhostNet 1.0x, see docs/weights.md), so
# this config trains the backbone from scratch, which the authors warn may not converge. Give 1.1x weights with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# or use configs/retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py, which names the released 1.0x weights by URL.
_base_ = [
    './_base_/models/retinanet_ghostnet_fpn.py', 'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
