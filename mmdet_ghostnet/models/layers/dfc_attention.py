from typing import Optional, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from .conv_norm_act import conv_norm_act


class DFCAttention(nn.Sequential):
    """Decoupled fully connected (DFC) attention of GhostNetV2: a gate in (0, 1) computed from a Ghost module's input.

    ``gate = upsample(sigmoid(bn(conv_5x1(bn(conv_1x5(bn(conv(avgpool_2x2(x)))))))), size)``: at half resolution, a
    ``kernel_size`` conv to ``out_channels``, then depthwise 1x5 and 5x1 convs that gather context along rows and
    columns, each followed by a norm; the sigmoid gate is nearest-upsampled to the Ghost module's output size.
    Children are numbered as the official checkpoint's ``short_conv`` (conv, norm, conv, norm, conv, norm).

    Shapes: ``(N, in_channels, H, W)`` and ``size=(H', W')`` -> ``(N, out_channels, H', W')``; H and W must be >= 2.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN')) -> None:
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
        super().__init__(
            *conv_norm_act(in_channels, out_channels, kernel_size, stride, **common),
            *conv_norm_act(out_channels, out_channels, (1, 5), groups=out_channels, **common),
            *conv_norm_act(out_channels, out_channels, (5, 1), groups=out_channels, **common))

    def forward(self, x: Tensor, size: Sequence[int]) -> Tensor:
        gate = super().forward(F.avg_pool2d(x, kernel_size=2, stride=2))
        return F.interpolate(gate.sigmoid(), size=tuple(size), mode='nearest')
