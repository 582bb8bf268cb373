# BCCD study, RetinaNet: GhostNetV3 1.0x + GhostFPN 64, the GhostNet row with the backbone switched to V3 (its
# re-parameterised branches folded for timing and deployment: tools/test.py --deploy). Why: docs/accuracy.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(backbone=dict(type='GhostNetV3'))
