# BCCD study, RetinaNet row "GhostNetV2 1.0x + GhostFPN": the default row with the backbone's version switched
# (same widths, taps and out_channels as V1).
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(backbone=dict(type='GhostNetV2'))
