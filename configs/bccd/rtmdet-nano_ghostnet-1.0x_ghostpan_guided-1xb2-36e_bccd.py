# BCCD light recipe: the nano (GhostNet 1.0x + Ghost-PAN 96) trained with a guide, as NanoDet-Plus: a training-only
# dense head picks both heads' targets (dropped at deploy); exp_on_reg keeps the boxes valid. The recommended
# light detector. Why: docs/light_detectors.md
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2-36e_bccd.py'

model = dict(bbox_head=dict(exp_on_reg=True, guide=dict(conv_type='dense')))
