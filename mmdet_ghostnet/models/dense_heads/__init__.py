from .ghost_sep_bn_head import GhostSepBNHead

__all__ = ['GhostSepBNHead']
