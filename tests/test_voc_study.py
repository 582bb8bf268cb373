"""The BCCD study's dataset and configs on a tiny VOC-layout set made here (the real BCCD is not needed)."""
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config

from tool_runs import REPO, run, scalars

STUDY = sorted((REPO / 'configs' / 'bccd').glob('*.py'))
# the study's recipe is batches of 8 for 36 epochs; the light recipe's rows say `_1xb2-36e_`
STUDY_RECIPE = '_1xb8-36e_bccd.py'
CLASSES = ('RBC', 'WBC', 'Platelets')
# (name, xmin, ymin, xmax, ymax) per image: good boxes, and one of each kind of bad box.
GOOD = [('RBC', 5, 5, 40, 40), ('WBC', 50, 10, 90, 60), ('Platelets', 20, 50, 34, 64)]
BAD = {
    'degenerate (xmax <= xmin or ymax <= ymin)': [('RBC', 30, 30, 30, 30), ('RBC', 60, 20, 50, 40)],
    'class not in metainfo.classes': [('Dog', 10, 10, 20, 20)],
    'missing or non-numeric coordinates': [('WBC', 'ten', 10, 20, 20)],
    'outside the image': [('RBC', 200, 10, 240, 40)],
}
STICKING_OUT = ('RBC', 80, 50, 140, 90)  # clipped to the 120x96 image, kept


def write_voc(root: Path, splits: dict, with_bad: str) -> None:
    """A VOC layout under ``root/BCCD``: 120x96 images with the GOOD boxes painted; ``with_bad`` adds BAD ones."""
    voc = root / 'BCCD'
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, names in splits.items():
        (voc / 'ImageSets' / 'Main' / f'{split}.txt').write_text('\n'.join(names) + '\n')
        for name in names:
            image = rng.integers(150, 255, (96, 120, 3), dtype=np.uint8)
            boxes = GOOD + [STICKING_OUT]
            for _, x1, y1, x2, y2 in boxes:
                cv2.rectangle(image, (x1, y1), (x2, y2), (40, 40, 200), -1)
            cv2.imwrite(str(voc / 'JPEGImages' / f'{name}.jpg'), image)
            if name == with_bad:
                boxes = boxes + [box for bad in BAD.values() for box in bad]
            objects = ''.join(
                f'<object><name>{c}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>'
                f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>' for c, x1, y1, x2, y2 in boxes)
            (voc / 'Annotations' / f'{name}.xml').write_text(
                f'<annotation><filename>{name}.jpg</filename><size><width>120</width><height>96</height>'
                f'<depth>3</depth></size>{objects}</annotation>')


@pytest.fixture(scope='module')
def tiny_voc(tmp_path_factory):
    root = tmp_path_factory.mktemp('voc')
    names = [f'img_{i:02d}' for i in range(12)]
    write_voc(root, dict(train=names[:8], val=names[8:10], test=names[10:]), with_bad='img_03')
    return root


def study_config(name: str, data_root: Path, monkeypatch) -> Config:
    monkeypatch.setenv('BCCD_ROOT', f'{data_root}/')
    return Config.fromfile(REPO / 'configs' / 'bccd' / name)


def test_bad_boxes_are_dropped_counted_and_named(tiny_voc, monkeypatch):
    cfg = study_config('retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py', tiny_voc, monkeypatch)
    assert cfg.train_dataloader.dataset.data_root == f'{tiny_voc}/'  # BCCD_ROOT overrides data/bccd/
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 8
    assert dict(dataset.dropped_boxes) == {reason: len(boxes) for reason, boxes in BAD.items()}
    assert dataset.clipped_boxes == 8  # STICKING_OUT, once per image
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        # VOC corners are 1-based: mmdet's convention subtracts 1, then the box is clipped to the 120x96 image.
        expected = [[x1 - 1, y1 - 1, x2 - 1, y2 - 1] for _, x1, y1, x2, y2 in GOOD] + [[79, 49, 120, 89]]
        assert [inst['bbox'] for inst in info['instances']] == expected
        assert [inst['bbox_label'] for inst in info['instances']] == [0, 1, 2, 0]


def test_clean_split_drops_nothing_and_test_split_is_the_test_list(tiny_voc, monkeypatch):
    cfg = study_config('retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py', tiny_voc, monkeypatch)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] == ['img_10', 'img_11']
    assert not dataset.dropped_boxes


def test_missing_dataset_is_refused_before_any_work_with_where_to_get_it(tmp_path):
    result = run(REPO / 'tools' / 'train.py', REPO / 'configs' / 'bccd' / 'retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py',
                 '--work-dir', tmp_path / 'work', '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/',
                 expect_ok=False)
    assert result.returncode != 0
    assert 'Annotations' in result.stderr and 'BCCD_Dataset' in result.stderr


