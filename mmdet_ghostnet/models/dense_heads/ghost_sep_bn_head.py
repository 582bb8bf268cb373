from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmdet.models.dense_heads import RTMDetSepBNHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import distance2bbox
from mmdet.utils import reduce_mean
from torch import Tensor, nn

from ..layers import GhostSeparableConv

# What a training-only guide head may set differently from the head it guides (GhostSepBNHead's ``guide``).
GUIDE_ARGS = {'conv_type', 'feat_channels', 'stacked_convs'}

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

    With ``guide`` the head is trained as NanoDet-Plus trains its light head (its assign guidance module): a
    second head, built from the same arguments updated by ``guide`` (say ``dict(conv_type='dense')``), predicts
    from the same features in training; its predictions, not this head's, pick the targets
    (``DynamicSoftLabelAssigner`` and the soft IoU labels), and both heads learn those targets (the guide's losses
    are ``guide_loss_cls`` / ``guide_loss_bbox``; their gradients reach the neck and backbone too, as NanoDet-Plus's
    do in its first epochs). A light head's own early predictions are poor judges of which priors fit an object; a
    stronger head's are better. Prediction, export and deploy use this head only (``fuse_for_deploy`` drops the
    guide).

    Args:
        conv_type: ``'dense'``, ``'depthwise'`` or ``'ghost'``.
        guide: ``None``, or the arguments by which the training-only guide head differs from this one.
        **kwargs: ``RTMDetSepBNHead``'s arguments, except ``use_depthwise`` (use ``conv_type``).

    Shapes: ``feats``, one ``(N, in_channels, H_l, W_l)`` per level -> class scores ``(N, num_classes, H_l, W_l)``
    and box distances ``(N, 4, H_l, W_l)`` per level.
    """

    def __init__(self, num_classes: int, in_channels: int, conv_type: str = 'ghost', guide: Optional[dict] = None,
                 **kwargs) -> None:
        if conv_type not in TOWER_CONVS:
            raise ValueError(f'conv_type={conv_type!r} is invalid: it must be one of {tuple(TOWER_CONVS)}')
        if 'use_depthwise' in kwargs:
            raise TypeError("GhostSepBNHead has no use_depthwise: set conv_type='depthwise' instead")
        if guide is not None and not set(guide) <= GUIDE_ARGS:
            raise ValueError(f'guide={guide!r} is invalid: a guide may set only {sorted(GUIDE_ARGS)}')
        self.conv_type = conv_type
        super().__init__(num_classes, in_channels, **kwargs)
        self.guide = None
        if guide is not None:
            self.guide = GhostSepBNHead(num_classes, in_channels, **{'conv_type': conv_type, **kwargs, **guide})

    def init_weights(self) -> None:
        super().init_weights()
        if self.guide is not None:  # RTMDetSepBNHead initialises its own prediction convs only
            self.guide.init_weights()

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

    def loss(self, x: Tuple[Tensor, ...], batch_data_samples: SampleList) -> Dict[str, List[Tensor]]:
        """RTMDet's losses; with a guide, on the targets its predictions pick, for both heads (class doc).

        ``x``: the neck's ``(N, in_channels, H_l, W_l)`` per level. Returns ``loss_cls`` and ``loss_bbox`` per
        level, and with a guide ``guide_loss_cls`` and ``guide_loss_bbox`` too.
        """
        if self.guide is None:
            return super().loss(x, batch_data_samples)
        gt_instances = [sample.gt_instances for sample in batch_data_samples]
        gt_ignored = [sample.get('ignored_instances') for sample in batch_data_samples]
        img_metas = [sample.metainfo for sample in batch_data_samples]
        predictions = {'': self(x), 'guide_': self.guide(x)}  # class scores, box distances per level
        featmap_sizes = [scores.shape[-2:] for scores in predictions[''][0]]
        priors, valid_flags = self.get_anchors(featmap_sizes, img_metas, device=x[0].device)
        boxes = {key: [distance2bbox(level_priors.reshape(-1, 4), distances.permute(0, 2, 3, 1).flatten(1, 2))
                       for level_priors, distances in zip(priors[0], bbox_distances)]
                 for key, (_, bbox_distances) in predictions.items()}
        guide_scores = torch.cat([scores.permute(0, 2, 3, 1).flatten(1, 2) for scores in predictions['guide_'][0]], 1)
        _, *targets, _ = self.get_targets(guide_scores, torch.cat(boxes['guide_'], 1), priors, valid_flags,
                                          gt_instances, img_metas, gt_ignored)
        losses = {}
        for key, head in (('', self), ('guide_', self.guide)):
            per_level = [head.loss_by_feat_single(*level, stride) for level, stride in
                         zip(zip(predictions[key][0], boxes[key], *targets), self.prior_generator.strides)]
            losses_cls, losses_bbox, cls_weights, bbox_weights = zip(*per_level)
            cls_norm = reduce_mean(sum(cls_weights)).clamp_(min=1).item()
            bbox_norm = reduce_mean(sum(bbox_weights)).clamp_(min=1).item()
            losses[f'{key}loss_cls'] = [loss / cls_norm for loss in losses_cls]
            losses[f'{key}loss_bbox'] = [loss / bbox_norm for loss in losses_bbox]
        return losses


def share_convs(levels: nn.ModuleList) -> None:
    """Give every level of ``levels`` (identical module trees) the first level's ``nn.Conv2d`` modules, keeping
    its own other modules (norms)."""
    first = levels[0]
    for level in levels[1:]:
        for name, module in list(level.named_modules()):
            if isinstance(module, nn.Conv2d):
                parent, _, attribute = name.rpartition('.')
                setattr(level.get_submodule(parent), attribute, first.get_submodule(name))
