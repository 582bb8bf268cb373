"""Detector configs and the train/test tools end to end, on a tiny generated COCO set (CPU)."""
import math
import pickle
import re
from pathlib import Path

import mmdet
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from mmdet_ghostnet import GhostFPN, GhostNet
from timm_oracle import timm_ghostnet

from tool_runs import FASTER_RCNN_DEMO, REPO, RETINANET_DEMO, run, scalars, tiny_run_options

CONFIGS = sorted((REPO / 'configs').glob('*.py')) + sorted((REPO / 'configs' / 'demo').glob('*.py'))
MMDET_TOOLS = Path(mmdet.__file__).parent / '.mim' / 'tools'


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.name)
def test_config_builds_with_neck_fitting_backbone(config):
    cfg = Config.fromfile(config)
    assert cfg.custom_imports.imports == ['mmdet_ghostnet']
    init_cfg = cfg.model.backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.type == 'Pretrained':  # a release URL: tested in test_official_weights
        init_cfg.checkpoint = None
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, GhostNet) and isinstance(model.neck, GhostFPN)
    assert list(model.neck.in_channels) == list(model.backbone.out_channels)
    model.init_weights()
    images = torch.randn(1, 3, 160, 224)
    with torch.no_grad():
        taps = model.eval().backbone(images)
        features = model.extract_feat(images)
    assert len(features) == cfg.model.neck.num_outs
    # the first output has the resolution of the first tap used: stride 4 for the paper's taps (light: 8)
    first_stride = 2**(min(cfg.model.backbone.out_indices) // 2 + 1 + model.neck.start_level)
    assert features[0].shape[-2:] == taps[model.neck.start_level].shape[-2:] == (math.ceil(160 / first_stride),
                                                                                 math.ceil(224 / first_stride))


def test_paper_configs_use_width_1_1_and_the_paper_taps():
    for name in ('retinanet_ghostnet_fpn_coco.py', 'faster-rcnn_ghostnet_fpn_coco.py'):
        cfg = Config.fromfile(REPO / 'configs' / name)
        assert cfg.model.backbone.widen_factor == 1.1
        assert tuple(cfg.model.backbone.out_indices) == (3, 5, 7, 9)
        assert cfg.train_cfg.max_epochs == 12
        assert cfg.train_dataloader.dataset.data_root == 'data/coco/'


def test_imagenet_weights_through_cfg_options(tmp_path):
    oracle = timm_ghostnet(1.0)
    path = tmp_path / 'state_dict_73.98.pth'
    torch.save(oracle.state_dict(), path)
    cfg = Config.fromfile(REPO / 'configs' / 'retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py')
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': str(path)})
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, oracle.state_dict()[key]), key


@pytest.fixture(scope='module')
def trained(tiny_data, tmp_path_factory):
    """One epoch (4 iterations) of the RetinaNet demo config through tools/train.py."""
    work_dir = tmp_path_factory.mktemp('retinanet')
    options = tiny_run_options(tiny_data, 'model.test_cfg.score_thr')
    run(REPO / 'tools' / 'train.py', RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options)
    return work_dir, options


def test_train_gives_finite_losses_checkpoint_and_coco_map(trained):
    work_dir, _ = trained
    records = scalars(work_dir)
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 4 and all(math.isfinite(x) for x in losses)
    assert any('coco/bbox_mAP' in r and 0 <= r['coco/bbox_mAP'] <= 1 for r in records)
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 4 and checkpoint['meta']['epoch'] == 1


def test_resume_continues_from_the_saved_iteration(trained, tmp_path):
    work_dir, options = trained
    resumed_dir = tmp_path / 'resumed'
    resumed_dir.mkdir()
    (resumed_dir / 'epoch_1.pth').write_bytes((work_dir / 'epoch_1.pth').read_bytes())
    result = run(REPO / 'tools' / 'train.py', RETINANET_DEMO, '--work-dir', resumed_dir, '--resume',
                 resumed_dir / 'epoch_1.pth', '--cfg-options', *options, 'train_cfg.max_epochs=2')
    assert 'resumed epoch: 1, iter: 4' in result.stdout + result.stderr
    iters = [r['iter'] for r in scalars(resumed_dir) if 'loss' in r]
    assert iters == [5, 6, 7, 8]
    assert torch.load(resumed_dir / 'epoch_2.pth', weights_only=True)['meta']['iter'] == 8


def load_predictions(path: Path) -> dict:
    """``DumpDetResults`` pickle -> ``{img_id: pred_instances}``."""
    with open(path, 'rb') as f:
        return {p['img_id']: p['pred_instances'] for p in pickle.load(f)}


def metrics_lines(result) -> list:
    return [line for line in result.stdout.splitlines() if line.startswith('metrics:')]


@pytest.fixture(scope='module')
def tested(trained, tmp_path_factory):
    """tools/test.py (no deploy) on the trained checkpoint, with ``--out``: its process result and predictions."""
    work_dir, options = trained
    out_dir = tmp_path_factory.mktemp('tested')
    result = run(REPO / 'tools' / 'test.py', RETINANET_DEMO, work_dir / 'epoch_1.pth', '--work-dir', out_dir,
                 '--out', out_dir / 'predictions.pkl', '--cfg-options', *options)
    return result, load_predictions(out_dir / 'predictions.pkl')


