"""The offline demo set: images of circles, squares and triangles drawn from a seed (``shapes``), written as COCO
splits (``dataset``; ``tools/make_demo_data.py`` is its command line)."""
from .dataset import MIN_IMAGE_SIZE, DemoDataExistsError, make_demo_dataset

__all__ = ['make_demo_dataset', 'DemoDataExistsError', 'MIN_IMAGE_SIZE']
