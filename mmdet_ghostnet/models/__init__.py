from .backbones import GhostNet, GhostNetV2, GhostNetV3
from .necks import GhostFPN

__all__ = ['GhostNet', 'GhostNetV2', 'GhostNetV3', 'GhostFPN']
