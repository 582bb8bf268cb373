"""Reliability: clear errors before long work, kill-and-resume without loss, determinism, 2-process runs."""
import contextlib
import errno
import io
import json
import math
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.engine.preflight import check_checkpoint, check_dataset_config, check_model_config
from mmdet_ghostnet.engine.training_record import assemble, read_start
from tool_runs import REPO, RETINANET_DEMO, run, scalars, tiny_run_options

TRAIN = REPO / 'tools' / 'train.py'
TEST = REPO / 'tools' / 'test.py'


@pytest.fixture
def data_copy(tiny_data, tmp_path):
    """A private copy of the tiny set that a test may break."""
    return shutil.copytree(tiny_data, tmp_path / 'data')


def demo_dataset_cfg(data_root):
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.train_dataloader.dataset.data_root = f'{data_root}/'
    return cfg.train_dataloader.dataset


# ---------------------------------------------------------------------------------- errors before work
def test_missing_data_root_names_path_and_demo_tool(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data_root='.*nowhere/' does not exist.*make_demo_data"):
        check_dataset_config('train_dataloader', demo_dataset_cfg(tmp_path / 'nowhere'))


@pytest.mark.parametrize('remove, words', [
    ('annotations/instances_train.json', 'the annotation file'),
    ('train', 'the image folder'),
])
def test_missing_annotation_file_or_image_folder(data_copy, remove, words):
    target = data_copy / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(FileNotFoundError) as info:
        check_dataset_config('train_dataloader', demo_dataset_cfg(data_copy))
    assert words in str(info.value) and str(target) in str(info.value)


@pytest.mark.parametrize('content, words', [
    ('{"images": [', 'is not valid JSON'),
    ('[1, 2, 3]', 'is not a COCO instances file'),
    ('{"images": [], "annotations": []}', "lacks the lists ['categories']"),
])
def test_annotation_file_that_is_not_coco(data_copy, content, words):
    (data_copy / 'annotations' / 'instances_train.json').write_text(content)
    with pytest.raises(ValueError, match=re.escape(words)):
        check_dataset_config('train_dataloader', demo_dataset_cfg(data_copy))


def test_categories_matching_no_class(data_copy):
    path = data_copy / 'annotations' / 'instances_train.json'
    content = json.loads(path.read_text())
    for category in content['categories']:
        category['name'] = category['name'].upper()
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"no category .*'CIRCLE'.* is one of the config's classes.*'circle'"):
        check_dataset_config('train_dataloader', demo_dataset_cfg(data_copy))


def test_neck_not_fitting_backbone_says_which_channels_fit():
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.model.neck.in_channels = [28, 44, 124, 176]
    with pytest.raises(ValueError, match=r'in_channels=\[28, 44, 124, 176\].*gives \[24, 40, 112, 160\]'):
        check_model_config(cfg.model)
    cfg.model.backbone.out_indices = (3, 12)
    with pytest.raises(ValueError, match=r'out_indices=\(3, 12\)'):
        check_model_config(cfg.model)


def test_bad_checkpoints_are_named(tmp_path):
    model = GhostNet(widen_factor=0.5)
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': model.state_dict()}, good)
    check_checkpoint(str(good), model)

    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint' * 100)
    for path in (truncated, garbage):
        with pytest.raises(ValueError, match='cannot be read: it is truncated, corrupt'):
            check_checkpoint(str(path), model)
    with pytest.raises(ValueError, match=r'belongs to another model.*keys of another shape'):
        check_checkpoint(str(good), GhostNet(widen_factor=1.0))
    with pytest.raises(ValueError, match=r'belongs to another model.*unexpected keys \[.blocks\.'):
        check_checkpoint(str(good), GhostNet(widen_factor=0.5, out_indices=(3, )))


