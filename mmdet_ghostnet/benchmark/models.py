"""The benchmarked models: a table of named builders per part, with the peers each row is compared with.

Backbones are compared with ``timm ghostnet_100 (blocks 0-8)`` (timm's GhostNet through the same stages as our
default taps) and with mmdet's MobileNetV2; necks with mmdet's FPN of the same setting; detectors with the
MobileNetV2 + FPN detector of the same type (identical heads). Models are randomly initialised (``init_weights``)
unless a trained checkpoint is given for them (``build_model``).

To add a backbone row, add an entry to the ``BACKBONES`` table below (and its name to ``DEPLOY_BACKBONES`` for
a BatchNorm-folded row as well), e.g. ``'GhostNetV2 1.0x': registered(type='GhostNetV2', widen_factor=1.0)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[2]
PARTS = ('backbone', 'neck', 'detector')
MODES = ('inference', 'train')
Builder = Callable[[], nn.Module]


class TimmGhostNetTrunk(nn.Module):
    """timm's ``ghostnet_100`` (or ``variant``) through its stem and ``blocks.0-8``: the outputs of blocks 2/4/6/8.

    That is exactly the compute of our ``GhostNet(widen_factor=1.0)`` with its default taps ``(3, 5, 7, 9)``
    (``ghostnetv2_100`` / ``ghostnetv3_100``: of ``GhostNetV2`` / ``GhostNetV3``), which makes it the fair peer
    (timm's ``features_only`` taps blocks 1-4 as the first group of each stride).
    """

    TAPS = (2, 4, 6, 8)

    def __init__(self, variant: str = 'ghostnet_100') -> None:
        super().__init__()
        import timm
        full = timm.create_model(variant, pretrained=False)
        self.conv_stem, self.bn1, self.act1 = full.conv_stem, full.bn1, full.act1
        self.blocks = full.blocks[:self.TAPS[-1] + 1]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.act1(self.bn1(self.conv_stem(x)))
        outs = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.TAPS:
                outs.append(x)
        return tuple(outs)


def timm_features() -> nn.Module:
    """timm's ``ghostnet_100`` with ``features_only=True, out_indices=(1, 2, 3, 4)`` (strides 4-32)."""
    import timm
    return timm.create_model('ghostnet_100', pretrained=False, features_only=True, out_indices=(1, 2, 3, 4))


def _build_registered(cfg: Mapping) -> nn.Module:
    """Build ``cfg`` from ``mmdet.registry.MODELS`` (with this plugin's ``GhostNet`` and ``GhostFPN`` registered)."""
    import mmdet_ghostnet  # noqa: F401  (registers GhostNet and GhostFPN)
    from mmdet.registry import MODELS
    return MODELS.build(cfg)


def registered(**cfg: Any) -> Builder:
    """A builder of the registered model ``cfg`` (e.g. ``registered(type='GhostNet', widen_factor=1.0)``)."""
    return partial(_build_registered, cfg)


# ------------------------------------------------------------------------------------------------ backbones
TIMM_TRUNK = 'timm ghostnet_100 (blocks 0-8)'
MNV2 = 'mmdet MobileNetV2 1.0x'
BACKBONE_PEERS = {'timm': TIMM_TRUNK, 'MNv2': MNV2}
GHOSTNET_WIDTHS = (0.5, 1.0, 1.1, 1.3)

# GhostNetV2 / V3 1.0x, each compared with timm's trunk of the same version (V3: the training form, eager).
LATER_VERSIONS = {f'GhostNet{v} 1.0x': f'timm ghostnet{v.lower()}_100 (blocks 0-8)' for v in ('V2', 'V3')}

BACKBONES: Dict[str, Builder] = {
    **{f'GhostNet {w}x': registered(type='GhostNet', widen_factor=w) for w in GHOSTNET_WIDTHS},
    **{name: registered(type=name.split()[0], widen_factor=1.0) for name in LATER_VERSIONS},
    **{trunk: partial(TimmGhostNetTrunk, trunk.split()[1]) for trunk in LATER_VERSIONS.values()},
    MNV2: registered(type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 7)),
    **{f'mmdet ResNet-{depth}': registered(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3))
       for depth in (18, 50)},
    TIMM_TRUNK: TimmGhostNetTrunk,
    'timm ghostnet_100 features_only (1-4)': timm_features,
}
# Backbones also measured BatchNorm-folded (``fuse_for_deploy``), as the row '<name> deploy'.
DEPLOY_BACKBONES = ('GhostNet 1.0x', *LATER_VERSIONS)

# ---------------------------------------------------------------------------------------------------- necks
NECK_IN_CHANNELS = (28, 44, 124, 176)  # GhostNet(widen_factor=1.1).out_channels, strides 4/8/16/32
NECK_STRIDES = (4, 8, 16, 32)
NECK_SETTINGS: Dict[str, dict] = {
    'RetinaNet': dict(out_channels=256, start_level=1, add_extra_convs='on_input', num_outs=5),
    'Faster R-CNN': dict(out_channels=256, start_level=0, num_outs=5),
}
NECKS = ('GhostFPN', 'FPN')

