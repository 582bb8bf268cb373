# The paper's detection backbone (GhostNet 1.1x tapped at the ends of the stride 4/8/16/32 levels) and the plugin,
# shared by the RetinaNet and Faster R-CNN model bases as ``{{_base_.ghostnet_backbone}}``.
custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
# The plugin's runner: atomic checkpoint writes and exact resumption of random streams (see docs/reliability.md).
runner_type = 'ResumableRunner'

ghostnet_backbone = dict(
    _delete_=True,  # replaces the ResNet of the mmdet model base
    type='GhostNet',
    widen_factor=1.1,
    out_indices=(3, 5, 7, 9),  # ends of the stride 4/8/16/32 levels, the paper's FPN taps
    frozen_stages=1,  # stem and blocks.0, as ResNet's frozen_stages=1 freezes its stem and first stage
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    # No ImageNet weights are released at 1.1x (docs/weights.md): from scratch unless checkpoint=PATH is given
    init_cfg=dict(type='Pretrained', checkpoint=None))
ghostnet_channels = [28, 44, 124, 176]  # GhostNet(widen_factor=1.1).out_channels