def folder_snapshot(folder) -> dict:
    """``{relative path: bytes}`` of every file under ``folder`` (empty if it does not exist)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}


def test_tools_fail_fast_without_creating_the_work_dir(trained_once, tmp_path):
    checkpoint, options = trained_once
    work_dir = tmp_path / 'work'
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options,
                 'model.neck.in_channels=[1,2,3,4]', expect_ok=False)
    assert result.returncode != 0 and 'gives [24, 40, 112, 160]' in result.stderr
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options,
                 f'train_dataloader.dataset.data_root={tmp_path}/missing/', expect_ok=False)
    assert result.returncode != 0 and 'missing/\' does not exist' in result.stderr
    assert not work_dir.exists()


@pytest.fixture
def bad_checkpoints(trained_once, tmp_path):
    """A truncated copy of a good checkpoint, and a checkpoint of another model (a GhostNet 0.5x backbone)."""
    checkpoint, _ = trained_once
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(checkpoint.read_bytes()[:10000])
    foreign = tmp_path / 'foreign.pth'
    torch.save({'state_dict': GhostNet(widen_factor=0.5).state_dict()}, foreign)
    return dict(truncated=(truncated, 'truncated, corrupt'), foreign=(foreign, 'belongs to another model'))


@pytest.mark.parametrize('tool, kind, existing_work_dir', [
    ('test.py', 'truncated', False),
    ('train.py --resume PATH', 'truncated', False),
    ('train.py --resume PATH', 'foreign', True),
    ('train.py load_from', 'foreign', False),
])
def test_bad_checkpoint_is_refused_leaving_work_dirs_alone(trained_once, bad_checkpoints, tmp_path, tool, kind,
                                                           existing_work_dir):
    """Refused before the runner is built: no work dir is created, an existing one is left as it was."""
    checkpoint, options = trained_once
    path, words = bad_checkpoints[kind]
    work_dir = tmp_path / 'work'
    if existing_work_dir:
        shutil.copytree(checkpoint.parent, work_dir)
    before = folder_snapshot(work_dir)
    args = {
        'test.py': (TEST, RETINANET_DEMO, path, '--cfg-options', *options),
        'train.py --resume PATH': (TRAIN, RETINANET_DEMO, '--resume', path, '--cfg-options', *options),
        'train.py load_from': (TRAIN, RETINANET_DEMO, '--cfg-options', *options, f'load_from={path}'),
    }[tool]
    result = run(*args, '--work-dir', work_dir, expect_ok=False)
    assert result.returncode != 0 and f"checkpoint='{path}'" in result.stderr and words in result.stderr
    assert work_dir.exists() == existing_work_dir
    assert folder_snapshot(work_dir) == before


def test_unreadable_training_images_are_skipped_naming_each_file(data_copy, tmp_path):
    """A file that is no image and a truncated one among the training images: training goes on without them
    (MMEngine draws other samples), and the log names each with a running count."""
    files = sorted((data_copy / 'train').glob('*.png'))
    files[3].write_bytes(b'\x89PNG but not really')
    files[6].write_bytes(files[6].read_bytes()[:100])
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', tmp_path / 'work', '--cfg-options',
                 *tiny_run_options(data_copy, 'model.test_cfg.score_thr'))
    output = result.stdout + result.stderr
    for broken in (files[3], files[6]):
        assert f'skipped training image {broken}: it cannot be decoded' in output
    assert '2 unreadable image(s) skipped so far' in output
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()


# ------------------------------------------------------------------------------ kill, resume, determinism
def reliable_options(data_root, epochs):
    return tiny_run_options(data_root, 'model.test_cfg.score_thr') + [
        f'train_cfg.max_epochs={epochs}', 'randomness.deterministic=True',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ]


@pytest.fixture(scope='module')
def trained_once(tiny_data, tmp_path_factory):
    """An uninterrupted 3-epoch run (4 iterations per epoch), deterministic, checkpoint every epoch."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    options = reliable_options(tiny_data, 3)
    run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options)
    return work_dir / 'epoch_3.pth', options


def test_same_seed_gives_identical_losses(trained_once, tmp_path):
    checkpoint, options = trained_once
    run(TRAIN, RETINANET_DEMO, '--work-dir', tmp_path, '--cfg-options', *options, 'train_cfg.max_epochs=1')
    first = [r['loss'] for r in scalars(checkpoint.parent) if 'loss' in r][:4]
    again = [r['loss'] for r in scalars(tmp_path) if 'loss' in r]
    assert len(again) == 4 and again == first


def kill_when_logged(pattern: str, options: list, work_dir) -> None:
    """Train the demo config into ``work_dir`` and SIGKILL it as soon as a log line matches ``pattern``."""
    command = [sys.executable, str(TRAIN), str(RETINANET_DEMO), '--work-dir', str(work_dir), '--cfg-options',
               *options]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if re.search(pattern, line):
            process.kill()
            break
    process.wait(timeout=60)
    assert process.returncode == -9


