# BCCD study, light GhostNet detector (nano): GhostNet 1.0x + Ghost-PAN 96 + GhostSepBNHead
# (configs/_base_/models/rtmdet_ghostnet_ghostpan.py), from scratch on the study's recipe. Why: docs/light_detectors.md
_base_ = [
    '../_base_/models/rtmdet_ghostnet_ghostpan.py', '../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py',
    '../_base_/models/scratch_backbones.py'
]

model = dict(backbone=dict(init_cfg={{_base_.scratch_init}}), bbox_head=dict(num_classes=3))
