"""GhostNet (V1, V2, V3) backbones and Ghost-FPN neck for MMDetection 3.x.

Importing the package registers ``GhostNet``, ``GhostNetV2``, ``GhostNetV3``, ``GhostFPN`` and the
``GhostSepBNHead`` head in ``mmdet.registry.MODELS``, the ``FuseConvBNHook`` deploy hook and the ``ResumableRunner``, and lets torch's
weights-only loader read MMEngine training checkpoints; in a config::

    custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)

The package by concern: ``models`` (backbones, necks, heads, their blocks), ``engine`` (the runner and everything around
a training run), ``export`` (deploy folding, ONNX export and ONNX Runtime), ``datasets``, ``demo`` (the offline
demo set), ``benchmark`` and ``utils`` (the command-line tools' helpers).
"""
from .engine import ResumableRunner, allow_mmengine_checkpoints
from .export import FuseConvBNHook, fuse_for_deploy
from .models import GhostFPN, GhostNet, GhostNetV2, GhostNetV3, GhostSepBNHead

__version__ = '0.1.0'
__all__ = [
    'GhostNet', 'GhostNetV2', 'GhostNetV3', 'GhostFPN', 'GhostSepBNHead', 'FuseConvBNHook', 'fuse_for_deploy', 'ResumableRunner',
    '__version__'
]

allow_mmengine_checkpoints()
