from .checked_voc import CheckedVOCDataset

__all__ = ['CheckedVOCDataset']