# ------------------------------------------------------------------------------------------------ detectors
DETECTOR_CONFIGS = {
    'RetinaNet': 'configs/retinanet_ghostnet_fpn_coco.py',
    'Faster R-CNN': 'configs/faster-rcnn_ghostnet_fpn_coco.py',
}
# Detectors exactly as a config of this repository builds them (no peers): the small ones of the offline demo, and
# every row of the BCCD accuracy study (docs/accuracy.md) under its config's name (``--models _bccd`` picks them).
# The light detector's two COCO configs also have rows (by config name), for their costs at their own inputs
# (``--models rtmdet- --sizes 416x416`` / ``640x640``).
BCCD_CONFIGS = sorted((REPO / 'configs' / 'bccd').glob('*_bccd.py'))
LIGHT_COCO_CONFIGS = sorted((REPO / 'configs').glob('rtmdet-*_coco.py'))
CONFIG_DETECTORS = {
    'RetinaNet demo': 'configs/demo/retinanet_ghostnet_ghostpan_1xb16-48e_demo.py',
    'Faster R-CNN demo': 'configs/demo/faster-rcnn_ghostnet_ghostpan_1xb16-48e_demo.py',
    **{path.stem: str(path.relative_to(REPO)) for path in (*BCCD_CONFIGS, *LIGHT_COCO_CONFIGS)},
}
# Detectors also measured BatchNorm-folded (and GhostNetV3's branches folded), as the row '<name> deploy'. Every
# study row has one, so that the study compares its detectors as a user ships them (``tools/test.py --deploy``).
DEPLOY_DETECTORS = ('RetinaNet GhostNet 1.1x + GhostFPN', 'Faster R-CNN GhostNet 1.1x + GhostFPN', 'RetinaNet demo',
                    'Faster R-CNN demo', *(path.stem for path in BCCD_CONFIGS))
MNV2_BODY = 'MobileNetV2 + FPN'
# Backbone + neck of each detector: None keeps the config's own (GhostNet 1.1x + GhostFPN); otherwise the backbone
# config and its out_channels, fed to an mmdet FPN with the config's other neck settings. Heads stay identical.
# Like the configs' GhostNet, the replacements freeze their stem and first stage and keep BatchNorms in eval mode.
DETECTOR_BODIES: Dict[str, Optional[Tuple[dict, List[int]]]] = {
    'GhostNet 1.1x + GhostFPN': None,
    MNV2_BODY: (dict(type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 7), frozen_stages=1,
                     norm_eval=True), [24, 32, 96, 1280]),
    'ResNet-50 + FPN': (dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                             norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True, style='pytorch',
                             init_cfg=None), [256, 512, 1024, 2048]),
}


def _build_detector(config: str, body: Optional[str] = None) -> nn.Module:
    """The model of ``config``, its backbone and neck replaced as ``DETECTOR_BODIES[body]`` says (if ``body``).
    A backbone's ImageNet weights are not loaded (rows have random or trained weights; nothing is downloaded)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / config)).model
    init_cfg = cfg.backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        cfg.backbone.init_cfg = None
    if body is not None and DETECTOR_BODIES[body] is not None:
        backbone, in_channels = DETECTOR_BODIES[body]
        cfg.backbone = backbone
        cfg.neck = dict(cfg.neck, type='FPN', in_channels=in_channels)
    return _build_registered(cfg)


# ---------------------------------------------------------------------------------------------- the rows
@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked model: its row name, part, builder, peers (ratio label -> peer row name) and modes."""

    name: str
    part: str
    build: Builder
    peers: Mapping[str, str] = field(default_factory=dict)
    deploy: bool = False  # fold BatchNorms into convs after initialisation (inference only)

    @property
    def modes(self) -> Tuple[str, ...]:
        return ('inference', ) if self.deploy else MODES


def _with_deploy_rows(part: str, builders: Mapping[str, Tuple[Builder, Mapping[str, str]]],
                      deployed: Tuple[str, ...]) -> List[ModelSpec]:
    """A row per ``name: (builder, peers)``, followed by its BatchNorm-folded row if ``name`` is in ``deployed``."""
    specs = []
    for name, (build, peers) in builders.items():
        specs.append(ModelSpec(name, part, build, peers))
        if name in deployed:
            specs.append(ModelSpec(f'{name} deploy', part, build, peers, deploy=True))
    return specs


SPECS: Tuple[ModelSpec, ...] = (
    *_with_deploy_rows('backbone', {
        name: (build, dict(BACKBONE_PEERS, timm=LATER_VERSIONS.get(name, TIMM_TRUNK)))
        for name, build in BACKBONES.items()
    }, DEPLOY_BACKBONES),
    *(ModelSpec(f'{neck} ({setting})', 'neck', registered(type=neck, in_channels=list(NECK_IN_CHANNELS), **kwargs),
                {'FPN': f'FPN ({setting})'})
      for setting, kwargs in NECK_SETTINGS.items() for neck in NECKS),
    *_with_deploy_rows('detector', {
        **{f'{detector} {body}': (partial(_build_detector, config, body), {'MNv2 det': f'{detector} {MNV2_BODY}'})
           for detector, config in DETECTOR_CONFIGS.items() for body in DETECTOR_BODIES},
        **{name: (partial(_build_detector, config), {}) for name, config in CONFIG_DETECTORS.items()},
    }, DEPLOY_DETECTORS),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
QUICK_MODELS = ('GhostNet 1.0x', 'GhostNet 1.0x deploy', TIMM_TRUNK, MNV2, 'GhostFPN (RetinaNet)', 'FPN (RetinaNet)',
                'RetinaNet GhostNet 1.1x + GhostFPN', f'RetinaNet {MNV2_BODY}')


def build_model(spec: ModelSpec, checkpoint: Optional[str] = None) -> nn.Module:
    """Build ``spec``'s model under mmdet's default scope, initialise its weights or load the trained ones of
    ``checkpoint`` (which must fit the model exactly), and fold it if ``deploy``."""
    from mmengine.model import BaseModule
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    model = spec.build()
    if isinstance(model, BaseModule):
        model.init_weights()
    if checkpoint is not None:
        from mmengine.runner import load_checkpoint
        from mmdet_ghostnet.engine.preflight import check_checkpoint
        check_checkpoint(checkpoint, model)
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    if spec.deploy:
        from mmdet_ghostnet import fuse_for_deploy
        fuse_for_deploy(model)
    return model
