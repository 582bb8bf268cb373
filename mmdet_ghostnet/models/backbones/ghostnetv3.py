from mmdet.registry import MODELS

from .ghostnetv2 import GhostNetV2


@MODELS.register_module()
class GhostNetV3(GhostNetV2):
    """GhostNetV3 backbone (Liu et al., "GhostNetV3: Exploring the Training Strategies for Compact Models", 2024).

    GhostNetV2 trained in a re-parameterised form: in every bottleneck the primary and cheap convs of both Ghost
    modules and the stride-2 depthwise conv are each a sum of 3 conv + BN branches, plus a 1x1 "scale" branch
    (kernels > 1) and a BN identity branch where shapes allow
    (:class:`~mmdet_ghostnet.models.layers.RepConvNorm`). :func:`mmdet_ghostnet.fuse_for_deploy` (or
    ``tools/test.py --deploy``, ``FuseConvBNHook``) folds each sum into one conv: the folded network computes the
    same function with the parameters and multiply-adds of a folded :class:`GhostNetV2` of the same width.
    Arguments, stage numbering, default taps and ``out_channels`` are those of :class:`GhostNet`.

    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads the official ``ghostnetv3-1.0.pth.tar`` and timm's
    ``ghostnetv3_*`` weights (training form) as they are; their branch names are mapped to this module's.
    """

    rep_branches = 3
