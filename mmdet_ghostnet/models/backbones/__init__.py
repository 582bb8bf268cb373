from .ghostnet import GhostNet
from .ghostnetv2 import GhostNetV2
from .ghostnetv3 import GhostNetV3

__all__ = ['GhostNet', 'GhostNetV2', 'GhostNetV3']
