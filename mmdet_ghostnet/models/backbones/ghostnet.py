import logging
from numbers import Real
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from mmdet.registry import MODELS
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers import GhostBottleneck, inplace_act_cfg, make_divisible
from .official_weights import load_official_weights


class ConvNormAct(BaseModule):
    """``act1(bn1(conv(x)))``: the final 1x1 conv of GhostNet, named as in the official checkpoint."""

    def __init__(self, in_channels: int, out_channels: int, conv_cfg: Optional[dict], norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        self.conv = build_conv_layer(conv_cfg, in_channels, out_channels, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act1 = build_activation_layer(inplace_act_cfg(act_cfg))

    def forward(self, x: Tensor) -> Tensor:
        return self.act1(self.bn1(self.conv(x)))


# Initialisation without pretrained weights, as mmdet's MobileNetV2.
DEFAULT_INIT_CFG = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


@MODELS.register_module()
class GhostNet(BaseModule):
    """GhostNet V1 backbone (Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020).

    Parameter names equal those of the official checkpoint (and timm's ``ghostnet_*``), so released ImageNet
    weights load through ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with no conversion.

    Stages (``out_indices`` / ``frozen_stages`` count them), channels at 1.0x:

    ======  ==============  ======  ========
    index   module          stride  channels
    ======  ==============  ======  ========
    0       stem            2       16
    1-2     blocks.0-1      2, 4    16, 24
    3       blocks.2        4       24
    4-5     blocks.3-4      8       40
    6-7     blocks.5-6      16      80, 112
    8-9     blocks.7-8      32      160
    10      blocks.9 (1x1)  32      960
    ======  ==============  ======  ========

    The default ``out_indices=(3, 5, 7, 9)`` are the ends of the stride 4/8/16/32 levels, the taps the paper's
    authors fed to FPN. Stages after the last selected one are not built (and their checkpoint keys ignored).

    Args:
        widen_factor: Width multiplier (0.5, 1.0, 1.1, 1.3 are common); channels are rounded to multiples of 4.
        out_indices: Strictly increasing stage indices in ``[0, 10]`` whose outputs are returned.
        frozen_stages: Stages ``0..frozen_stages`` are frozen (eval mode, no grad); -1 freezes nothing.
        conv_cfg, norm_cfg, act_cfg: Layer configs, as in mmcv's ``ConvModule``.
        norm_eval: Keep BatchNorm layers in eval mode while training (freezes running stats).
        with_cp: Use ``torch.utils.checkpoint`` in every bottleneck to save memory.
        init_cfg: Initialisation; ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` loads official, timm
            or plugin weights strictly (the ImageNet classifier head is ignored).

    Shapes: ``(N, 3, H, W)`` -> tuple of ``(N, out_channels[i], ceil(H / s_i), ceil(W / s_i))``.
    """

    # One row per bottleneck: kernel, expansion (mid) channels, out channels, SE ratio, stride.
    # One list per stage group ``blocks.i``. The final 1x1 conv (``blocks.9``) widens to the last expansion.
    arch_settings = [
        [[3, 16, 16, 0, 1]],
        [[3, 48, 24, 0, 2]],
        [[3, 72, 24, 0, 1]],
        [[5, 72, 40, 0.25, 2]],
        [[5, 120, 40, 0.25, 1]],
        [[3, 240, 80, 0, 2]],
        [[3, 200, 80, 0, 1], [3, 184, 80, 0, 1], [3, 184, 80, 0, 1], [3, 480, 112, 0.25, 1],
         [3, 672, 112, 0.25, 1]],
        [[5, 672, 160, 0.25, 2]],
        [[5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1], [5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1]],
    ]
    stem_channels = 16
    num_stages = len(arch_settings) + 2  # stem, bottleneck groups, final 1x1 conv
    # What the later versions change, set by their subclasses: the first bottleneck (counted flat from 0) whose
    # first Ghost module has DFC attention (None: none), and the number of re-parameterised training branches
    # of each conv in the bottlenecks (0: plain convs).
    dfc_attention_from: Optional[int] = None
    rep_branches: int = 0

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (3, 5, 7, 9),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = DEFAULT_INIT_CFG) -> None:
        super().__init__(init_cfg)
        self.widen_factor = _check_widen_factor(widen_factor)
        self.out_indices = _check_out_indices(out_indices, self.num_stages)
        if not (isinstance(frozen_stages, int) and -1 <= frozen_stages < self.num_stages):
            raise ValueError(f'frozen_stages={frozen_stages!r} is invalid: it must be an int in '
                             f'[-1, {self.num_stages - 1}] (-1 freezes nothing, 0 the stem)')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        channels = make_divisible(self.stem_channels * widen_factor, 4)
        self.conv_stem = build_conv_layer(conv_cfg, 3, channels, 3, stride=2, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.act1 = build_activation_layer(inplace_act_cfg(act_cfg))
        stage_channels = [channels]

        self.blocks = nn.Sequential()
        last_stage = self.out_indices[-1]
        block_index = 0
        for rows in self.arch_settings[:last_stage]:
            group = []
            for kernel, mid, out, se_ratio, stride in rows:
                out_channels = make_divisible(out * widen_factor, 4)
                group.append(
                    GhostBottleneck(
                        channels,
                        make_divisible(mid * widen_factor, 4),
                        out_channels,
                        kernel,
                        stride,
                        se_ratio,
                        dfc_attention=self.dfc_attention_from is not None and block_index >= self.dfc_attention_from,
                        rep_branches=self.rep_branches,
                        with_cp=with_cp,
                        **common))
                channels = out_channels
                block_index += 1
            self.blocks.append(nn.Sequential(*group))
            stage_channels.append(channels)
        if last_stage == self.num_stages - 1:
            final_channels = make_divisible(self.arch_settings[-1][-1][1] * widen_factor, 4)
            self.blocks.append(nn.Sequential(ConvNormAct(channels, final_channels, **common)))
            stage_channels.append(final_channels)

        self.out_channels: Tuple[int, ...] = tuple(stage_channels[i] for i in self.out_indices)
        self._freeze_stages()

    def init_weights(self) -> None:
        """Load ``init_cfg``'s Pretrained checkpoint strictly, or apply the other initialisers.

        ``dict(type='Pretrained', checkpoint=None)`` (what the configs ship, for users to fill in with
        ``--cfg-options model.backbone.init_cfg.checkpoint=PATH``) falls back to ``DEFAULT_INIT_CFG`` with a
        warning: the paper's authors report that detection from scratch may not converge.
        """
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
        elif cfg.get('checkpoint'):
            load_official_weights(
                self, cfg['checkpoint'], prefix=cfg.get('prefix'), map_location=cfg.get('map_location', 'cpu'))
            self._is_init = True
        else:
            print_log(
                f'{type(self).__name__}: init_cfg has no checkpoint, training from scratch. Pass ImageNet weights with '
                '--cfg-options model.backbone.init_cfg.checkpoint=PATH for COCO.',
                logger='current',
                level=logging.WARNING)
            self.init_cfg = DEFAULT_INIT_CFG
            try:
                super().init_weights()
            finally:
                self.init_cfg = cfg

    def _stages(self) -> List[nn.Module]:
        """Built stages in order: the stem, then every ``blocks.i``."""
        return [nn.Sequential(self.conv_stem, self.bn1, self.act1), *self.blocks]

    def _freeze_stages(self) -> None:
        for stage in self._stages()[:self.frozen_stages + 1]:
            stage.eval()
            for param in stage.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'GhostNet':
        """Switch mode, keeping frozen stages (and all BatchNorms when ``norm_eval``) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.act1(self.bn1(self.conv_stem(x)))
        outs = [x] if 0 in self.out_indices else []
        for index, group in enumerate(self.blocks, start=1):
            x = group(x)
            if index in self.out_indices:
                outs.append(x)
        # NCHW outputs even when the weights are channels-last (deploy mode): necks and mmcv ops expect them.
        return tuple(out.contiguous() for out in outs)


def _check_widen_factor(widen_factor: float) -> float:
    if isinstance(widen_factor, bool) or not isinstance(widen_factor, Real) or not widen_factor > 0:
        raise ValueError(f'widen_factor={widen_factor!r} is invalid: it must be a number > 0 '
                         '(0.5, 1.0, 1.1 and 1.3 are the common widths)')
    return float(widen_factor)


def _check_out_indices(out_indices: Sequence[int], num_stages: int) -> Tuple[int, ...]:
    allowed = f'a non-empty, strictly increasing sequence of ints in [0, {num_stages - 1}]'
    if isinstance(out_indices, int) or not isinstance(out_indices, Sequence):
        raise TypeError(f'out_indices={out_indices!r} is invalid: it must be {allowed}')
    indices = tuple(out_indices)
    if (not indices or any(isinstance(i, bool) or not isinstance(i, int) for i in indices)
            or any(not 0 <= i < num_stages for i in indices)
            or any(a >= b for a, b in zip(indices, indices[1:]))):
        raise ValueError(f'out_indices={out_indices!r} is invalid: it must be {allowed}')
    return indices
