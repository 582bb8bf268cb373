"""The engine around training: the resumable runner and its checkpoint hook, atomic writes, weights-only loading
of MMEngine checkpoints, the tools' pre-flight checks and the record of a (resumed) training run.

* ``runner``: ``ResumableRunner`` and ``ValidatedCheckpointHook``;
* ``atomic_file``: ``atomic_write_path``, a file replaced whole or not at all;
* ``checkpoint_safety``: lets torch's weights-only loader read MMEngine training checkpoints;
* ``preflight``: the checks ``tools/train.py``, ``tools/test.py`` and the exporter run before any long work;
* ``training_record``: one run's log, scalars and wall time assembled over its starts.
"""
from .atomic_file import atomic_write_path
from .checkpoint_safety import allow_mmengine_checkpoints
from .runner import ResumableRunner, ValidatedCheckpointHook

__all__ = ['ResumableRunner', 'ValidatedCheckpointHook', 'atomic_write_path', 'allow_mmengine_checkpoints']
