from .ghost_sep_bn_head import GhostSepBNHead
from .predicting_ssd_head import PredictingSSDHead

__all__ = ['GhostSepBNHead', 'PredictingSSDHead']
