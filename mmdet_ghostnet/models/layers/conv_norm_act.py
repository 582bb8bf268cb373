from typing import Optional, Tuple, Union

from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from torch import nn

from .rep_conv_norm import RepConvNorm


def conv_norm_act(in_channels: int,
                  out_channels: int,
                  kernel_size: Union[int, Tuple[int, int]],
                  stride: int = 1,
                  groups: int = 1,
                  conv_cfg: Optional[dict] = None,
                  norm_cfg: Optional[dict] = dict(type='BN'),
                  act_cfg: Optional[dict] = dict(type='ReLU'),
                  rep_branches: int = 0) -> nn.Sequential:
    """``Sequential(conv, [norm], [act])`` with 'same' padding; the conv has a bias only without a norm.

    Indexed children (``0`` conv, ``1`` norm) keep the parameter names of the official GhostNet checkpoint.
    The activation runs in place where it can, as in ``mmcv.cnn.ConvModule`` (and timm).

    With ``rep_branches > 0`` the conv and norm are its re-parameterised alternative, ``Sequential(RepConvNorm,
    [act])`` with that many training branches (GhostNetV3), which ``fuse_for_deploy`` folds into one conv.
    """
    if rep_branches:
        layers = [RepConvNorm(in_channels, out_channels, kernel_size, stride, groups, rep_branches, conv_cfg, norm_cfg)]
    else:
        layers = [
            build_conv_layer(
                conv_cfg,
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=_same_padding(kernel_size),
                groups=groups,
                bias=norm_cfg is None)
        ]
        if norm_cfg is not None:
            layers.append(build_norm_layer(norm_cfg, out_channels)[1])
    if act_cfg is not None:
        layers.append(build_activation_layer(inplace_act_cfg(act_cfg)))
    return nn.Sequential(*layers)


def _same_padding(kernel_size: Union[int, Tuple[int, int]]) -> Union[int, Tuple[int, int]]:
    """Padding that keeps the size of a stride-1 conv with an odd ``kernel_size`` (int or ``(kh, kw)``)."""
    if isinstance(kernel_size, tuple):
        return tuple(size // 2 for size in kernel_size)
    return kernel_size // 2


# Activations that take no ``inplace`` argument (the list mmcv's ConvModule uses).
NOT_INPLACE = ('Tanh', 'PReLU', 'Sigmoid', 'HSigmoid', 'Swish', 'GELU')


def inplace_act_cfg(act_cfg: dict) -> dict:
    """``act_cfg`` with ``inplace=True`` unless it says otherwise or the activation has no such option."""
    act_cfg = dict(act_cfg)
    if act_cfg['type'] not in NOT_INPLACE:
        act_cfg.setdefault('inplace', True)
    return act_cfg
