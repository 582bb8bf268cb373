# BCCD light study, row "GhostNet 1.0x, nano trained with a guide" (docs/light_detectors.md), on the light recipe:
# rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2-36e_bccd.py trained as NanoDet-Plus trains its light head: a training-only
# guide head (RTMDet's dense 3x3 tower convs, 96 channels, on the same Ghost-PAN features) picks the targets of both
# heads (GhostSepBNHead's ``guide``). The nano loses to the control on platelets, the small class, with the same
# GhostNet taps and (ruled out) neither Ghost-PAN's bottom-up path, a dense head nor width as the cause: this row
# asks whether the light head's own early predictions, which pick its targets, are. The deployed network is the
# nano's (fuse_for_deploy drops the guide) but for one exp: the box distances are exp(conv) * stride (RTMDet-m's
# exp_on_reg) instead of conv * stride, which can be negative: the nano's head picks its own targets among its valid
# boxes, but among the guide's picks the nano's boxes can be inverted, where GIoU loss falls below zero without bound
# (its box loss was below zero within the first 100 iterations).
# Result: test mAP 0.602 (0.596-0.609) over three seeds against the nano's 0.590 (0.580-0.596), higher at each seed,
# at 54 ms deployed against the control's 59 (docs/light_detectors.md): issue 24's goal.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2-36e_bccd.py'

model = dict(bbox_head=dict(exp_on_reg=True, guide=dict(conv_type='dense')))
