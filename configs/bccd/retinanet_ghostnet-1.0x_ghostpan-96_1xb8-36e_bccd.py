# BCCD study, RetinaNet row "light variant": as configs/retinanet_ghostnet-1.0x_ghostpan-96_8xb2-1x-320_coco.py, a
# 96-channel GhostFPN with the PAN-style bottom-up path and a 96-channel head (2 stacked convs).
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

model = dict(
    neck=dict(out_channels=96, bottom_up=True),
    bbox_head=dict(in_channels=96, feat_channels=96))
