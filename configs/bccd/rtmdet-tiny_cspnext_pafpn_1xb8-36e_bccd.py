# BCCD study, peer row "RTMDet-tiny (mmdet)": the model of MMDetection's own
# mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py (CSPNeXt-tiny + CSPNeXt-PAFPN 96 + RTMDetSepBNHead), changed only as
# mmdet_ghostnet/utils/mmdet_models.py says (3 classes, BN for SyncBN, no ImageNet weights), trained with the
# study's data, recipe and seed like every row of docs/accuracy.md.
_base_ = ['../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py']

import mmdet_ghostnet.utils.mmdet_models as mmdet_models  # noqa: E402 (a module: not a config entry)

model = mmdet_models.mmdet_model('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', num_classes=3)
