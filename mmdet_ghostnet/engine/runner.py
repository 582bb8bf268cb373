"""A Runner whose checkpoints survive a kill and resume the random streams exactly.

MMEngine's Runner writes a checkpoint in place (a kill while writing leaves a truncated file where a good one may
have been) and, when resuming, re-seeds the random generators instead of restoring them, so a resumed run draws
other augmentations than an uninterrupted one. ``ResumableRunner`` (``runner_type='ResumableRunner'`` in a config,
as this project's configs do):

* writes every checkpoint to ``<name>.partial`` and renames it into place (atomic on one file system), so the
  file a name points to, and ``last_checkpoint``, always hold a complete checkpoint; a failed write removes its
  ``.partial`` file and says how much room a checkpoint needs, and ``.partial`` files left by a kill are
  reported and removed when training starts;
* refuses to write a checkpoint whose weights are not all finite, and registers :class:`DivergenceGuardHook`
  (unless ``custom_hooks`` has one), which stops training at the first non-finite loss or gradient norm before
  its optimizer step; so a diverging run never replaces a good checkpoint, whatever ``max_keep_ckpts`` is;
* stores the Python, numpy and torch (CPU and CUDA) generator states of every process in
  ``meta['rng_state']`` (a list indexed by rank) and restores each process's own after ``--resume``, after
  MMEngine's own re-seeding (a checkpoint with a single state, of an earlier version, restores it everywhere);
* skips training images that cannot be read, naming them (:mod:`.unreadable_images`);
* fine-tunes from ``load_from`` (training without ``--resume``): weights trained on other classes load but for
  their classification layers, which keep the model's initialisation, saying so in one log line; anything else
  that does not fit is refused (:mod:`.fine_tune`);
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
import glob
import os
import os.path as osp
import random
import shutil
from typing import Dict, List, Optional, Union

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import all_gather_object, is_distributed, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.registry import HOOKS, RUNNERS
from mmengine.runner import BaseLoop, EpochBasedTrainLoop, Runner, find_latest_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn
from torch.utils.data import DataLoader

from .checkpoint_safety import nonfinite_tensors
from .fine_tune import load_for_fine_tuning
from .hooks import DivergenceGuardHook
from .unreadable_images import skip_unreadable_images


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


def tensor_bytes(obj) -> int:
    """Bytes of all tensors in a nest of dicts, lists and tuples."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    return sum(tensor_bytes(value) for value in values)


def check_finite_weights(model: nn.Module, checkpoint: str) -> None:
    """Raise ``FloatingPointError`` (naming ``checkpoint``, what was to be written) if any floating-point tensor
    of ``model``'s state is not finite."""
    state = model.state_dict()
    bad = nonfinite_tensors(state)
    if bad:
        raise FloatingPointError(f'refusing to write {checkpoint}: {len(bad)} of {len(state)} tensors of '
                                 f'the model are not finite (e.g. {", ".join(bad[:3])}); the earlier checkpoints '
                                 'are kept')


def remove_partial_checkpoints(folder: str, logger) -> None:
    """Remove and report the ``*.pth.partial`` files of saves that did not finish (a kill, a full disk)."""
    for path in sorted(glob.glob(osp.join(glob.escape(folder), '*.pth.partial'))):
        size = osp.getsize(path)
        os.remove(path)
        logger.warning(f'removed {path} ({size / 2**20:.1f} MiB), left by a checkpoint save that did not finish')


