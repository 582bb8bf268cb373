"""GhostNet backbone and Ghost-FPN neck for MMDetection 3.x.

Importing the package registers ``GhostNet`` and ``GhostFPN`` in ``mmdet.registry.MODELS`` and lets torch's
weights-only loader read MMEngine training checkpoints, and registers the ``FuseConvBNHook`` deploy hook; in a config::

    custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
"""
from .checkpoint_safety import allow_mmengine_checkpoints
from .deploy import FuseConvBNHook, fuse_for_deploy
from .models import GhostFPN, GhostNet

__version__ = '0.1.0'
__all__ = ['GhostNet', 'GhostFPN', 'FuseConvBNHook', 'fuse_for_deploy', '__version__']

allow_mmengine_checkpoints()
