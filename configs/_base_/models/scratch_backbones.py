# Backbones of the BCCD study, from scratch (no ImageNet weights offline): every stage trains, BatchNorm in
# training mode, Kaiming convs. Each is tapped at the ends of its stride 4/8/16/32 levels; ``*_channels`` are the
# neck's in_channels. Used as ``backbone={{_base_.ghostnet_scratch}}`` (``_delete_`` replaces a base's backbone).
scratch_init = [dict(type='Kaiming', layer='Conv2d'), dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
scratch = dict(_delete_=True, frozen_stages=-1, norm_eval=False, init_cfg=scratch_init)

ghostnet_scratch = dict(scratch, type='GhostNet', widen_factor=1.0, out_indices=(3, 5, 7, 9))
ghostnet_channels = [24, 40, 112, 160]
mobilenetv2_scratch = dict(scratch, type='MobileNetV2', out_indices=(1, 2, 4, 6))  # layer2, 3, 5, 7
mobilenetv2_channels = [24, 32, 96, 320]
resnet18_scratch = dict(scratch, type='ResNet', depth=18, out_indices=(0, 1, 2, 3), style='pytorch')
resnet18_channels = [64, 128, 256, 512]