def test_test_tool_evaluates_a_saved_checkpoint(tested):
    result, predictions = tested
    assert "'coco/bbox_mAP':" in result.stdout
    assert len(metrics_lines(result)) == 1
    assert len(predictions) == 8


def assert_same_detections(expected: dict, got: dict) -> None:
    """Same images, and per image the same number of boxes with the same sorted scores, each box of ``got``
    within 0.01 px of a box of ``expected`` with the same label (order may differ among near-equal scores)."""
    assert got.keys() == expected.keys() and len(expected) == 8
    for img_id, a in expected.items():
        b = got[img_id]
        assert len(a['scores']) == len(b['scores']) > 0, img_id  # score_thr=0: every image has detections
        torch.testing.assert_close(b['scores'].sort().values, a['scores'].sort().values, rtol=0, atol=1e-4)
        distance = torch.cdist(b['bboxes'], a['bboxes'], p=float('inf'))
        distance[b['labels'][:, None] != a['labels'][None, :]] = float('inf')
        assert distance.min(dim=1).values.max() <= 1e-2, img_id


def test_deploy_flag_folds_batchnorms_and_keeps_detections_and_metrics(trained, tested, tmp_path):
    work_dir, options = trained
    plain, expected = tested
    result = run(REPO / 'tools' / 'test.py', RETINANET_DEMO, work_dir / 'epoch_1.pth', '--work-dir', tmp_path,
                 '--deploy', '--out', tmp_path / 'deploy.pkl', '--cfg-options', *options)
    assert re.search(r'FuseConvBNHook: folded ([1-9]\d*) of \1 BatchNorms', result.stdout + result.stderr)
    assert_same_detections(expected, load_predictions(tmp_path / 'deploy.pkl'))
    assert metrics_lines(result) == metrics_lines(plain)


def test_fuse_hook_in_custom_hooks_works_with_mmdetection_own_test_tool(trained, tested, tmp_path):
    """``custom_hooks = [dict(type='FuseConvBNHook')]`` folds the model after the checkpoint is loaded, also
    when MMDetection's own tools/test.py (its plain Runner) runs the config."""
    work_dir, options = trained
    _, expected = tested
    config = tmp_path / 'deploy_config.py'
    config.write_text(f"_base_ = [{str(RETINANET_DEMO)!r}]\ncustom_hooks = [dict(type='FuseConvBNHook')]\n")
    result = run(MMDET_TOOLS / 'test.py', config, work_dir / 'epoch_1.pth', '--work-dir', tmp_path / 'work',
                 '--out', tmp_path / 'deploy.pkl', '--cfg-options', *options)
    assert re.search(r'FuseConvBNHook: folded ([1-9]\d*) of \1 BatchNorms', result.stdout + result.stderr)
    assert_same_detections(expected, load_predictions(tmp_path / 'deploy.pkl'))


def test_mmdetection_own_tools_work_with_our_config(trained, tmp_path):
    _, options = trained
    run(MMDET_TOOLS / 'train.py', RETINANET_DEMO, '--work-dir', tmp_path, '--cfg-options', *options)
    result = run(MMDET_TOOLS / 'test.py', RETINANET_DEMO, tmp_path / 'epoch_1.pth', '--work-dir', tmp_path / 'test',
                 '--cfg-options', *options)
    assert 'coco/bbox_mAP' in result.stdout + result.stderr


def test_faster_rcnn_trains_and_evaluates(tiny_data, tmp_path):
    options = tiny_run_options(tiny_data, 'model.test_cfg.rcnn.score_thr')
    run(REPO / 'tools' / 'train.py', FASTER_RCNN_DEMO, '--work-dir', tmp_path, '--cfg-options', *options)
    records = scalars(tmp_path)
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 4 and all(math.isfinite(x) for x in losses)
    assert any('coco/bbox_mAP' in r for r in records)


@pytest.mark.parametrize('args, words', [
    (['configs/missing.py'], ["config='configs/missing.py' does not exist"]),
    (['README.md'], ["config='README.md' is not a Python config"]),
    ([str(RETINANET_DEMO), '--resume', 'nowhere.pth'], ["--resume='nowhere.pth' does not exist"]),
])
def test_train_tool_rejects_bad_arguments(args, words):
    result = run(REPO / 'tools' / 'train.py', *args, expect_ok=False)
    assert result.returncode == 2
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize('args, words', [
    ([str(RETINANET_DEMO), 'nowhere.pth'], ["checkpoint='nowhere.pth' does not exist"]),
    ([str(RETINANET_DEMO), 'README.md', '--out', 'results.json'], ["--out='results.json'", '.pkl']),
])
def test_test_tool_rejects_bad_arguments(args, words):
    result = run(REPO / 'tools' / 'test.py', *args, expect_ok=False)
    assert result.returncode == 2
    for word in words:
        assert word in result.stderr
