# BCCD light study, row "GhostNet 1.0x, nano with a dense head" (docs/light_detectors.md), on the light recipe:
# rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py with dense 3x3 tower convs in the head (RTMDet's own head,
# conv_type='dense') instead of depthwise-separable ones, at 64 channels in Ghost-PAN and the head instead of 96 to
# stay below the GhostNet + GhostFPN RetinaNet control's latency (1.14 instead of 0.73 G multiply-adds at 384x512;
# the control: 1.29). The rows with dense heads (the control, YOLOX-tiny, RTMDet-tiny) had the best AP on small
# boxes, the rows with depthwise ones (the nano, SSDLite) the worst: this row asks whether the head is the cause.
# It is not: test mAP 0.591 (0.582-0.599) over three seeds against the nano's 0.590 (0.580-0.596), small-box AP
# 0.25-0.36 against 0.26-0.32, at 1.04x the nano's deployed latency; the light rows keep the depthwise head.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py'

neck_channels = 64
model = dict(
    neck=dict(out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels, feat_channels=neck_channels, conv_type='dense'))
