"""The engine around training: the resumable runner and its checkpoint hook, atomic writes, weights-only loading
of MMEngine checkpoints, the tools' pre-flight checks and the record of a (resumed) training run.

* ``runner``: ``ResumableRunner`` and ``ValidatedCheckpointHook``;
* ``hooks``: ``DivergenceGuardHook``, which stops (or skips the batch) at a non-finite loss or gradient norm;
* ``unreadable_images``: training skips (and logs) image files that cannot be read;
* ``image_check``: the check of a dataset's images and boxes (``tools/check_dataset.py``);
* ``atomic_file``: ``atomic_write_path``, a file replaced whole or not at all;
* ``checkpoint_safety``: lets torch's weights-only loader read MMEngine training checkpoints;
* ``preflight``: the checks ``tools/train.py``, ``tools/test.py`` and the exporter run before any long work;
* ``training_record``: one run's log, scalars and wall time assembled over its starts.
"""
from .atomic_file import atomic_write_path
from .checkpoint_safety import allow_mmengine_checkpoints
from .hooks import DivergenceGuardHook
from .runner import ResumableRunner, ValidatedCheckpointHook

__all__ = [
    'ResumableRunner', 'ValidatedCheckpointHook', 'DivergenceGuardHook', 'atomic_write_path',
    'allow_mmengine_checkpoints'
]
