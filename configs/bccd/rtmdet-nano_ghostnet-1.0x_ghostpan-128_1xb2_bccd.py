# BCCD light study, row "GhostNet 1.0x + Ghost-PAN 128 + GhostSepBNHead (nano, 128 channels)" on the light recipe:
# rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py with 128 channels instead of 96 in Ghost-PAN and the head (as
# NanoDet-Plus-m-1.5x widens NanoDet-Plus-m), spending the latency the nano leaves below the GhostNet + GhostFPN
# RetinaNet control (0.89 instead of 0.73 G multiply-adds at 384x512).
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py'

neck_channels = 128
model = dict(
    neck=dict(out_channels=neck_channels), bbox_head=dict(in_channels=neck_channels, feat_channels=neck_channels))