def is_hook_of_type(hook: Union[Hook, dict], hook_type: type) -> bool:
    """Whether a hook, or a hook config (``type`` a class or its registered name), is of ``hook_type``."""
    if isinstance(hook, dict):
        kind = hook.get('type')
        return kind is hook_type or (isinstance(kind, type) and issubclass(kind, hook_type)) or (
            isinstance(kind, str) and kind.split('.')[-1] == hook_type.__name__)
    return isinstance(hook, hook_type)


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
        if is_main_process() and '://' not in self.out_dir:
            remove_partial_checkpoints(self.out_dir, runner.logger)
        self._training = True
        epoch = runner.epoch
        if (self.by_epoch and epoch > 0 and validates_after(runner, epoch)
                and runner.message_hub.get_info('validated_epoch') != epoch):
            runner.logger.info(f'the checkpoint of epoch {epoch} was written before its validation: validating now')
            self._save_after_val = True
            runner.val_loop.run()

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        """MMEngine's save, but the checkpoint that ``max_keep_ckpts`` lets go is removed after the new one is
        written, not before: a refused (non-finite weights) or failed save leaves the kept ones as they were."""
        kept = self.keep_ckpt_ids if self.max_keep_ckpts > 0 else None
        kept_before = list(kept or [])
        stale = kept.popleft() if kept and kept[-1] != step and len(kept) == self.max_keep_ckpts else None
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        except BaseException:  # the kept checkpoints are as they were: keep counting them
            if kept is not None:
                kept.clear()
                kept.extend(kept_before)
                runner.message_hub.update_info('keep_ckpt_ids', kept_before)
            raise
        if stale is not None and is_main_process():
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(stale))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        check_finite_weights(runner.model, 'the best checkpoint')  # MMEngine removes the previous best first
        super()._save_best_checkpoint(runner, metrics)

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

    _resumed_rng_state: Union[None, dict, List[dict]] = None

    def save_checkpoint(self, out_dir: str, filename: str, *args, meta: Optional[dict] = None, **kwargs) -> None:
        """Write a checkpoint (on the main process) with every process's random generator states, refusing
        non-finite weights; a local one through ``<name>.partial``, removed again if the write fails."""
        rng_states = all_gather_object(capture_rng_state())  # a collective: every process takes part
        if not is_main_process():
            return
        check_finite_weights(self.model, f'checkpoint {filename}')
        meta = dict(meta or {}, rng_state=rng_states)
        if '://' in out_dir:  # remote storage: no rename, write as MMEngine does
            super().save_checkpoint(out_dir, filename, *args, meta=meta, **kwargs)
            return
        partial = osp.join(out_dir, filename + '.partial')
        try:
            super().save_checkpoint(out_dir, osp.basename(partial), *args, meta=meta, **kwargs)
        except BaseException as error:
            if osp.exists(partial):
                os.remove(partial)
            if isinstance(error, OSError):
                raise OSError(error.errno, f'{error.strerror}: writing checkpoint {osp.join(out_dir, filename)} '
                              f'failed and the partial file was removed; {self._room_needed(out_dir)}') from error
            raise
        os.replace(partial, osp.join(out_dir, filename))

    def _room_needed(self, out_dir: str) -> str:
        """How much room a checkpoint needs (the previous checkpoint's size, else its tensors') and is free."""
        previous = find_latest_checkpoint(out_dir)
        if previous and osp.isfile(previous):
            needed, source = osp.getsize(previous), f'the size of the previous checkpoint, {previous}'
        else:
            optimizer = self.optim_wrapper  # a config until training builds it
            needed = tensor_bytes([self.model.state_dict(), getattr(optimizer, 'state_dict', dict)()])
            source = 'the size of the weights and optimizer state'
        return (f'a checkpoint needs about {needed / 2**20:.1f} MiB ({source}), '
                f'{shutil.disk_usage(out_dir).free / 2**20:.1f} MiB are free in {out_dir}')

    def register_hooks(self, default_hooks: Optional[Dict[str, Union[Hook, dict]]] = None,
                       custom_hooks: Optional[List[Union[Hook, dict]]] = None) -> None:
        custom_hooks = list(custom_hooks or [])
        if not any(is_hook_of_type(hook, DivergenceGuardHook) for hook in custom_hooks):
            custom_hooks.append(dict(type=DivergenceGuardHook))
        super().register_hooks(default_hooks, custom_hooks)

    def register_default_hooks(self, hooks: Optional[Dict[str, Union[Hook, dict]]] = None) -> None:
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))  # MMEngine's default
        if isinstance(checkpoint, dict) and checkpoint.get('type') in ('CheckpointHook', CheckpointHook):
            hooks['checkpoint'] = dict(checkpoint, type=ValidatedCheckpointHook)
        super().register_default_hooks(hooks)

    def resume(self, filename: str, *args, **kwargs) -> None:
        super().resume(filename, *args, **kwargs)
        state = self._resumed_rng_state
        if isinstance(state, list):  # one state per process
            if len(state) != self.world_size:
                self.logger.warning(f'the checkpoint holds the random generator states of {len(state)} processes, '
                                    f'this run has {self.world_size}: they are not restored')
                return
            state = state[self.rank]
        if state is not None:
            restore_rng_state(state)
            self.logger.info('restored the random generator states saved in the checkpoint')

    def load_or_resume(self) -> None:
        """MMEngine's, but training from ``load_from`` without ``resume`` fine-tunes (:mod:`.fine_tune`)."""
        training = isinstance(self._train_loop, BaseLoop)  # train() builds its loop before loading
        if self._has_loaded or self._resume or self._load_from is None or not training:
            super().load_or_resume()
            return
        checkpoint = _load_checkpoint(self._load_from, map_location='cpu')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        classes = self.train_dataloader.dataset.metainfo.get('classes')
        reinitialised = load_for_fine_tuning(model, checkpoint, self._load_from, classes)
        self._has_loaded = True
        self.logger.info(reinitialised or f'Load checkpoint from {self._load_from}')

    def load_checkpoint(self, filename: str, *args, **kwargs) -> dict:
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        self._resumed_rng_state = checkpoint.get('meta', {}).get('rng_state')
        return checkpoint

    def build_dataloader(self, dataloader: Union[DataLoader, dict], seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """MMEngine's data loader, whose training images that cannot be read are skipped and logged."""
        loader = super().build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        skip_unreadable_images(loader.dataset)
        return loader

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
