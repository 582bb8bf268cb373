"""A Runner whose checkpoints survive a kill and resume the random streams exactly.

MMEngine's Runner writes a checkpoint in place (a kill while writing leaves a truncated file where a good one may
have been) and, when resuming, re-seeds the random generators instead of restoring them, so a resumed run draws
other augmentations than an uninterrupted one. ``ResumableRunner`` (``runner_type='ResumableRunner'`` in a config,
as this project's configs do):

* writes every checkpoint to ``<name>.partial`` and renames it into place (atomic on one file system), so the
  file a name points to, and ``last_checkpoint``, always hold a complete checkpoint;
* stores the Python, numpy and torch (CPU and CUDA) generator states in ``meta['rng_state']`` and restores
  them after ``--resume``, after MMEngine's own re-seeding;
* writes the checkpoint of an epoch that is validated after its validation, not before (MMEngine's CheckpointHook
  saves it in ``after_train_epoch``, so a run stopped during that validation resumed past it and never validated
  that epoch): ``CheckpointHook`` entries of ``default_hooks`` become :class:`ValidatedCheckpointHook`, whose
  checkpoints record the last validated epoch; resuming from a checkpoint of a validated epoch that lacks its
  validation (written by MMEngine's hook) validates that epoch first;
* runs distributed on machines without CUDA (``tools/dist_train.sh`` on CPU): MMEngine's launcher set-up calls
  ``torch.cuda.set_device`` and gives DDP a device id, both of which fail there; this runner starts the process
  group itself (gloo) and wraps the model in DDP without device ids.

With ``randomness=dict(seed=..., deterministic=True)`` and data loading in the main process or non-persistent
workers, a run killed and resumed from a checkpoint ends with the same weights and validation results as an
uninterrupted one.
"""
import bisect
import os
import os.path as osp
import random
from typing import Dict, Optional, Union

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed, master_only
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import EpochBasedTrainLoop, Runner
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


def validates_after(runner: Runner, epoch: int) -> bool:
    """Whether the runner's ``EpochBasedTrainLoop`` validates after training ``epoch`` (counted from 1), by the
    loop's own rule (``val_begin``, ``val_interval`` or its dynamic intervals, the last epoch)."""
    loop = runner.train_loop
    if not isinstance(loop, EpochBasedTrainLoop) or runner.val_loop is None or epoch < loop.val_begin:
        return False
    interval = loop.dynamic_intervals[bisect.bisect(loop.dynamic_milestones, epoch + 1) - 1]
    return epoch % interval == 0 or epoch == loop.max_epochs


@HOOKS.register_module()
class ValidatedCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoint of a validated epoch is written after that validation (with its best
    checkpoint and score), so that resuming from it continues exactly where the run was.

    Each validation during training stores its epoch in the message hub (``validated_epoch``, saved with the
    checkpoint). A run resumed from a checkpoint of a validated epoch without it (one written before its validation,
    e.g. by MMEngine's ``CheckpointHook``) validates that epoch before training on.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._training = False
        self._save_after_val = False

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._training = True
        epoch = runner.epoch
        if (self.by_epoch and epoch > 0 and validates_after(runner, epoch)
                and runner.message_hub.get_info('validated_epoch') != epoch):
            runner.logger.info(f'the checkpoint of epoch {epoch} was written before its validation: validating now')
            self._save_after_val = True
            runner.val_loop.run()

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and validates_after(runner, runner.epoch + 1):
            # the loop counts the epoch after this hook: save (or not) once validated, as epoch runner.epoch
            self._save_after_val = self.every_n_epochs(runner, self.interval, self.save_begin) or (
                self.save_last and self.is_last_train_epoch(runner))
        else:
            super().after_train_epoch(runner)

    def after_val_epoch(self, runner, metrics: Dict[str, float]) -> None:
        super().after_val_epoch(runner, metrics)
        if not (self._training and self.by_epoch):
            return
        runner.message_hub.update_info('validated_epoch', runner.epoch)
        if self._save_after_val:
            self._save_after_val = False
            runner.logger.info(f'Saving checkpoint at {runner.epoch} epochs, after its validation')
            self._save_checkpoint_with_step(runner, runner.epoch, meta=dict(epoch=runner.epoch, iter=runner.iter))

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._training = False


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

    def register_default_hooks(self, hooks: Optional[Dict[str, Union[Hook, dict]]] = None) -> None:
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))  # MMEngine's default
        if isinstance(checkpoint, dict) and checkpoint.get('type') in ('CheckpointHook', CheckpointHook):
            hooks['checkpoint'] = dict(checkpoint, type=ValidatedCheckpointHook)
        super().register_default_hooks(hooks)

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
