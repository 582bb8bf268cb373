# BCCD light study, probe "the nano with 128 channels" (docs/light_detectors.md#recipe-probes-2026-12-03):
# rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py with 128 channels instead of 96 in Ghost-PAN and the head (as
# NanoDet-Plus-m-1.5x widens NanoDet-Plus-m), spending the latency the nano leaves below the GhostNet + GhostFPN
# RetinaNet control (0.89 instead of 0.73 G multiply-adds at 384x512). Test mAP 0.572 over two seeds against the
# nano's 0.588: the light rows stay at 96 channels.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py'

neck_channels = 128
model = dict(
    neck=dict(out_channels=neck_channels), bbox_head=dict(in_channels=neck_channels, feat_channels=neck_channels))
