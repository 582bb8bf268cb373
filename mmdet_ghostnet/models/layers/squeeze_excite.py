from typing import Optional

from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from .conv_norm_act import inplace_act_cfg
from .make_divisible import make_divisible


class SqueezeExcite(BaseModule):
    """Channel attention of GhostNet: ``x * hard_sigmoid(expand(act(reduce(avgpool(x)))))``.

    ``hard_sigmoid(x) = relu6(x + 3) / 6``. The reduced width is ``make_divisible(channels * se_ratio, 4)``.
    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
    """

    def __init__(self,
                 channels: int,
                 se_ratio: float = 0.25,
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        reduced = make_divisible(channels * se_ratio, 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv_reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.act = build_activation_layer(inplace_act_cfg(act_cfg))
        self.conv_expand = nn.Conv2d(reduced, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(self.conv_expand(self.act(self.conv_reduce(self.pool(x)))))
