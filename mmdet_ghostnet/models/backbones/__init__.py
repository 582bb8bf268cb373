from .ghostnet import GhostNet

__all__ = ['GhostNet']
