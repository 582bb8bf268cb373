import math
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

from .conv_norm_act import conv_norm_act
from .dfc_attention import DFCAttention


class GhostModule(BaseModule):
    """Ghost module: a few intrinsic maps from a primary conv, the rest from a cheap depthwise conv.

    ``primary_conv`` maps ``in_channels`` to ``ceil(out_channels / ratio)`` intrinsic channels with a
    ``kernel_size`` conv; ``cheap_operation`` derives ``ratio - 1`` "ghost" maps from each of them with a
    ``dw_size`` depthwise conv. Both are concatenated and cut to ``out_channels``.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel of the primary conv (1 in GhostNet).
        ratio: ``s`` of the paper: one intrinsic map per ``ratio`` outputs.
        dw_size: Kernel ``d`` of the cheap depthwise conv.
        stride: Stride of the primary conv.
        conv_cfg, norm_cfg: As in ``mmcv.cnn.ConvModule``.
        act_cfg: Activation after both convs; ``None`` for a linear module (the paper's second Ghost module).
        dfc_attention: Multiply the output by a :class:`DFCAttention` gate computed from the input (GhostNetV2).
        rep_branches: If > 0, train both convs as that many re-parameterised branches (GhostNetV3), see
            :class:`RepConvNorm`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 ratio: int = 2,
                 dw_size: int = 3,
                 stride: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 dfc_attention: bool = False,
                 rep_branches: int = 0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if not (isinstance(ratio, int) and ratio >= 2):
            raise ValueError(f'ratio={ratio!r} is invalid: it must be an int >= 2')
        self.out_channels = out_channels
        intrinsic_channels = math.ceil(out_channels / ratio)
        # Only a width that ratio does not divide needs the cut (kept out of exported graphs where it is a no-op).
        self.cut_to_width = intrinsic_channels * ratio != out_channels
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, rep_branches=rep_branches)
        self.primary_conv = conv_norm_act(in_channels, intrinsic_channels, kernel_size, stride, **common)
        self.cheap_operation = conv_norm_act(
            intrinsic_channels,
            intrinsic_channels * (ratio - 1),
            dw_size,
            groups=intrinsic_channels,
            **common)
        # Named as in the official GhostNetV2 checkpoint.
        self.short_conv = (
            DFCAttention(in_channels, out_channels, kernel_size, stride, conv_cfg, norm_cfg) if dfc_attention else None)

    def forward(self, x: Tensor) -> Tensor:
        intrinsic = self.primary_conv(x)
        ghosts = self.cheap_operation(intrinsic)
        out = torch.cat([intrinsic, ghosts], dim=1)
        if self.cut_to_width:
            out = out[:, :self.out_channels]
        if self.short_conv is not None:
            out = out * self.short_conv(x, out.shape[-2:])
        return out
