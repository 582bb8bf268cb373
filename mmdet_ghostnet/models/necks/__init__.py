from .ghost_fpn import GhostFPN

__all__ = ['GhostFPN']
