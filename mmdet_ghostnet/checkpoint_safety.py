"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read the checkpoints MMEngine writes.

MMEngine 0.10 saves its message hub (``HistoryBuffer`` objects holding numpy arrays) inside every training
checkpoint and loads checkpoints without ``weights_only=False``, so on torch >= 2.6 ``--resume`` and
``tools/test.py`` fail with "Unsupported global: mmengine.logging.history_buffer.HistoryBuffer". Importing
this package (which every config does through ``custom_imports``) allow-lists exactly the classes such a
checkpoint holds, rather than disabling the safety check with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``.
"""
from typing import List

import numpy as np
import torch


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor classes and functions pickled into an MMEngine training checkpoint."""
    from mmengine.logging import HistoryBuffer
    dtypes = ('float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool')
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        np.core.multiarray._reconstruct,
        np.core.multiarray.scalar,
        *(type(np.dtype(name)) for name in dtypes),
    ]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_globals` with torch's weights-only unpickler (no-op on old torch)."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
