# RetinaNet with GhostNet 1.1x + Ghost-FPN: MMDetection's RetinaNet-R50-FPN model with the backbone and neck
# replaced, as the GhostNet authors did ("just replaced the backbone").
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py', './ghostnet-1.1x_fpn_taps.py']

model = dict(
    backbone={{_base_.ghostnet_backbone}},
    neck=dict(
        type='GhostFPN',
        in_channels={{_base_.ghostnet_channels}},
        out_channels=256,
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5))
