"""GhostNet backbone and Ghost-FPN neck for MMDetection 3.x.

Importing the package registers ``GhostNet`` and ``GhostFPN`` in ``mmdet.registry.MODELS``; in a config::

    custom_imports = dict(imports=['mmdet_ghostnet'], allow_failed_imports=False)
"""
from .models import GhostFPN, GhostNet

__version__ = '0.1.0'
__all__ = ['GhostNet', 'GhostFPN', '__version__']
