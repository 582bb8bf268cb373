from typing import List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import GhostSeparableConv

EXTRA_CONV_SOURCES = ('on_input', 'on_lateral', 'on_output')
# F.interpolate's keyword arguments that upsample_cfg may set, and its modes for 4-D inputs.
UPSAMPLE_ARGUMENTS = ('mode', 'scale_factor', 'align_corners', 'recompute_scale_factor', 'antialias')
UPSAMPLE_MODES = ('nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area')
LAYER_CFG_EXAMPLES = dict(conv_cfg="dict(type='Conv2d')", norm_cfg="dict(type='BN')", act_cfg="dict(type='ReLU')")


@MODELS.register_module()
class GhostFPN(BaseModule):
    """FPN whose 3x3 convs are Ghost separable convs: a drop-in replacement for mmdet's ``FPN``.

    Same constructor and forward as ``mmdet.models.necks.FPN``: 1x1 lateral convs, a nearest-upsampling
    top-down path, then one conv per output level and stride-2 convs for extra levels. Each of the dense 3x3
    convs (outputs and extra levels) becomes a :class:`GhostSeparableConv` (depthwise 3x3 + Ghost 1x1), which
    cuts the neck's multiply-adds to under a tenth of FPN's at 256 channels.

    With ``bottom_up=True`` a PAN-style bottom-up path follows (as in PAFPN / NanoDet's Ghost-PAN): each level
    adds a stride-2 Ghost separable conv of the level below, then another Ghost separable conv refines it.

    Args:
        in_channels: Channels of each backbone output (e.g. ``GhostNet(...).out_channels``).
        out_channels: Channels of every output level.
        num_outs: Number of output levels.
        start_level, end_level: Backbone levels used (``end_level=-1``: up to the last).
        add_extra_convs: ``False`` (extra levels by max-pool), ``True`` (= 'on_input'), or the source of the
            first extra conv: 'on_input', 'on_lateral' or 'on_output'.
        relu_before_extra_convs: ReLU before every extra conv after the first.
        no_norm_on_lateral: No norm in the lateral convs.
        conv_cfg, norm_cfg, act_cfg: Layer configs (FPN's defaults: plain convs with bias, no activation).
        upsample_cfg: Keyword arguments of ``F.interpolate`` for the top-down path.
        bottom_up: Add the PAN-style bottom-up path.

    Shapes: inputs ``(N, in_channels[i], H_i, W_i)`` -> ``num_outs`` tensors of ``(N, out_channels, H_j, W_j)``.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 no_norm_on_lateral: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 upsample_cfg: dict = dict(mode='nearest'),
                 bottom_up: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Xavier', layer='Conv2d', distribution='uniform')) -> None:
        super().__init__(_check_init_cfg(init_cfg))
        self.in_channels = _check_in_channels(in_channels)
        self.out_channels = _check_positive_int('out_channels', out_channels)
        self.num_ins = len(self.in_channels)
        self.start_level, self.backbone_end_level = _check_levels(self.num_ins, num_outs, start_level, end_level)
        self.num_outs = num_outs
        self.end_level = end_level
        if add_extra_convs is True:
            add_extra_convs = 'on_input'
        if add_extra_convs is not False and add_extra_convs not in EXTRA_CONV_SOURCES:
            raise ValueError(f'add_extra_convs={add_extra_convs!r} is invalid: it must be a bool or one of '
                             f'{EXTRA_CONV_SOURCES}')
        self.add_extra_convs = add_extra_convs
        self.upsample_cfg = _check_upsample_cfg(upsample_cfg)
        self.relu_before_extra_convs = _check_bool('relu_before_extra_convs', relu_before_extra_convs)
        self.no_norm_on_lateral = _check_bool('no_norm_on_lateral', no_norm_on_lateral)
        self.bottom_up = _check_bool('bottom_up', bottom_up)
        for name, layer_cfg in (('conv_cfg', conv_cfg), ('norm_cfg', norm_cfg), ('act_cfg', act_cfg)):
            _check_layer_cfg(name, layer_cfg)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        used_levels = range(self.start_level, self.backbone_end_level)
        self.lateral_convs = nn.ModuleList(
            ConvModule(
                self.in_channels[i],
                out_channels,
                1,
                conv_cfg=conv_cfg,
                norm_cfg=None if no_norm_on_lateral else norm_cfg,
                act_cfg=act_cfg,
                inplace=False) for i in used_levels)
        self.fpn_convs = nn.ModuleList(GhostSeparableConv(out_channels, out_channels, **common) for _ in used_levels)
        extra_levels = num_outs - len(used_levels)
        if self.add_extra_convs:
            for i in range(extra_levels):
                source_channels = (
                    self.in_channels[self.backbone_end_level - 1]
                    if i == 0 and self.add_extra_convs == 'on_input' else out_channels)
                self.fpn_convs.append(GhostSeparableConv(source_channels, out_channels, stride=2, **common))
        if bottom_up:
            self.downsample_convs = nn.ModuleList(
                GhostSeparableConv(out_channels, out_channels, stride=2, **common) for _ in used_levels[1:])
            self.pan_convs = nn.ModuleList(
                GhostSeparableConv(out_channels, out_channels, **common) for _ in used_levels[1:])

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        if len(inputs) != self.num_ins:
            raise ValueError(f'GhostFPN got {len(inputs)} inputs but in_channels={list(self.in_channels)} '
                             f'expects {self.num_ins}')
        got = [x.shape[1] for x in inputs]
        if got != list(self.in_channels):
            raise ValueError(f'GhostFPN got inputs with channels {got} but in_channels={list(self.in_channels)}; '
                             f'set the neck in_channels to {got} (or the backbone to give those channels)')

        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            if 'scale_factor' in self.upsample_cfg:
                upsampled = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                upsampled = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + upsampled

        outs = [conv(laterals[i]) for i, conv in enumerate(self.fpn_convs[:len(laterals)])]
        if self.bottom_up:
            for i, conv in enumerate(self.downsample_convs):
                outs[i + 1] = outs[i + 1] + conv(outs[i])
            outs[1:] = [conv(x) for conv, x in zip(self.pan_convs, outs[1:])]

        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                while len(outs) < self.num_outs:
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                sources = {
                    'on_input': inputs[self.backbone_end_level - 1],
                    'on_lateral': laterals[-1],
                    'on_output': outs[-1]
                }
                outs.append(self.fpn_convs[len(laterals)](sources[self.add_extra_convs]))
                for conv in self.fpn_convs[len(laterals) + 1:]:
                    outs.append(conv(F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]))
        return tuple(outs)


def _check_bool(name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f'{name}={value!r} is invalid: it must be True or False')
    return value


def _check_positive_int(name: str, value: int) -> int:
    if not _is_int(value) or value <= 0:
        raise ValueError(f'{name}={value!r} is invalid: it must be an int > 0')
    return value


def _check_layer_cfg(name: str, cfg: Optional[dict]) -> None:
    """``conv_cfg`` / ``norm_cfg`` / ``act_cfg``: ``None`` or an mmcv layer config with a ``type``."""
    if cfg is not None and not (isinstance(cfg, dict) and 'type' in cfg):
        raise TypeError(f"{name}={cfg!r} is invalid: it must be None or a dict with a 'type', e.g. "
                        f"{LAYER_CFG_EXAMPLES[name]}")


def _check_upsample_cfg(cfg: dict) -> dict:
    """``upsample_cfg``: keyword arguments of ``F.interpolate`` other than ``size`` (set per level)."""
    if not isinstance(cfg, dict):
        raise TypeError(f'upsample_cfg={cfg!r} is invalid: it must be a dict of F.interpolate arguments, '
                        "e.g. dict(mode='nearest')")
    unknown = sorted(set(cfg) - set(UPSAMPLE_ARGUMENTS))
    if unknown:
        raise ValueError(f'upsample_cfg={cfg!r} is invalid: {unknown} are not among its allowed keys '
                         f'{UPSAMPLE_ARGUMENTS}')
    if cfg.get('mode', 'nearest') not in UPSAMPLE_MODES:
        raise ValueError(f"upsample_cfg={cfg!r} is invalid: mode={cfg['mode']!r} must be one of {UPSAMPLE_MODES}")
    return cfg.copy()


def _check_init_cfg(init_cfg: Optional[Union[dict, List[dict]]]) -> Optional[Union[dict, List[dict]]]:
    configs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    if init_cfg is not None and not all(isinstance(cfg, dict) and 'type' in cfg for cfg in configs):
        raise TypeError(f"init_cfg={init_cfg!r} is invalid: it must be None, or a dict or list of dicts with a "
                        "'type' (mmengine initialisers)")
    return init_cfg


def _check_in_channels(in_channels: Sequence[int]) -> Tuple[int, ...]:
    if (not isinstance(in_channels, (list, tuple)) or not in_channels
            or any(not _is_int(c) or c <= 0 for c in in_channels)):
        raise ValueError(f'in_channels={in_channels!r} is invalid: it must be a non-empty list of ints > 0, '
                         'one per backbone output')
    return tuple(in_channels)


def _check_levels(num_ins: int, num_outs: int, start_level: int, end_level: int) -> Tuple[int, int]:
    """Validate the level arguments as mmdet's FPN does; return ``(start_level, backbone_end_level)``."""
    if not _is_int(start_level) or not 0 <= start_level < num_ins:
        raise ValueError(f'start_level={start_level!r} is invalid: it must be an int in [0, {num_ins - 1}] '
                         f'for {num_ins} inputs')
    if not _is_int(end_level) or not (end_level == -1 or start_level <= end_level < num_ins):
        raise ValueError(f'end_level={end_level!r} is invalid: it must be -1 or an int in '
                         f'[start_level={start_level}, {num_ins - 1}]')
    if end_level in (-1, num_ins - 1):
        backbone_end_level = num_ins
        min_outs = num_ins - start_level
        if not _is_int(num_outs) or num_outs < min_outs:
            raise ValueError(f'num_outs={num_outs!r} is invalid: with {num_ins} inputs and '
                             f'start_level={start_level} it must be an int >= {min_outs}')
    else:
        backbone_end_level = end_level + 1
        if not _is_int(num_outs) or num_outs != end_level - start_level + 1:
            raise ValueError(f'num_outs={num_outs!r} is invalid: with start_level={start_level} and '
                             f'end_level={end_level} it must be {end_level - start_level + 1}')
    return start_level, backbone_end_level


def _is_int(value) -> bool:
    """An int that is not a bool (``True`` is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)
