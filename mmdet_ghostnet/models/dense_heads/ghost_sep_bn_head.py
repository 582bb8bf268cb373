from typing import Callable, Dict

from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmdet.models.dense_heads import RTMDetSepBNHead
from mmdet.registry import MODELS
from torch import nn

from ..layers import GhostSeparableConv

# The 3x3 conv of the head's towers, by ``conv_type``: (in_channels, out_channels, conv_cfg, norm_cfg, act_cfg).
TOWER_CONVS: Dict[str, Callable[..., nn.Module]] = {
    'dense': lambda cin, cout, **cfgs: ConvModule(cin, cout, 3, padding=1, **cfgs),
    'depthwise': lambda cin, cout, **cfgs: DepthwiseSeparableConvModule(cin, cout, 3, padding=1, **cfgs),
    'ghost': lambda cin, cout, **cfgs: GhostSeparableConv(cin, cout, 3, **cfgs),
}


@MODELS.register_module()
class GhostSepBNHead(RTMDetSepBNHead):
    """RTMDet's head (convs shared across levels, BatchNorm per level) with light tower convs.

    Each of the ``stacked_convs`` 3x3 convs of the class and box towers is, by ``conv_type``:

    * ``'dense'``: a plain conv (RTMDet's own head);
    * ``'depthwise'``: depthwise 3x3 + pointwise 1x1 (NanoDet's, MobileNet's);
    * ``'ghost'``: depthwise 3x3 + a 1x1 Ghost module (:class:`GhostSeparableConv`, as in ``GhostFPN``).

    With ``share_conv`` every level uses the first level's conv weights (all of them, whatever the conv type;
    mmdet's ``RTMDetSepBNHead(use_depthwise=True)`` cannot share them) and keeps its own BatchNorms, so each
    level normalises its own statistics. Everything else (priors, assigner, losses, prediction) is
    ``RTMDetHead``'s.

    Args:
        conv_type: ``'dense'``, ``'depthwise'`` or ``'ghost'``.
        **kwargs: ``RTMDetSepBNHead``'s arguments, except ``use_depthwise`` (use ``conv_type``).

    Shapes: ``feats``, one ``(N, in_channels, H_l, W_l)`` per level -> class scores ``(N, num_classes, H_l, W_l)``
    and box distances ``(N, 4, H_l, W_l)`` per level.
    """

    def __init__(self, num_classes: int, in_channels: int, conv_type: str = 'ghost', **kwargs) -> None:
        if conv_type not in TOWER_CONVS:
            raise ValueError(f'conv_type={conv_type!r} is invalid: it must be one of {tuple(TOWER_CONVS)}')
        if 'use_depthwise' in kwargs:
            raise TypeError("GhostSepBNHead has no use_depthwise: set conv_type='depthwise' instead")
        self.conv_type = conv_type
        super().__init__(num_classes, in_channels, **kwargs)

    def _init_layers(self) -> None:
        """Towers and 1-prior prediction convs per level; then the towers' convs shared (see the class doc)."""
        build = TOWER_CONVS[self.conv_type]
        cfgs = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        num_levels = len(self.prior_generator.strides)
        self.cls_convs, self.reg_convs = nn.ModuleList(), nn.ModuleList()
        for towers in (self.cls_convs, self.reg_convs):
            for _ in range(num_levels):
                towers.append(nn.ModuleList(
                    build(self.in_channels if i == 0 else self.feat_channels, self.feat_channels, **cfgs)
                    for i in range(self.stacked_convs)))
        padding = self.pred_kernel_size // 2
        self.rtm_cls = nn.ModuleList(
            nn.Conv2d(self.feat_channels, self.num_base_priors * self.cls_out_channels, self.pred_kernel_size,
                      padding=padding) for _ in range(num_levels))
        self.rtm_reg = nn.ModuleList(
            nn.Conv2d(self.feat_channels, self.num_base_priors * 4, self.pred_kernel_size, padding=padding)
            for _ in range(num_levels))
        if self.with_objectness:
            self.rtm_obj = nn.ModuleList(
                nn.Conv2d(self.feat_channels, 1, self.pred_kernel_size, padding=padding) for _ in range(num_levels))
        if self.share_conv:
            for towers in (self.cls_convs, self.reg_convs):
                share_convs(towers)


def share_convs(levels: nn.ModuleList) -> None:
    """Give every level of ``levels`` (identical module trees) the first level's ``nn.Conv2d`` modules, keeping
    its own other modules (norms)."""
    first = levels[0]
    for level in levels[1:]:
        for name, module in list(level.named_modules()):
            if isinstance(module, nn.Conv2d):
                parent, _, attribute = name.rpartition('.')
                setattr(level.get_submodule(parent), attribute, first.get_submodule(name))
