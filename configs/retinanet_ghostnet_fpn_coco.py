# RetinaNet, GhostNet 1.1x (the paper's width) + GhostFPN 256 (the paper had a plain FPN) on COCO 2017, MMDetection's
# 1x (SGD lr 0.01 for 8 GPUs x 2 images). No ImageNet weights are released at 1.1x: from scratch unless
# --cfg-options model.backbone.init_cfg.checkpoint=PATH. Why: docs/accuracy.md, docs/weights.md, docs/training.md
_base_ = [
    './_base_/models/retinanet_ghostnet_fpn.py', 'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
