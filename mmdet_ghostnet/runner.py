"""A Runner whose checkpoints survive a kill and resume the random streams exactly.

MMEngine's Runner writes a checkpoint in place (a kill while writing leaves a truncated file where a good one may
have been) and, when resuming, re-seeds the random generators instead of restoring them, so a resumed run draws
other augmentations than an uninterrupted one. ``ResumableRunner`` (``runner_type='ResumableRunner'`` in a config,
as this project's configs do):

* writes every checkpoint to ``<name>.partial`` and renames it into place (atomic on one file system), so the
  file a name points to, and ``last_checkpoint``, always hold a complete checkpoint;
* stores the Python, numpy and torch (CPU and CUDA) generator states in ``meta['rng_state']`` and restores
  them after ``--resume``, after MMEngine's own re-seeding;
* runs distributed on machines without CUDA (``tools/dist_train.sh`` on CPU): MMEngine's launcher set-up calls
  ``torch.cuda.set_device`` and gives DDP a device id, both of which fail there; this runner starts the process
  group itself (gloo) and wraps the model in DDP without device ids.

With ``randomness=dict(seed=..., deterministic=True)`` and data loading in the main process or non-persistent
workers, a run killed and resumed from a checkpoint ends with the same weights as an uninterrupted one.
"""
import os
import os.path as osp
import random
from typing import Optional

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed, master_only
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn


def capture_rng_state() -> dict:
    """The states of Python's, numpy's and torch's global generators (torch CUDA too when present)."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['torch_cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'torch_cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['torch_cuda'])


@RUNNERS.register_module()
class ResumableRunner(Runner):
    """``mmengine.runner.Runner`` with atomic checkpoint writes and exact resumption of random streams."""

    _resumed_rng_state: Optional[dict] = None

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args, meta: Optional[dict] = None, **kwargs) -> None:
        meta = dict(meta or {}, rng_state=capture_rng_state())
        if '://' in out_dir:  # remote storage: no rename, write as MMEngine does
            super().save_checkpoint(out_dir, filename, *args, meta=meta, **kwargs)
        else:
            partial = filename + '.partial'
            super().save_checkpoint(out_dir, partial, *args, meta=meta, **kwargs)
            os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))

    def resume(self, filename: str, *args, **kwargs) -> None:
        super().resume(filename, *args, **kwargs)
        if self._resumed_rng_state is not None:
            restore_rng_state(self._resumed_rng_state)
            self.logger.info('restored the random generator states saved in the checkpoint')

    def load_checkpoint(self, filename: str, *args, **kwargs) -> dict:
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        self._resumed_rng_state = checkpoint.get('meta', {}).get('rng_state')
        return checkpoint

    def setup_env(self, env_cfg: dict) -> None:
        if self.distributed and not is_distributed() and not torch.cuda.is_available():
            backend = env_cfg.get('dist_cfg', {}).get('backend', 'gloo')
            torch_dist.init_process_group(backend='gloo' if backend == 'nccl' else backend)
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model: nn.Module) -> nn.Module:
        if self.distributed and not torch.cuda.is_available() and model_wrapper_cfg is None:
            return MMDistributedDataParallel(
                module=model.to('cpu'),
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)