def resume(options: list, work_dir) -> str:
    """``train.py --resume`` in ``work_dir``; its output."""
    resumed = run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--resume', '--cfg-options', *options)
    return resumed.stdout + resumed.stderr


def validations(records: list) -> list:
    """(epoch, bbox mAP) of the validation records among mmengine scalars."""
    return [(record['step'], record['coco/bbox_mAP']) for record in records if 'coco/bbox_mAP' in record]


@pytest.fixture(scope='module')
def killed_and_resumed(trained_once, tmp_path_factory):
    """The run of ``trained_once`` SIGKILLed in the middle of epoch 2, then resumed with ``--resume``."""
    _, options = trained_once
    work_dir = tmp_path_factory.mktemp('killed')
    kill_when_logged(r'Epoch\(train\)\s+\[2\]\[2/4\]', options, work_dir)
    assert (work_dir / 'epoch_1.pth').exists() and not (work_dir / 'epoch_2.pth').exists()
    (work_dir / 'epoch_2.pth.partial').write_bytes(b'x' * 2**20)  # as a kill while saving leaves it
    return work_dir, resume(options, work_dir)


def test_partial_checkpoint_left_by_a_kill_is_reported_and_removed_at_start(killed_and_resumed):
    work_dir, output = killed_and_resumed
    assert f'removed {work_dir / "epoch_2.pth.partial"} (1.0 MiB), left by a checkpoint save that did not finish' \
        in output
    assert not list(work_dir.glob('*.partial'))


def test_sigkill_mid_epoch_then_resume_ends_with_identical_weights_and_optimizer_state(trained_once,
                                                                                        killed_and_resumed):
    reference, _ = trained_once
    work_dir, output = killed_and_resumed
    assert 'resumed epoch: 1, iter: 4' in output
    assert 'restored the random generator states' in output
    resumed = torch.load(work_dir / 'epoch_3.pth', weights_only=True)
    expected = torch.load(reference, weights_only=True)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 12
    assert resumed['meta']['epoch'] == expected['meta']['epoch'] == 3
    # Weights, and the whole optimizer state: per parameter exp_avg, exp_avg_sq and step, and the
    # param groups (learning rate, betas, weight decay); the LR schedulers' state.
    states = expected['optimizer']['state'].values()
    assert states and all({'exp_avg', 'exp_avg_sq', 'step'} <= set(state) for state in states)
    assert all('lr' in group for group in expected['optimizer']['param_groups'])
    assert expected['param_schedulers']
    for key in ('optimizer', 'param_schedulers', 'state_dict'):
        assert_identical(resumed[key], expected[key], key)


def test_training_record_of_a_resumed_run_is_the_uninterrupted_runs(trained_once, killed_and_resumed):
    """The study's record of the killed-and-resumed run: two starts, the epochs of the uninterrupted run once each."""
    reference, _ = trained_once
    work_dir, _ = killed_and_resumed
    record = assemble(work_dir)
    key = ('epoch', 'iter', 'step', 'lr', 'loss', 'coco/bbox_mAP')
    pick = lambda records: [{k: r[k] for k in key if k in r} for r in records]  # noqa: E731
    assert record.starts == 2
    assert pick(record.records) == pick(scalars(reference.parent))
    assert [r['step'] for r in record.records if 'coco/bbox_mAP' in r] == [1, 2, 3]
    spans = [read_start(folder).wall_seconds() for folder in sorted(work_dir.glob('2*_*'))]
    assert len(spans) == 2 and spans[1] <= record.train_wall_s <= sum(spans)
    assert record.log.count('System environment') == 2


