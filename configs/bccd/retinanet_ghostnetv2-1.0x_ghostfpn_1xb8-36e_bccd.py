# BCCD study, RetinaNet: GhostNetV2 1.0x + GhostFPN 64, the GhostNet row with the backbone switched to V2.
# Why: docs/accuracy.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(backbone=dict(type='GhostNetV2'))
