from mmdet.registry import MODELS

from .ghostnet import GhostNet


@MODELS.register_module()
class GhostNetV2(GhostNet):
    """GhostNetV2 backbone (Tang et al., "GhostNetV2: Enhance Cheap Operation with Long-Range Attention",
    NeurIPS 2022).

    GhostNet V1 with DFC attention (:class:`~mmdet_ghostnet.models.layers.DFCAttention`): from the third bottleneck
    on (``blocks.2`` onwards), the first Ghost module's output is multiplied by a gate computed from the bottleneck's
    input at half resolution, whose 1x5 and 5x1 depthwise convs see whole rows and columns. Everything else, and
    so every argument, the stage numbering, the default taps and ``out_channels``, is that of :class:`GhostNet`.

    Parameter names equal those of the official checkpoints (``ck_ghostnetv2_{10,13,16}.pth.tar``) and of timm's
    ``ghostnetv2_{100,130,160}``: ``init_cfg=dict(type='Pretrained', checkpoint=...)`` loads them as they are.

    The gate pools by 2: every tapped level must be at least 2 pixels high and wide (input >= 33 px for stride 32).
    """

    dfc_attention_from = 2
