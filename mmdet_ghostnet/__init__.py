"""GhostNet (V1, V2, V3) backbones and Ghost-FPN neck for MMDetection 3.x.

Importing the package registers ``GhostNet``, ``GhostNetV2``, ``GhostNetV3`` and ``GhostFPN`` in
``mmdet.registry.MODELS``, the ``FuseConvBNHook`` deploy hook and the ``ResumableRunner``, and lets torch's
weights-only loader read MMEngine training checkpoints; in a config::

    custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
"""
from .checkpoint_safety import allow_mmengine_checkpoints
from .deploy import FuseConvBNHook, fuse_for_deploy
from .models import GhostFPN, GhostNet, GhostNetV2, GhostNetV3
from .runner import ResumableRunner

__version__ = '0.1.0'
__all__ = [
    'GhostNet', 'GhostNetV2', 'GhostNetV3', 'GhostFPN', 'FuseConvBNHook', 'fuse_for_deploy', 'ResumableRunner',
    '__version__'
]

allow_mmengine_checkpoints()
