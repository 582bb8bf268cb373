"""A diverging run stops at once (or skips the batch), saying why, and never writes non-finite weights."""
import errno
import math
import os
from pathlib import Path
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.model import BaseModel
from mmengine.registry import RUNNERS
from torch.utils.data import Dataset

from mmdet_ghostnet.engine import DivergenceGuardHook, ResumableRunner
from tool_runs import REPO, RETINANET_DEMO, run, scalars, tiny_run_options

TRAIN = REPO / 'tools' / 'train.py'
SHIPPED_CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


class ScaleModel(BaseModel):
    """``loss = mean(sqrt(|w * x - y|))``: a non-finite ``x`` gives a non-finite loss, ``x == y == 0`` a finite
    loss (0) with a non-finite gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss_fit=(self.w * inputs - data_samples).abs().sqrt().mean())


class Samples(Dataset):
    """``(x, y)`` pairs, one per iteration."""

    def __init__(self, pairs) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index):
        x, y = self.pairs[index]
        return dict(inputs=torch.tensor([x]), data_samples=torch.tensor([y]))


def toy_runner(tmp_path: Path, pairs, custom_hooks=(), **checkpoint) -> ResumableRunner:
    """A ResumableRunner training ``ScaleModel`` with SGD on ``pairs`` (one per iteration), one epoch, keeping
    one checkpoint (``checkpoint``: more ``CheckpointHook`` arguments)."""
    return ResumableRunner(
        model=ScaleModel(),
        work_dir=str(tmp_path),
        train_dataloader=dict(dataset=Samples(pairs), sampler=dict(type='DefaultSampler', shuffle=False),
                              batch_size=1, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=list(custom_hooks),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, **checkpoint)),
        visualizer=dict(type='Visualizer', name=str(tmp_path)),  # its own, even if built in the same second
        default_scope='mmengine')


GOOD = [(2.0, 1.0), (3.0, 1.0)]


def test_the_runner_registers_the_guard_once_by_default(tmp_path):
    default = [h for h in toy_runner(tmp_path, GOOD).hooks if isinstance(h, DivergenceGuardHook)]
    assert len(default) == 1 and default[0].action == 'stop'
    configured = [h for h in toy_runner(tmp_path, GOOD, [dict(type='DivergenceGuardHook', action='skip')]).hooks
                  if isinstance(h, DivergenceGuardHook)]
    assert len(configured) == 1 and configured[0].action == 'skip'


def test_bad_action_is_refused():
    with pytest.raises(ValueError, match=r"action='ignore' is not one of \('stop', 'skip'\)"):
        DivergenceGuardHook(action='ignore')


@pytest.mark.parametrize('pair, what', [((math.inf, 1.0), 'loss and gradient norm'), ((0.0, 0.0), 'gradient norm')])
def test_non_finite_loss_or_gradient_stops_before_the_step_naming_iteration_and_epoch(tmp_path, pair, what):
    runner = toy_runner(tmp_path, GOOD + [pair, (2.0, 1.0)])
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert f'non-finite {what} at iteration 3 (epoch 1, batch 3 of 4)' in message
    terms = 'non-finite loss terms: loss=inf, loss_fit=inf' if what.startswith('loss') else 'the loss was finite'
    assert terms in message
    assert 'no checkpoint was written yet' in message
    # The two good steps were taken, the bad one was not: w is finite and equals two plain SGD steps.
    reference = ScaleModel()
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for x, y in GOOD:
        optimizer.zero_grad()
        reference(torch.tensor([x]), torch.tensor([y]))['loss_fit'].backward()
        optimizer.step()
    assert torch.equal(runner.model.w.detach(), reference.w.detach()) and torch.isfinite(runner.model.w).all()
    assert not list(tmp_path.glob('*.pth'))


def test_skip_mode_skips_the_bad_batches_and_counts_them(tmp_path):
    runner = toy_runner(tmp_path, [(0.0, 0.0), (math.nan, 1.0), (2.0, 1.0)],
                        [dict(type='DivergenceGuardHook', action='skip')])
    with mock.patch.object(runner.logger, 'warning', wraps=runner.logger.warning) as warning:
        runner.train()
    log = [call.args[0] for call in warning.call_args_list]
    guard = next(h for h in runner.hooks if isinstance(h, DivergenceGuardHook))
    assert guard.skipped_batches == 2
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert checkpoint['message_hub']['runtime_info']['skipped_batches'] == 2
    assert 'non-finite gradient norm at iteration 1 (epoch 1, batch 1 of 3): the loss was finite; the batch was ' \
        'skipped (no optimizer step), 1 skipped so far' in log
    assert 'non-finite loss and gradient norm at iteration 2 (epoch 1, batch 2 of 3): non-finite loss terms: ' \
        'loss=nan, loss_fit=nan; the batch was skipped (no optimizer step), 2 skipped so far' in log
    assert math.isclose(float(checkpoint['state_dict']['w']), 1 - 0.1 * 0.5 * 2, rel_tol=1e-6)  # one SGD step


def disk_full(checkpoint, filename, **kwargs):
    """Stands in for mmengine's ``save_checkpoint`` on a full disk."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize('failure', ['non-finite weights', 'full disk'])
