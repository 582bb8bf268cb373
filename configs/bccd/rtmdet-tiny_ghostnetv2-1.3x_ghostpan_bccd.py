# BCCD study, light detector row "GhostNetV2 1.3x + Ghost-PAN 128 + GhostSepBNHead, dense towers (tiny)", from
# scratch on CPU: the nano row with the tiny size of configs/rtmdet-tiny_ghostnetv2-1.3x_ghostpan_640_coco.py.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_bccd.py'

neck_channels = 128
model = dict(
    backbone=dict(type='GhostNetV2', widen_factor=1.3),
    neck=dict(in_channels=[52, 144, 208], out_channels=neck_channels),  # GhostNetV2(widen_factor=1.3) channels
    bbox_head=dict(conv_type='dense', in_channels=neck_channels, feat_channels=neck_channels))
