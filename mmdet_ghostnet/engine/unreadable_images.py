"""Training skips an image file that cannot be read, naming it and counting, instead of dying in a worker.

MMCV's ``LoadImageFromFile`` raises (``failed to load image: <path>``) inside a data-loader worker, which stops
the run with a worker traceback, possibly hours in. ``ResumableRunner`` wraps the loader of every training
dataset (not of validation or test sets, which must not drop images) in :class:`SkipUnreadableImage`: the sample
becomes ``None``, which MMEngine's ``BaseDataset`` replaces by another random sample, and a warning names the
file and counts the skipped images of that process.
"""
import logging
from typing import Optional

from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine.logging import print_log


class SkipUnreadableImage(BaseTransform):
    """Runs ``load`` (a ``LoadImageFromFile``); a missing or undecodable file gives ``None`` and a warning.

    Args:
        load (LoadImageFromFile): The pipeline's loading transform.
    """

    def __init__(self, load: LoadImageFromFile) -> None:
        self.load = load
        self.skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        try:
            loaded = self.load(results)
            problem = 'it cannot be decoded'
        except FileNotFoundError:
            loaded, problem = None, 'it does not exist'
        except Exception as error:  # MMCV asserts (or the decoder raises) when the bytes are no image
            loaded, problem = None, f'it cannot be decoded ({type(error).__name__}: {error})'
        if loaded is None:
            self.skipped += 1
            print_log(f'skipped training image {results["img_path"]}: {problem}; {self.skipped} unreadable '
                      'image(s) skipped so far by this data-loading process', logger='current',
                      level=logging.WARNING)
        return loaded

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.load!r})'


def skip_unreadable_images(dataset) -> None:
    """Wrap each ``LoadImageFromFile`` in the pipelines of ``dataset`` (and of the datasets it wraps, e.g.
    ``ConcatDataset``, ``RepeatDataset``) in :class:`SkipUnreadableImage`, for those not in ``test_mode``."""
    for inner in getattr(dataset, 'datasets', [getattr(dataset, 'dataset', None)]):
        if inner is not None:
            skip_unreadable_images(inner)
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms', None)
    if transforms is None or getattr(dataset, 'test_mode', True):
        return
    for index, transform in enumerate(transforms):
        if isinstance(transform, LoadImageFromFile):
            transforms[index] = SkipUnreadableImage(transform)
