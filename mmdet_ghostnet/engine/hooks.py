"""Stop a diverging run at its first non-finite loss, before that batch's optimizer step changes the weights.

MMDetection's ``CheckInvalidLossHook`` looks at the loss every N iterations, after the step, and only asserts;
``DivergenceGuardHook`` (which ``ResumableRunner`` registers by default) checks every optimizer step before it is
taken: the loss of each batch (in ``OptimWrapper.backward``) and the norm of the gradients (in
``OptimWrapper.step``, except under AMP, whose loss scaler already skips steps with overflowing gradients). A
non-finite value cancels the step on every process, so the weights stay those of the last good step, and then:

* ``action='stop'`` (the default): ``FloatingPointError`` naming the iteration, the epoch and the non-finite
  loss terms, and the last checkpoint to resume from; ``tools/train.py`` exits with a non-zero code;
* ``action='skip'``: a warning naming the same and counting the batches skipped so far (the count is kept in
  checkpoints), and training goes on.
"""
import math
from typing import Dict, Iterator, List, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS
from mmengine.runner import find_latest_checkpoint

ACTIONS = ('stop', 'skip')
PROBLEMS = ('loss', 'gradient norm')  # what can be non-finite before a step


def optim_wrappers(wrapper) -> Iterator[OptimWrapper]:
    """The ``OptimWrapper`` objects of a runner's ``optim_wrapper`` (one, or those of an ``OptimWrapperDict``)."""
    yield from (wrapper.values() if isinstance(wrapper, OptimWrapperDict) else [wrapper])


def gradients_finite(wrapper: OptimWrapper) -> bool:
    """Whether every gradient of the wrapper's parameters is finite (their total norm is)."""
    grads = [p.grad for group in wrapper.param_groups for p in group['params'] if p.grad is not None]
    return not grads or bool(torch.isfinite(torch.stack([torch.linalg.vector_norm(g) for g in grads]).sum()))


def nonfinite_terms(outputs: Optional[Dict[str, torch.Tensor]]) -> Dict[str, float]:
    """``{name: value}`` of the non-finite loss terms among a train step's log variables."""
    values = {name: float(torch.as_tensor(value).detach()) for name, value in (outputs or {}).items() if 'loss' in name}
    return {name: value for name, value in values.items() if not math.isfinite(value)}


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Cancels the optimizer step of a batch whose loss or gradient norm is not finite, then stops or skips.

    Args:
        action (str): ``'stop'`` raises ``FloatingPointError``; ``'skip'`` logs a warning and a count of skipped
            batches and trains on. Default: ``'stop'``.
    """

    priority = 'ABOVE_NORMAL'  # before the checkpoint and logger hooks

    def __init__(self, action: str = 'stop') -> None:
        if action not in ACTIONS:
            raise ValueError(f'action={action!r} is not one of {ACTIONS}')
        self.action = action
        self.skipped_batches = 0
        self._bad: List[str] = []  # what was not finite in the current iteration ('loss', 'gradient norm')
        self._loss_finite = True

    def before_train(self, runner) -> None:
        self.skipped_batches = runner.message_hub.get_info('skipped_batches', 0)  # saved in checkpoints
        for wrapper in optim_wrappers(runner.optim_wrapper):
            self._guard(wrapper)

    def _guard(self, wrapper: OptimWrapper) -> None:
        """Wrap the wrapper's ``backward`` (to see each loss) and ``step`` (to cancel it)."""
        backward, step = wrapper.backward, wrapper.step
        check_gradients = not isinstance(wrapper, AmpOptimWrapper)

        def guarded_backward(loss: torch.Tensor, **kwargs) -> None:
            self._loss_finite &= bool(torch.isfinite(loss).all())
            backward(loss, **kwargs)

        def guarded_step(**kwargs) -> None:
            bad = [] if self._loss_finite else ['loss']
            if check_gradients and not gradients_finite(wrapper):
                bad.append('gradient norm')
            self._loss_finite = True
            flags = torch.tensor([float(name in bad) for name in PROBLEMS], device=wrapper_device(wrapper))
            all_reduce(flags)  # every process cancels the step when one has to
            self._bad = [name for name, flag in zip(PROBLEMS, flags.tolist()) if flag > 0]
            if not self._bad:
                step(**kwargs)

        wrapper.backward, wrapper.step = guarded_backward, guarded_step

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        terms = nonfinite_terms(outputs)
        if not (self._bad or terms):
            return
        where = (f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch {batch_idx + 1} of '
                 f'{len(runner.train_dataloader)})')
        bad = self._bad or ['loss']
        if terms:
            described = 'non-finite loss terms: ' + ', '.join(f'{name}={value}' for name, value in terms.items())
        else:
            described = 'the loss was not finite on another process' if 'loss' in bad else 'the loss was finite'
        message = f'non-finite {" and ".join(bad)} at {where}: {described}'
        self._bad = []
        if self.action == 'skip':
            self.skipped_batches += 1
            runner.message_hub.update_info('skipped_batches', self.skipped_batches)
            runner.logger.warning(f'{message}; the batch was skipped (no optimizer step), '
                                  f'{self.skipped_batches} skipped so far')
            return
        raise FloatingPointError(
            f'training diverged: {message}. The optimizer step was not taken and no checkpoint is written with '
            f'non-finite weights; {last_checkpoint_advice(runner)} Lower the learning rate '
            '(optim_wrapper.optimizer.lr) or clip gradients (optim_wrapper.clip_grad), or skip such batches with '
            "custom_hooks=[dict(type='DivergenceGuardHook', action='skip')].")


def wrapper_device(wrapper: OptimWrapper) -> torch.device:
    """The device of the wrapper's first parameter (where a collective's tensor must be)."""
    return next((p.device for group in wrapper.param_groups for p in group['params']), torch.device('cpu'))


def last_checkpoint_advice(runner) -> str:
    """Which checkpoint ``--resume`` would continue from, or that there is none yet."""
    latest = find_latest_checkpoint(runner.work_dir)
    return (f'resume from the last checkpoint, {latest}, with --resume.' if latest else
            'no checkpoint was written yet.')
