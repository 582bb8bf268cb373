# BCCD study, peer: MMDetection's own YOLOX-tiny (CSPDarknet + YOLOX-PAFPN 96), changed only as
# mmdet_ghostnet/utils/mmdet_models.py says, on the study's recipe. Why: docs/light_detectors.md, docs/accuracy.md
_base_ = ['../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py']

import mmdet_ghostnet.utils.mmdet_models as mmdet_models  # noqa: E402 (a module: not a config entry)

model = mmdet_models.mmdet_model('mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', num_classes=3)