def test_kill_during_a_validation_then_resume_validates_that_epoch_as_the_uninterrupted_run(trained_once, tmp_path):
    """The checkpoint of a validated epoch is written after its validation: a run killed during the validation of
    epoch 2 resumes from epoch 1 and validates epoch 2 (MMEngine's CheckpointHook would have written epoch_2.pth
    before, and the resumed run would have skipped that validation)."""
    reference, options = trained_once
    kill_when_logged(r'Epoch\(val\)\s+\[2\]\[1/2\]', options, tmp_path)
    assert (tmp_path / 'epoch_1.pth').exists() and not (tmp_path / 'epoch_2.pth').exists()
    assert 'resumed epoch: 1, iter: 4' in resume(options, tmp_path)
    assert validations(assemble(tmp_path).records) == validations(scalars(reference.parent))
    assert [epoch for epoch, _ in validations(scalars(reference.parent))] == [1, 2, 3]
    assert_identical(torch.load(tmp_path / 'epoch_3.pth', weights_only=True)['state_dict'],
                     torch.load(reference, weights_only=True)['state_dict'], 'state_dict')
    for epoch in (1, 2, 3):
        hub = torch.load(reference.parent / f'epoch_{epoch}.pth', weights_only=True)['message_hub']
        assert hub['runtime_info']['validated_epoch'] == epoch


def test_resume_from_a_checkpoint_written_before_its_validation_validates_that_epoch_first(trained_once, tmp_path):
    """A checkpoint of a validated epoch without its validation (as MMEngine's CheckpointHook writes them): the
    resumed run validates that epoch, with the uninterrupted run's result, before training on."""
    reference, options = trained_once
    checkpoint = torch.load(reference.parent / 'epoch_2.pth', weights_only=True)
    del checkpoint['message_hub']['runtime_info']['validated_epoch']
    torch.save(checkpoint, tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    output = resume(options, tmp_path)
    assert 'the checkpoint of epoch 2 was written before its validation: validating now' in output
    assert re.search(r'Epoch\(val\)\s+\[2\]', output).start() < re.search(r'Epoch\(train\)\s+\[3\]', output).start()
    assert validations(scalars(tmp_path)) == validations(scalars(reference.parent))[1:]
    assert torch.load(tmp_path / 'epoch_2.pth', weights_only=True)['message_hub']['runtime_info'][
        'validated_epoch'] == 2  # written again, validated: a second resume from it does not validate again
    assert_identical(torch.load(tmp_path / 'epoch_3.pth', weights_only=True)['state_dict'],
                     torch.load(reference, weights_only=True)['state_dict'], 'state_dict')


def assert_identical(got, expected, where: str) -> None:
    """Recursively: same keys / lengths, tensors equal bit for bit, other values equal."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), (where, set(got) ^ set(expected))
        for key in expected:
            assert_identical(got[key], expected[key], f'{where}.{key}')
    elif isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected), where
        for index, (a, b) in enumerate(zip(got, expected)):
            assert_identical(a, b, f'{where}[{index}]')
    elif isinstance(expected, torch.Tensor):
        assert isinstance(got, torch.Tensor) and torch.equal(got, expected), where
    else:
        assert got == expected, (where, got, expected)


def killed_while_writing(checkpoint, filename, **kwargs):
    """Stands in for mmengine's ``save_checkpoint``: half a file is written, then the process is 'killed'."""
    with open(filename, 'wb') as f:
        f.write(b'half a checkpoint')
    raise KeyboardInterrupt('killed while writing')


def test_kill_while_saving_leaves_last_checkpoint_naming_a_complete_file(tiny_data, tmp_path):
    """Saved through MMEngine's CheckpointHook, as in training: a kill while (re)writing a checkpoint leaves the
    file that ``last_checkpoint`` names complete, and no truncated checkpoint under a checkpoint name."""
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = f'{tiny_data}/'
    runner = RUNNERS.build(cfg)
    assert isinstance(runner, Runner) and type(runner).__name__ == 'ResumableRunner'
    hook = CheckpointHook(interval=1, save_optimizer=False, save_param_scheduler=False)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 1, meta=dict(epoch=1, iter=4))
    last_checkpoint = tmp_path / 'last_checkpoint'
    assert last_checkpoint.read_text() == str(tmp_path / 'epoch_1.pth')
    good = (tmp_path / 'epoch_1.pth').read_bytes()

    with mock.patch('mmengine.runner.runner.save_checkpoint', killed_while_writing):
        for step in (1, 2):  # the file last_checkpoint names, then a new one
            with pytest.raises(KeyboardInterrupt):
                hook._save_checkpoint_with_step(runner, step, meta=dict(epoch=step, iter=4 * step))
    assert last_checkpoint.read_text() == str(tmp_path / 'epoch_1.pth')
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    assert (tmp_path / 'epoch_1.pth').read_bytes() == good
    assert torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['meta']['rng_state']
    assert not (tmp_path / 'epoch_2.pth').exists() and not list(tmp_path.glob('*.partial'))


