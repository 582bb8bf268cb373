"""Reliability: clear errors before long work, kill-and-resume without loss, determinism, 2-process runs."""
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.preflight import check_checkpoint, check_dataset_config, check_model_config
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


def test_tools_fail_fast_without_touching_the_work_dir(trained_once, tiny_data, tmp_path):
    checkpoint, options = trained_once
    work_dir = tmp_path / 'work'
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options,
                 'model.neck.in_channels=[1,2,3,4]', expect_ok=False)
    assert result.returncode != 0 and 'gives [24, 40, 112, 160]' in result.stderr
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options,
                 f'train_dataloader.dataset.data_root={tmp_path}/missing/', expect_ok=False)
    assert result.returncode != 0 and 'missing/\' does not exist' in result.stderr
    assert not work_dir.exists()

    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(checkpoint.read_bytes()[:10000])
    result = run(TEST, RETINANET_DEMO, truncated, '--work-dir', work_dir, '--cfg-options', *options,
                 expect_ok=False)
    assert result.returncode != 0 and 'truncated, corrupt' in result.stderr


def test_corrupt_image_stops_training_naming_the_file(data_copy, tmp_path):
    broken = sorted((data_copy / 'train').glob('*.png'))[3]
    broken.write_bytes(b'\x89PNG but not really')
    result = run(TRAIN, RETINANET_DEMO, '--work-dir', tmp_path / 'work', '--cfg-options',
                 *tiny_run_options(data_copy, 'model.test_cfg.score_thr'), expect_ok=False)
    assert result.returncode != 0
    assert f'failed to load image: {broken}' in result.stdout + result.stderr


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


def test_sigkill_mid_epoch_then_resume_ends_with_identical_weights(trained_once, tmp_path):
    reference, options = trained_once
    command = [sys.executable, str(TRAIN), str(RETINANET_DEMO), '--work-dir', str(tmp_path), '--cfg-options',
               *options]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if re.search(r'Epoch\(train\)\s+\[2\]\[2/4\]', line):
            process.kill()  # SIGKILL in the middle of epoch 2
            break
    process.wait(timeout=60)
    assert process.returncode == -9
    assert (tmp_path / 'epoch_1.pth').exists() and not (tmp_path / 'epoch_2.pth').exists()

    result = run(TRAIN, RETINANET_DEMO, '--work-dir', tmp_path, '--resume', '--cfg-options', *options)
    assert 'resumed epoch: 1, iter: 4' in result.stdout + result.stderr
    assert 'restored the random generator states' in result.stdout + result.stderr
    resumed = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    expected = torch.load(reference, weights_only=True)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 12
    assert resumed['state_dict'].keys() == expected['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    for a, b in zip(resumed['optimizer']['state'].values(), expected['optimizer']['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg'])


def test_checkpoint_write_is_atomic(tiny_data, tmp_path):
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = f'{tiny_data}/'
    runner = RUNNERS.build(cfg)
    runner.save_checkpoint(str(tmp_path), 'epoch_1.pth', save_optimizer=False, save_param_scheduler=False)
    good = (tmp_path / 'epoch_1.pth').read_bytes()

    def killed_while_writing(checkpoint, filename, **kwargs):
        with open(filename, 'wb') as f:
            f.write(b'half a checkpoint')
        raise KeyboardInterrupt('killed while writing')

    with mock.patch('mmengine.runner.runner.save_checkpoint', killed_while_writing):
        with pytest.raises(KeyboardInterrupt):
            runner.save_checkpoint(str(tmp_path), 'epoch_1.pth', save_optimizer=False, save_param_scheduler=False)
    assert (tmp_path / 'epoch_1.pth').read_bytes() == good
    assert torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['meta']['rng_state']
    assert isinstance(runner, Runner) and type(runner).__name__ == 'ResumableRunner'


# ------------------------------------------------------------------------------------------ 2 processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_training_and_evaluation_match_one_process(trained_once, tmp_path):
    checkpoint, options = trained_once
    env = dict(PYTHON=sys.executable, PORT=str(free_port()))
    train = subprocess.run(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(RETINANET_DEMO), '2', '--work-dir',
                            str(tmp_path / 'dist'), '--cfg-options', *options, 'train_cfg.max_epochs=1'],
                           cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                           timeout=600)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    losses = [r['loss'] for r in scalars(tmp_path / 'dist') if 'loss' in r]
    assert len(losses) == 2  # 16 images / (2 processes x 4) per iteration

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
        for key in ('bboxes', 'scores', 'labels'):
            torch.testing.assert_close(predictions[1][img_id][key], expected[key], atol=1e-5, rtol=1e-5)
