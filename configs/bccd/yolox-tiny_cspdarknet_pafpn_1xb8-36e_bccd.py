# BCCD study, peer row "YOLOX-tiny (mmdet)": the model of MMDetection's own
# mmdet::yolox/yolox_tiny_8xb8-300e_coco.py (CSPDarknet 0.33/0.375 + YOLOX-PAFPN 96 + YOLOXHead), changed only as
# mmdet_ghostnet/utils/mmdet_models.py says (3 classes, no multi-scale batch resizing), trained with the
# study's data, recipe and seed like every row of docs/accuracy.md.
_base_ = ['../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py']

import mmdet_ghostnet.utils.mmdet_models as mmdet_models  # noqa: E402 (a module: not a config entry)

model = mmdet_models.mmdet_model('mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', num_classes=3)
