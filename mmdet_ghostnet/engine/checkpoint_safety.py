"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read the checkpoints MMEngine writes.

MMEngine 0.10 saves its message hub (``HistoryBuffer`` objects holding numpy arrays) inside every training
checkpoint and loads checkpoints without ``weights_only=False``, so on torch >= 2.6 ``--resume`` and
``tools/test.py`` fail with "Unsupported global: mmengine.logging.history_buffer.HistoryBuffer". Importing this
package (which every config does through ``custom_imports``):

* allow-lists exactly the classes such a checkpoint holds (``HistoryBuffer``, numpy arrays, dtypes, scalars),
  rather than disabling the check with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``;
* stops ``HistoryBuffer`` from pickling its class-wide registry of statistics functions, which would be
  written as ``getattr(HistoryBuffer, 'min')`` calls: allow-listing ``getattr`` would make weights-only loading
  unsafe. The registry holds the default statistics, which every ``HistoryBuffer`` registers again, and
  custom ones registered at import time, so nothing is lost.
"""
from typing import Dict, List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor classes and functions pickled into an MMEngine training checkpoint."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    # numpy >= 1.25 pickles a dtype through its class (numpy.dtypes.Float64DType, ...); uint32 is numpy's
    # random generator state, which ResumableRunner saves.
    dtype_classes = {type(np.dtype(name)) for name in ('float64', 'float32', 'int64', 'int32', 'uint32', 'bool')}
    return [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, *dtype_classes]


def history_buffer_state(buffer: HistoryBuffer) -> dict:
    """``HistoryBuffer`` pickle state: its own data, without the class-wide statistics registry."""
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_mmengine_checkpoints() -> None:
    """Make MMEngine checkpoints loadable with ``weights_only=True`` (no-op on torch without that option)."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    HistoryBuffer.__getstate__ = history_buffer_state


def nonfinite_tensors(state_dict: Dict[str, torch.Tensor]) -> List[str]:
    """Names of the floating-point tensors of ``state_dict`` that hold a NaN or an infinity."""
    return [name for name, tensor in state_dict.items()
            if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