def disk_full_while_writing(checkpoint, filename, **kwargs):
    """Stands in for mmengine's ``save_checkpoint`` on a full disk: part of the file, then ENOSPC."""
    with open(filename, 'wb') as f:
        f.write(b'part of a checkpoint')
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


WEIGHTS_ONLY = dict(save_optimizer=False, save_param_scheduler=False)  # the runner has not built them


def test_failed_save_removes_its_partial_file_and_says_how_much_room_is_needed(tiny_data, tmp_path):
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.work_dir = str(tmp_path)
    cfg.visualizer.name = tmp_path.name  # its own visualizer (the config's name is shared by all runners)
    cfg.train_dataloader.dataset.data_root = f'{tiny_data}/'
    runner = RUNNERS.build(cfg)
    out = tmp_path / 'checkpoints'
    out.mkdir()
    with mock.patch('mmengine.runner.runner.save_checkpoint', disk_full_while_writing):
        with pytest.raises(OSError) as first:
            runner.save_checkpoint(str(out), 'epoch_1.pth', **WEIGHTS_ONLY)
    assert first.value.errno == errno.ENOSPC and not list(out.iterdir())
    assert (f'No space left on device: writing checkpoint {out / "epoch_1.pth"} failed and the partial file '
            'was removed; a checkpoint needs about ') in str(first.value)
    assert re.search(r' MiB \(the size of the weights and optimizer state\), [\d.]+ MiB are free in ', str(first.value))
    serialized = io.BytesIO()  # the estimate against what the weights take once written (no optimizer yet)
    torch.save(runner.model.state_dict(), serialized)
    estimate = float(re.search(r'needs about ([\d.]+) MiB', str(first.value)).group(1))
    assert estimate == pytest.approx(len(serialized.getvalue()) / 2**20, rel=0.05)

    runner.save_checkpoint(str(out), 'epoch_1.pth', **WEIGHTS_ONLY)
    (out / 'last_checkpoint').write_text(str(out / 'epoch_1.pth'))
    size = (out / 'epoch_1.pth').stat().st_size / 2**20
    with mock.patch('mmengine.runner.runner.save_checkpoint', disk_full_while_writing):
        with pytest.raises(OSError, match=re.escape(f'needs about {size:.1f} MiB (the size of the previous '
                                                    f'checkpoint, {out / "epoch_1.pth"}), ')):
            runner.save_checkpoint(str(out), 'epoch_2.pth', **WEIGHTS_ONLY)
    assert sorted(p.name for p in out.iterdir()) == ['epoch_1.pth', 'last_checkpoint']


