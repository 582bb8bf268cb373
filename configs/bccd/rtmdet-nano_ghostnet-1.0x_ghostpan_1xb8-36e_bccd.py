# BCCD study, light detector row "GhostNet 1.0x + Ghost-PAN + GhostSepBNHead (nano)", from scratch on CPU: the
# study's data, recipe and seed (as every row of docs/accuracy.md), the model of
# configs/_base_/models/rtmdet_ghostnet_ghostpan.py with the study's from-scratch initialisation.
_base_ = [
    '../_base_/models/rtmdet_ghostnet_ghostpan.py', '../_base_/datasets/bccd.py', '../_base_/schedules/bccd_cpu.py',
    '../_base_/models/scratch_backbones.py'
]

model = dict(backbone=dict(init_cfg={{_base_.scratch_init}}), bbox_head=dict(num_classes=3))
