from typing import Optional

import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from .conv_norm_act import conv_norm_act
from .ghost_module import GhostModule
from .rep_conv_norm import RepConvNorm
from .squeeze_excite import SqueezeExcite


class GhostBottleneck(BaseModule):
    """Ghost bottleneck: expand with a Ghost module, (downsample), (SE), project with a linear Ghost module.

    ``out = ghost2(se(bn_dw(conv_dw(ghost1(x))))) + shortcut(x)``, with no activation after the sum. The
    stride-2 depthwise conv and SE are present only when ``stride == 2`` and ``se_ratio > 0``. The shortcut is
    the identity when shapes allow, else depthwise ``dw_kernel_size`` conv (stride) + norm + 1x1 conv + norm.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)``.

    Args:
        in_channels, mid_channels, out_channels: Channels of the input, the expansion and the output.
        dw_kernel_size: Kernel of the depthwise convs (3 or 5 in GhostNet).
        stride: 1 or 2.
        se_ratio: Squeeze-excite reduction; 0 disables SE.
        dfc_attention: Gate the first Ghost module with DFC attention (GhostNetV2), see :class:`DFCAttention`.
        rep_branches: If > 0, train the Ghost modules' convs and the stride-2 depthwise conv as that many
            re-parameterised branches (GhostNetV3), see :class:`RepConvNorm`.
        with_cp: Trade compute for memory with ``torch.utils.checkpoint`` during training.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 dw_kernel_size: int = 3,
                 stride: int = 1,
                 se_ratio: float = 0.,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 dfc_attention: bool = False,
                 rep_branches: int = 0,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if stride not in (1, 2):
            raise ValueError(f'stride={stride!r} is invalid: GhostBottleneck supports 1 or 2')
        self.stride = stride
        self.with_cp = with_cp
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.ghost1 = GhostModule(
            in_channels, mid_channels, act_cfg=act_cfg, dfc_attention=dfc_attention, rep_branches=rep_branches,
            **common)
        if stride > 1 and rep_branches:
            self.conv_dw = RepConvNorm(
                mid_channels, mid_channels, dw_kernel_size, stride, mid_channels, rep_branches, **common)
            self.bn_dw = nn.Identity()  # the branches end with their own norms
        elif stride > 1:
            self.conv_dw = build_conv_layer(
                conv_cfg,
                mid_channels,
                mid_channels,
                dw_kernel_size,
                stride=stride,
                padding=dw_kernel_size // 2,
                groups=mid_channels,
                bias=False)
            self.bn_dw = build_norm_layer(norm_cfg, mid_channels)[1]
        self.se = SqueezeExcite(mid_channels, se_ratio, act_cfg) if se_ratio > 0 else None
        self.ghost2 = GhostModule(mid_channels, out_channels, act_cfg=None, rep_branches=rep_branches, **common)
        if in_channels == out_channels and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                *conv_norm_act(
                    in_channels, in_channels, dw_kernel_size, stride, groups=in_channels, act_cfg=None,
                    **common),
                *conv_norm_act(in_channels, out_channels, 1, act_cfg=None, **common))

    def forward(self, x: Tensor) -> Tensor:

        def _inner_forward(x: Tensor) -> Tensor:
            out = self.ghost1(x)
            if self.stride > 1:
                out = self.bn_dw(self.conv_dw(out))
            if self.se is not None:
                out = self.se(out)
            return self.ghost2(out) + self.shortcut(x)

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(_inner_forward, x, use_reentrant=False)
        return _inner_forward(x)