# ------------------------------------------------------------------------------------------ 2 processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_training_runs_and_two_process_evaluation_matches_one_process(trained_once, tmp_path):
    """dist_train.sh with 2 processes trains (each process takes half of every batch of 8, so one epoch of 16
    images is 2 iterations); dist_test.sh gives the metrics and detections of a 1-process evaluation. Training
    is not compared with 1 process: per-process BatchNorm statistics and loss normalisation make it differ."""
    checkpoint, options = trained_once
    env = dict(PYTHON=sys.executable, PORT=str(free_port()))
    train = subprocess.run(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(RETINANET_DEMO), '2', '--work-dir',
                            str(tmp_path / 'dist'), '--cfg-options', *options, 'train_cfg.max_epochs=1'],
                           cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                           timeout=600)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    losses = [r['loss'] for r in scalars(tmp_path / 'dist') if 'loss' in r]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)  # 16 images / (2 processes x 4)
    assert torch.load(tmp_path / 'dist' / 'epoch_1.pth', weights_only=True)['meta']['iter'] == 2

    env['PORT'] = str(free_port())
    test = subprocess.run(['bash', str(REPO / 'tools' / 'dist_test.sh'), str(RETINANET_DEMO), str(checkpoint), '2',
                           '--work-dir', str(tmp_path / 'dist_test'), '--out', str(tmp_path / 'two.pkl'),
                           '--cfg-options', *options],
                          cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    single = run(TEST, RETINANET_DEMO, checkpoint, '--work-dir', tmp_path / 'single', '--out', tmp_path / 'one.pkl',
                 '--cfg-options', *options)
    two = [line for line in test.stdout.splitlines() if line.startswith('metrics:')]
    one = [line for line in single.stdout.splitlines() if line.startswith('metrics:')]
    assert len(one) == len(two) == 1 and two == one, (one, two)
    # The detections themselves, image by image, not only the (coarse) metrics.
    predictions = [{p['img_id']: p['pred_instances'] for p in pickle.load(open(tmp_path / f, 'rb'))}
                   for f in ('one.pkl', 'two.pkl')]
    assert predictions[0].keys() == predictions[1].keys() and len(predictions[0]) == 8
    for img_id, expected in predictions[0].items():
        assert len(expected['scores']) > 0, img_id
        for key in ('bboxes', 'scores', 'labels'):
            torch.testing.assert_close(predictions[1][img_id][key], expected[key], atol=1e-5, rtol=1e-5)


def process_states() -> dict:
    """``{pid: (parent pid, state letter)}`` of the machine's processes, from /proc."""
    states = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            state, parent = stat.read_text().rsplit(')', 1)[1].split()[:2]
        except (OSError, IndexError):
            continue  # gone meanwhile
        states[int(stat.parent.name)] = (int(parent), state)
    return states


def kill_process_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants, and wait until none of them runs any more."""
    states = process_states()
    tree, todo = [], [pid]
    while todo:
        parent = todo.pop()
        tree.append(parent)
        todo += [child for child, (its_parent, _) in states.items() if its_parent == parent]
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while any(process_states().get(member, (0, 'Z'))[1] not in 'ZX' for member in tree):
        assert time.monotonic() < deadline, f'processes {tree} survived SIGKILL'
        time.sleep(0.1)


def same_generator_states(a: dict, b: dict) -> bool:
    """Whether two states of ``capture_rng_state`` (Python, numpy, torch) are equal."""
    return (a['python'] == b['python'] and torch.equal(a['torch'], b['torch'])
            and all(np.array_equal(x, y) for x, y in zip(a['numpy'], b['numpy'])))


def dist_train(work_dir, options: list, *extra) -> list:
    """The command of a 2-process ``tools/dist_train.sh`` run of the demo config into ``work_dir``."""
    return ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(RETINANET_DEMO), '2', '--work-dir', str(work_dir),
            *extra, '--cfg-options', *options]


def test_two_process_kill_and_resume_restores_each_process_random_stream(tiny_data, tmp_path):
    """With a seed per process (``diff_rank_seed``), the processes draw different augmentations. A 2-process run
    SIGKILLed in epoch 2 and resumed ends epoch 2 with each process's generator states, and the weights, of an
    uninterrupted run (restoring one process's states on both would give process 1 the stream of process 0)."""
    options = reliable_options(tiny_data, 2) + ['randomness.diff_rank_seed=True']
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    reference = subprocess.run(dist_train(tmp_path / 'reference', options), cwd=REPO, env=env, capture_output=True,
                               text=True, timeout=600)
    assert reference.returncode == 0, reference.stdout[-3000:] + reference.stderr[-3000:]

    killed = tmp_path / 'killed'
    env['PORT'] = str(free_port())
    process = subprocess.Popen(dist_train(killed, options), cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in process.stdout:
        if re.search(r'Epoch\(train\)\s+\[2\]\[1/2\]', line):
            kill_process_tree(process.pid)  # torchrun starts its workers in sessions of their own
            break
    process.wait(timeout=60)
    assert (killed / 'epoch_1.pth').exists() and not (killed / 'epoch_2.pth').exists()
    env['PORT'] = str(free_port())
    resumed = subprocess.run(dist_train(killed, options, '--resume'), cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert 'resumed epoch: 1, iter: 2' in resumed.stdout + resumed.stderr

    expected = torch.load(tmp_path / 'reference' / 'epoch_2.pth', weights_only=True)
    got = torch.load(killed / 'epoch_2.pth', weights_only=True)
    streams = expected['meta']['rng_state']
    assert len(streams) == 2 and not same_generator_states(streams[0], streams[1])
    assert len(got['meta']['rng_state']) == 2
    assert all(same_generator_states(a, b) for a, b in zip(got['meta']['rng_state'], streams))
    assert_identical(got['state_dict'], expected['state_dict'], 'state_dict')
