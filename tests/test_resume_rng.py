"""Random generator states in checkpoints: one per process, and the single state of earlier versions."""
import random
from unittest import mock

import numpy as np
import torch

from mmdet_ghostnet.engine.runner import capture_rng_state
from test_divergence import GOOD, toy_runner


def resume_with_rng_state(tmp_path, rng_state) -> tuple:
    """Train a toy runner one epoch, replace its checkpoint's ``rng_state``, resume a new runner from it; the
    next Python, numpy and torch draws after the resume, and the warnings about random generators."""
    toy_runner(tmp_path / 'first', GOOD).train()
    checkpoint = torch.load(tmp_path / 'first' / 'epoch_1.pth', weights_only=True)
    assert isinstance(checkpoint['meta']['rng_state'], list) and len(checkpoint['meta']['rng_state']) == 1
    checkpoint['meta']['rng_state'] = rng_state
    torch.save(checkpoint, tmp_path / 'edited.pth')
    resumed = toy_runner(tmp_path / 'second', GOOD)
    resumed.optim_wrapper = resumed.build_optim_wrapper(resumed.optim_wrapper)  # as train() does before resuming
    with mock.patch.object(resumed.logger, 'warning', wraps=resumed.logger.warning) as warning:
        resumed.resume(str(tmp_path / 'edited.pth'))
    draws = random.random(), float(np.random.rand()), float(torch.rand(1))
    return draws, [call.args[0] for call in warning.call_args_list if 'random generator' in call.args[0]]


def draws_after(seed: int) -> tuple:
    """The state after seeding every generator with ``seed``, and the draws that follow it."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    state = capture_rng_state()
    return state, (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_one_state_per_process_restores_this_process_state(tmp_path):
    state, expected = draws_after(123)
    assert resume_with_rng_state(tmp_path, [state]) == (expected, [])


def test_single_state_of_an_earlier_version_is_restored(tmp_path):
    state, expected = draws_after(321)
    assert resume_with_rng_state(tmp_path, state) == (expected, [])


def test_states_of_another_number_of_processes_are_not_restored(tmp_path):
    state, expected = draws_after(7)
    draws, warnings = resume_with_rng_state(tmp_path, [state, state])
    assert draws != expected
    assert warnings == ['the checkpoint holds the random generator states of 2 processes, this run has 1: they are '
                        'not restored']