@pytest.mark.parametrize('config', STUDY, ids=lambda p: p.name)
def test_study_config_builds_with_neck_fitting_backbone(config, tiny_voc, monkeypatch):
    cfg = study_config(config.name, tiny_voc, monkeypatch)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        features = model.backbone(torch.zeros(1, 3, 64, 64))
        assert len(model.neck(features)) >= len(features)
    assert list(cfg.model.neck.in_channels) == [f.shape[1] for f in features]
    assert all(p.requires_grad for p in model.backbone.parameters())  # from scratch: nothing frozen


def _without(cfg: Config, *keys) -> dict:
    model = cfg.model.to_dict()
    for key in keys:
        model.pop(key)
    return model


@pytest.mark.parametrize('detector', ['retinanet', 'faster-rcnn'])
def test_study_rows_differ_only_in_backbone_and_neck(detector, tiny_voc, monkeypatch):
    rows = [c for c in STUDY if c.name.startswith(detector + '_') and c.name.endswith(STUDY_RECIPE)]
    assert len(rows) == 7  # V1 + GhostFPN, V1 + FPN, MobileNetV2, ResNet-18, light, V2, V3
    configs = {c.name: study_config(c.name, tiny_voc, monkeypatch) for c in rows}
    reference = configs[f'{detector}_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py']
    for name, cfg in configs.items():
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler', 'randomness', 'val_evaluator'):
            assert cfg[key] == reference[key], (name, key)
        if 'ghostpan-96' not in name:  # the light rows differ in the head width by design
            assert _without(cfg, 'backbone', 'neck') == _without(reference, 'backbone', 'neck'), name


# the light study's recipe (docs/light_detectors.md): the study's rows with batches of 2 images instead of 8
LIGHT_RECIPE_ROWS = ['rtmdet-nano_ghostnet-1.0x_ghostpan', 'retinanet_ghostnet-1.0x_ghostfpn',
                     'ssdlite_mobilenetv2_ssdneck', 'yolox-tiny_cspdarknet_pafpn', 'rtmdet-tiny_cspnext_pafpn']


@pytest.mark.parametrize('row', LIGHT_RECIPE_ROWS)
def test_light_recipe_rows_are_the_study_rows_with_batches_of_2(row, tiny_voc, monkeypatch):
    light = study_config(f'{row}_1xb2-36e_bccd.py', tiny_voc, monkeypatch)
    study = study_config(f'{row}_1xb8-36e_bccd.py', tiny_voc, monkeypatch)
    assert (light.train_dataloader.batch_size, study.train_dataloader.batch_size) == (2, 8)
    light.train_dataloader.batch_size = 8
    if row == 'ssdlite_mobilenetv2_ssdneck':  # its 1x1 last level cannot train BatchNorm on a last batch of one image
        assert light.train_dataloader.batch_sampler.pop('drop_last')
    assert light.to_dict() == study.to_dict()


def test_guided_row_is_the_nano_light_row_but_for_the_guide_and_exp_distances(tiny_voc, monkeypatch):
    guided = study_config('rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd.py', tiny_voc, monkeypatch)
    nano = study_config('rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2-36e_bccd.py', tiny_voc, monkeypatch)
    head = guided.model.bbox_head
    assert head.pop('guide') == dict(conv_type='dense')
    assert (head.exp_on_reg, nano.model.bbox_head.exp_on_reg) == (True, False)
    head.exp_on_reg = False
    assert guided.to_dict() == nano.to_dict()


@pytest.fixture(scope='module')
def trained_on_voc(tiny_voc, tmp_path_factory):
    """Two iterations of the study's RetinaNet config on the tiny VOC set, then its test split evaluated."""
    work_dir = tmp_path_factory.mktemp('study')
    options = [f'{s}_dataloader.dataset.data_root={tiny_voc}/' for s in ('train', 'val', 'test')] + [
        f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
        for k in ('batch_size=4', 'num_workers=0', 'persistent_workers=False')
    ] + ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
         'model.test_cfg.score_thr=0.0']
    config = REPO / 'configs' / 'bccd' / 'retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'
    train = run(REPO / 'tools' / 'train.py', config, '--work-dir', work_dir, '--cfg-options', *options)
    test = run(REPO / 'tools' / 'test.py', config, next(work_dir.glob('best_*.pth')), '--work-dir',
               work_dir / 'test', '--cfg-options', *options)
    return work_dir, train.stdout + train.stderr, test.stdout


def test_training_run_logs_dropped_boxes_and_reports_coco_and_per_class_ap(trained_on_voc):
    work_dir, train_log, test_out = trained_on_voc
    assert 'dropped 5 boxes' in train_log and 'img_03.jpg' in train_log
    assert math.isfinite([r['loss'] for r in scalars(work_dir) if 'loss' in r][-1])
    metrics_file = next((work_dir / 'test').glob('*/*.json'))
    metrics = json.loads(metrics_file.read_text())
    for key in ['coco/bbox_mAP', 'coco/bbox_mAP_50'] + [f'coco/{c}_precision' for c in CLASSES]:
        assert 0 <= metrics[key] <= 1, key