def test_the_kept_checkpoint_survives_a_refused_or_failed_save_with_max_keep_ckpts_1(tmp_path, failure):
    """MMEngine's CheckpointHook removes the checkpoint that ``max_keep_ckpts`` lets go before it writes the new
    one; ResumableRunner's hook refuses non-finite weights before, and removes the old one only after."""
    runner = toy_runner(tmp_path, GOOD)
    runner.train()
    good = (tmp_path / 'epoch_1.pth').read_bytes()
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    if failure == 'non-finite weights':
        with torch.no_grad():
            runner.model.w.fill_(math.nan)
        with pytest.raises(FloatingPointError, match=r'refusing to write checkpoint epoch_2.pth: 1 of 1 tensors'):
            hook._save_checkpoint_with_step(runner, 2, meta=dict(epoch=2, iter=4))
    else:
        with mock.patch('mmengine.runner.runner.save_checkpoint', disk_full), pytest.raises(OSError):
            hook._save_checkpoint_with_step(runner, 2, meta=dict(epoch=2, iter=4))
    assert (tmp_path / 'epoch_1.pth').read_bytes() == good
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == ['epoch_1.pth']
    with torch.no_grad():
        runner.model.w.fill_(0.5)
    hook._save_checkpoint_with_step(runner, 2, meta=dict(epoch=2, iter=4))  # then one is kept: the new one
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == ['epoch_2.pth']


def test_the_best_checkpoint_survives_non_finite_weights(tmp_path):
    """MMEngine removes the previous best checkpoint before it writes a new one: the weights are checked first."""
    runner = toy_runner(tmp_path, GOOD, save_best='loss', rule='less')
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    runner.train()
    hook._save_best_checkpoint(runner, {'loss': 1.0})
    best = tmp_path / 'best_loss_epoch_1.pth'
    good = best.read_bytes()
    with torch.no_grad():
        runner.model.w.fill_(math.nan)
    with pytest.raises(FloatingPointError, match='refusing to write the best checkpoint'):
        hook._save_best_checkpoint(runner, {'loss': 0.5})
    assert best.read_bytes() == good


def test_save_checkpoint_refuses_non_finite_weights(tmp_path):
    runner = toy_runner(tmp_path, GOOD)
    with torch.no_grad():
        runner.model.w.fill_(math.inf)
    with pytest.raises(FloatingPointError, match=r'refusing to write checkpoint epoch_9.pth: 1 of 1 tensors .*w\)'):
        runner.save_checkpoint(str(tmp_path), 'epoch_9.pth')
    assert not list(tmp_path.glob('*.pth*'))


@pytest.mark.parametrize('config', SHIPPED_CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_every_shipped_config_trains_with_the_guard(config):
    cfg = Config.fromfile(config)
    assert issubclass(RUNNERS.get(cfg.get('runner_type', 'Runner')), ResumableRunner), cfg.get('runner_type')
    assert not any(hook.get('type') in ('DivergenceGuardHook', DivergenceGuardHook) and hook.get('action') == 'skip'
                   for hook in cfg.get('custom_hooks', []))


def test_demo_detector_with_absurd_learning_rate_stops_and_leaves_a_finite_checkpoint(tiny_data, tmp_path):
    """Epoch 1 at the demo's rate, then x1e30 (MultiStepLR): the first step of epoch 2 makes the weights huge,
    the next loss is not finite; the run stops there, with the keep-one checkpoint of epoch 1 intact."""
    config = tmp_path / 'diverging.py'
    config.write_text(f"_base_ = '{RETINANET_DEMO}'\n"
                      "param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[1], gamma=1e30)]\n")
    work_dir = tmp_path / 'work'
    result = run(TRAIN, config, '--work-dir', work_dir, '--cfg-options',
                 *tiny_run_options(tiny_data, 'model.test_cfg.score_thr'), 'train_cfg.max_epochs=3',
                 'default_hooks.checkpoint.max_keep_ckpts=1', expect_ok=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'FloatingPointError: training diverged: non-finite loss' in output
    assert 'at iteration 6 (epoch 2, batch 2 of 4): non-finite loss terms: loss=nan, loss_cls=nan' in output
    assert f'resume from the last checkpoint, {work_dir / "epoch_1.pth"}, with --resume' in output
    checkpoints = sorted(p.name for p in work_dir.glob('*.pth*'))
    assert checkpoints == ['best_coco_bbox_mAP_epoch_1.pth', 'epoch_1.pth']
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'epoch_1.pth')
    state = torch.load(work_dir / 'epoch_1.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(value).all() for value in state.values() if value.is_floating_point())
    assert [r['iter'] for r in scalars(work_dir) if 'loss' in r][-1] == 5  # the last logged step is epoch 2's first
