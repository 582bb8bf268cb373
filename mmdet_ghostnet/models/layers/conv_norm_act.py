from typing import Optional

from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from torch import nn


def conv_norm_act(in_channels: int,
                  out_channels: int,
                  kernel_size: int,
                  stride: int = 1,
                  groups: int = 1,
                  conv_cfg: Optional[dict] = None,
                  norm_cfg: Optional[dict] = dict(type='BN'),
                  act_cfg: Optional[dict] = dict(type='ReLU')) -> nn.Sequential:
    """``Sequential(conv, [norm], [act])`` with 'same' padding; the conv has a bias only without a norm.

    Indexed children (``0`` conv, ``1`` norm) keep the parameter names of the official GhostNet checkpoint.
    The activation runs in place where it can, as in ``mmcv.cnn.ConvModule`` (and timm).
    """
    layers = [
        build_conv_layer(
            conv_cfg,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=norm_cfg is None)
    ]
    if norm_cfg is not None:
        layers.append(build_norm_layer(norm_cfg, out_channels)[1])
    if act_cfg is not None:
        layers.append(build_activation_layer(inplace_act_cfg(act_cfg)))
    return nn.Sequential(*layers)


# Activations that take no ``inplace`` argument (the list mmcv's ConvModule uses).
NOT_INPLACE = ('Tanh', 'PReLU', 'Sigmoid', 'HSigmoid', 'Swish', 'GELU')


def inplace_act_cfg(act_cfg: dict) -> dict:
    """``act_cfg`` with ``inplace=True`` unless it says otherwise or the activation has no such option."""
    act_cfg = dict(act_cfg)
    if act_cfg['type'] not in NOT_INPLACE:
        act_cfg.setdefault('inplace', True)
    return act_cfg
