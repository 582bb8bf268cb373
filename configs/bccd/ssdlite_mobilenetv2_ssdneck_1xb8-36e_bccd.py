# BCCD study, peer row "SSDLite-MobileNetV2 (mmdet)": the model of MMDetection's own
# mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py (MobileNetV2 + SSDNeck + depthwise SSDHead), changed only as
# mmdet_ghostnet/utils/mmdet_models.py says (3 classes), trained with the
# study's data, recipe and seed like every row of docs/accuracy.md.
_base_ = ['../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py']

import mmdet_ghostnet.utils.mmdet_models as mmdet_models  # noqa: E402 (a module: not a config entry)

model = mmdet_models.mmdet_model('mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py', num_classes=3)
