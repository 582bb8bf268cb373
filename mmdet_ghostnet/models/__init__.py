from .backbones import GhostNet, GhostNetV2, GhostNetV3
from .dense_heads import GhostSepBNHead, PredictingSSDHead
from .necks import GhostFPN

__all__ = ['GhostNet', 'GhostNetV2', 'GhostNetV3', 'GhostFPN', 'GhostSepBNHead', 'PredictingSSDHead']
