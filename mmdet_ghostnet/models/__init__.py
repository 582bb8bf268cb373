from .backbones import GhostNet
from .necks import GhostFPN

__all__ = ['GhostNet', 'GhostFPN']
