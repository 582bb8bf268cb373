"""Re-parameterisable conv + norm (GhostNetV3, after RepVGG and MobileOne): parallel branches while training, one
conv with bias for inference. The only place where training branches are built and folded."""
from collections import OrderedDict
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class RepConvNorm(BaseModule):
    """``norm(conv(x))`` trained as a sum of parallel branches and folded into a single conv for inference.

    The branches of GhostNetV3 (named as in its official checkpoint):

    - ``rpr_conv``: ``num_branches`` ``kernel_size`` conv + norm branches;
    - ``rpr_scale``: a 1x1 conv + norm branch, when ``kernel_size > 1``;
    - ``rpr_skip``: a norm-only identity branch, when ``in_channels == out_channels`` and ``stride == 1``.

    Their outputs are summed. In eval mode the sum is one affine function of the input, which :meth:`fold` returns
    as a ``kernel_size`` conv with bias (``fuse_for_deploy`` does this for a whole model).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.

    Args:
        in_channels, out_channels, kernel_size, stride, groups: As for the conv it stands for (odd ``kernel_size``).
        num_branches: Number of ``kernel_size`` conv + norm branches (3 in GhostNetV3).
        conv_cfg, norm_cfg: As in ``mmcv.cnn.ConvModule``; folding needs BatchNorm.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 groups: int = 1,
                 num_branches: int = 3,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if isinstance(num_branches, bool) or not isinstance(num_branches, int) or num_branches < 1:
            raise ValueError(f'num_branches={num_branches!r} is invalid: it must be an int >= 1')
        if not (isinstance(kernel_size, int) and kernel_size % 2 == 1):
            raise ValueError(f'kernel_size={kernel_size!r} is invalid: RepConvNorm needs an odd int')
        if norm_cfg is None:
            raise ValueError('norm_cfg=None is invalid: every RepConvNorm branch ends with a norm layer')
        self.kernel_size = kernel_size

        def conv_norm(size: int) -> nn.Sequential:
            conv = build_conv_layer(
                conv_cfg, in_channels, out_channels, size, stride=stride, padding=size // 2, groups=groups, bias=False)
            return nn.Sequential(OrderedDict(conv=conv, bn=build_norm_layer(norm_cfg, out_channels)[1]))

        self.rpr_conv = nn.ModuleList(conv_norm(kernel_size) for _ in range(num_branches))
        self.rpr_scale = conv_norm(1) if kernel_size > 1 else None
        self.rpr_skip = (
            build_norm_layer(norm_cfg, out_channels)[1] if in_channels == out_channels and stride == 1 else None)

    def forward(self, x: Tensor) -> Tensor:
        # Summed in the order of the reference implementations: scale, identity, then the conv branches.
        out = self.rpr_scale(x) if self.rpr_scale is not None else 0
        if self.rpr_skip is not None:
            out = out + self.rpr_skip(x)
        for branch in self.rpr_conv:
            out = out + branch(x)
        return out

    @torch.no_grad()
    def fold(self) -> nn.Conv2d:
        """The ``kernel_size`` conv with bias equal to this module in eval mode (BatchNorm running statistics)."""
        template = self.rpr_conv[0].conv
        pad = self.kernel_size // 2
        weight, bias = 0, 0
        for branch in self.rpr_conv:
            branch_weight, branch_bias = _fold_norm(branch.conv.weight, branch.bn)
            weight, bias = weight + branch_weight, bias + branch_bias
        if self.rpr_scale is not None:
            scale_weight, scale_bias = _fold_norm(self.rpr_scale.conv.weight, self.rpr_scale.bn)
            weight, bias = weight + F.pad(scale_weight, [pad] * 4), bias + scale_bias
        if self.rpr_skip is not None:
            # The identity as a conv: a centred 1 from each output channel to the same channel within its group.
            identity = torch.zeros_like(template.weight)
            channels = torch.arange(identity.shape[0])
            identity[channels, channels % identity.shape[1], pad, pad] = 1
            skip_weight, skip_bias = _fold_norm(identity, self.rpr_skip)
            weight, bias = weight + skip_weight, bias + skip_bias
        folded = nn.Conv2d(
            template.in_channels,
            template.out_channels,
            template.kernel_size,
            stride=template.stride,
            padding=template.padding,
            groups=template.groups,
            bias=True,
            device=template.weight.device,
            dtype=template.weight.dtype)
        folded.weight.copy_(weight)
        folded.bias.copy_(bias)
        return folded.train(self.training)


def _fold_norm(weight: Tensor, norm: nn.Module) -> Tuple[Tensor, Tensor]:
    """Weight and bias of the conv equal to ``norm(conv(x))`` for a bias-free conv of ``weight``, in eval mode."""
    if not isinstance(norm, _BatchNorm):
        raise TypeError(f'cannot fold a {type(norm).__name__} into a conv: RepConvNorm.fold needs BatchNorm '
                        "branches (norm_cfg=dict(type='BN') or 'SyncBN')")
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return weight * scale.reshape(-1, 1, 1, 1), norm.bias - norm.running_mean * scale


def fold_rep_convs(model: nn.Module) -> nn.Module:
    """Replace every :class:`RepConvNorm` inside ``model`` by its folded conv (in place); return ``model``."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, RepConvNorm):
                setattr(parent, name, child.fold())
    return model
