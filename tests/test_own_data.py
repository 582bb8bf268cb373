"""The recommended detector on your own data: the templates of configs/custom/ on tiny VOC- and COCO-layout sets
made here (2 classes), fine-tuned from the shipped 3-class weights or trained from scratch."""
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import bias_init_with_prob

from mmdet_ghostnet.engine.fine_tune import load_for_fine_tuning
from mmdet_ghostnet.engine.preflight import check_checkpoint
from mmdet_ghostnet.utils.cli import build_model, build_runner
from tool_runs import REPO, run

TRAIN = REPO / 'tools' / 'train.py'
TEMPLATES = REPO / 'configs' / 'custom'
VOC_TEMPLATE = TEMPLATES / 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_myvoc.py'
COCO_TEMPLATE = TEMPLATES / 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_mycoco.py'
SHIPPED = REPO / 'checkpoints' / 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd.pth'
CLASSES = ('cat', 'dog')  # the templates' example classes
BOXES = [('cat', 8, 8, 40, 44), ('dog', 48, 20, 88, 70)]  # (class, x1, y1, x2, y2) in each 96x80 image
SPLITS = dict(train=[f'img_{i}' for i in range(4)], val=['img_4', 'img_5'])  # 2 training iterations of 2 images
CLASS_LAYERS = re.compile(r'^bbox_head\.(guide\.)?rtm_cls\.')
REINIT_LINE = (f"load_from {SHIPPED}: its 3 classes ('RBC', 'WBC', 'Platelets') are not the model's 2 ('cat', "
               "'dog'): re-initialised bbox_head.rtm_cls.*, bbox_head.guide.rtm_cls.*")


def image(rng: np.random.Generator) -> np.ndarray:
    """A 96x80 noisy background with the BOXES painted, each class in its own colour."""
    picture = rng.integers(150, 255, (80, 96, 3), dtype=np.uint8)
    for name, x1, y1, x2, y2 in BOXES:
        cv2.rectangle(picture, (x1, y1), (x2, y2), (40, 40, 200) if name == 'cat' else (200, 60, 40), -1)
    return picture


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory) -> Path:
    """Annotations/*.xml, JPEGImages/*.jpg and ImageSets/Main/{train,val}.txt."""
    root = tmp_path_factory.mktemp('myvoc')
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, names in SPLITS.items():
        (root / 'ImageSets' / 'Main' / f'{split}.txt').write_text('\n'.join(names) + '\n')
        for name in names:
            cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'), image(rng))
            objects = ''.join(f'<object><name>{c}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin>'
                              f'<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>'
                              for c, x1, y1, x2, y2 in BOXES)
            (root / 'Annotations' / f'{name}.xml').write_text(
                f'<annotation><filename>{name}.jpg</filename><size><width>96</width><height>80</height>'
                f'<depth>3</depth></size>{objects}</annotation>')
    return root


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory) -> Path:
    """annotations/{train,val}.json, written with the standard library, and the image folders train/, val/."""
    root = tmp_path_factory.mktemp('mycoco')
    (root / 'annotations').mkdir()
    rng = np.random.default_rng(1)
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    for split, names in SPLITS.items():
        (root / split).mkdir()
        images, annotations = [], []
        for image_id, name in enumerate(names, 1):
            cv2.imwrite(str(root / split / f'{name}.jpg'), image(rng))
            images.append(dict(id=image_id, file_name=f'{name}.jpg', width=96, height=80))
            for c, x1, y1, x2, y2 in BOXES:
                annotations.append(dict(id=len(annotations) + 1, image_id=image_id, category_id=CLASSES.index(c) + 1,
                                        bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=0))
        (root / 'annotations' / f'{split}.json').write_text(
            json.dumps(dict(images=images, annotations=annotations, categories=categories)))
    return root


def tiny_options(data_root: Path, coco: bool = False) -> dict:
    """Settings pointing a template at the tiny set: one epoch of 2 iterations, validated on 2 images, all
    resized to 128x96 (the Resize steps of the templates' pipelines)."""
    options = {f'{split}_dataloader.dataset.data_root': f'{data_root}/' for split in ('train', 'val', 'test')}
    options.update({'train_dataloader.dataset.pipeline.2.scales': [(128, 96)],
                    'val_dataloader.dataset.pipeline.1.scale': (128, 96),
                    'test_dataloader.dataset.pipeline.1.scale': (128, 96)})
    if coco:
        options.update({f'{split}_evaluator.ann_file': f'{data_root}/annotations/val.json'
                        for split in ('val', 'test')})
    for split in ('train', 'val', 'test'):
        options.update({f'{split}_dataloader.num_workers': 0, f'{split}_dataloader.persistent_workers': False})
    return dict(options, **{'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1, 'default_hooks.logger.interval': 1})


def cfg_options(data_root: Path, coco: bool = False) -> list:
    """:func:`tiny_options` as ``tools/train.py --cfg-options`` arguments."""
    return [f'{key}={value}' for key, value in tiny_options(data_root, coco).items()]


def template_config(template: Path, data_root: Path, work_dir: Path, coco: bool = False) -> Config:
    """The template as ``tools/train.py`` reads it with :func:`cfg_options`."""
    cfg = Config.fromfile(template)
    cfg.merge_from_dict(tiny_options(data_root, coco))
    cfg.work_dir = str(work_dir)
    cfg.visualizer.name = str(work_dir)  # its own visualizer: mmengine reuses one of the same name in this process
    return cfg


@pytest.fixture(scope='module')
def shipped() -> dict:
    """The oracle: the shipped weights as torch reads them."""
    return torch.load(SHIPPED, map_location='cpu', weights_only=True)['state_dict']


class Loaded(Exception):
    """Raised by :class:`StopAfterLoading` to end ``train()`` before its first step."""


class StopAfterLoading(Hook):
    """Keeps a copy of the weights ``train()`` starts from (initialised, then loaded) and stops it there."""

    def before_train(self, runner) -> None:
        self.state = {key: value.clone() for key, value in runner.model.state_dict().items()}
        raise Loaded


def test_templates_give_the_head_and_its_guide_the_number_of_classes(voc_root, coco_root, tmp_path):
    for template, root, coco in ((VOC_TEMPLATE, voc_root, False), (COCO_TEMPLATE, coco_root, True)):
        cfg = template_config(template, root, tmp_path, coco)
        assert cfg.load_from == str(SHIPPED.relative_to(REPO))
        assert cfg.train_dataloader.dataset.metainfo.classes == CLASSES
        head = build_model(cfg).bbox_head
        assert head.num_classes == head.guide.num_classes == len(CLASSES)


def test_fine_tuning_loads_every_fitting_tensor_and_keeps_fresh_class_layers(voc_root, shipped, tmp_path):
    cfg = template_config(VOC_TEMPLATE, voc_root, tmp_path)
    cfg.load_from = str(SHIPPED)
    runner = build_runner(cfg, ('train', 'val'), checkpoint=cfg.load_from)  # with the pre-flight check
    hook = StopAfterLoading()
    runner.register_hook(hook, priority='HIGHEST')
    with pytest.raises(Loaded):
        runner.train()
    loaded = hook.state
    assert loaded.keys() == shipped.keys()
    fitting = [key for key in shipped if shipped[key].shape == loaded[key].shape]
    for key in fitting:
        assert torch.equal(loaded[key], shipped[key].to(loaded[key].dtype)), key
    reinit = sorted(set(shipped) - set(fitting))  # weight and bias of 3 levels, of the head and of its guide
    assert len(reinit) == 12 and all(CLASS_LAYERS.match(key) for key in reinit)
    for key in reinit:
        assert loaded[key].shape == (len(CLASSES), ) + shipped[key].shape[1:]
        if key.endswith('bias'):  # RTMDet's initialisation of its class scores
            assert torch.allclose(loaded[key], torch.full_like(loaded[key], bias_init_with_prob(0.01)))


def test_fine_tuning_with_train_py_logs_one_line_and_trains(voc_root, tmp_path):
    result = run(TRAIN, VOC_TEMPLATE, '--work-dir', tmp_path, '--cfg-options', *cfg_options(voc_root),
                 f'load_from={SHIPPED}')
    log = result.stdout + result.stderr
    assert log.count(REINIT_LINE) == 1
    assert 'size mismatch' not in log and 'missing keys' not in log
    state = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu', weights_only=True)['state_dict']
    assert state['bbox_head.guide.rtm_cls.2.weight'].shape == (len(CLASSES), 96, 1, 1)


def test_from_scratch_on_coco_trains_without_the_shipped_weights(coco_root, shipped, tmp_path):
    result = run(TRAIN, COCO_TEMPLATE, '--work-dir', tmp_path, '--cfg-options', *cfg_options(coco_root, coco=True),
                 'load_from=None')
    assert 're-initialised' not in result.stdout + result.stderr
    state = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu', weights_only=True)['state_dict']
    assert state['bbox_head.rtm_cls.0.weight'].shape == (len(CLASSES), 96, 1, 1)
    fitting = [key for key in shipped if shipped[key].shape == state[key].shape and shipped[key].is_floating_point()]
    assert not any(torch.equal(state[key], shipped[key].float()) for key in fitting if 'backbone' in key)


@pytest.fixture
def model(voc_root, tmp_path):
    return build_model(template_config(VOC_TEMPLATE, voc_root, tmp_path))


@pytest.mark.parametrize('change, words', [
    ('bbox_head.rtm_reg.0.weight', r'1 tensors of another shape that are no classification layer: '
     r'bbox_head\.rtm_reg\.0\.weight is \(4, 64, 1, 1\) there and \(4, 96, 1, 1\) in the model;'),
    ('bbox_head.guide.rtm_reg.0.bias', r"1 missing keys \['bbox_head\.guide\.rtm_reg\.0\.bias'\];"),
], ids=['box layer of another width', 'missing key'])
def test_other_differences_are_refused_naming_the_key(model, shipped, tmp_path, change, words):
    """A box layer of another width, a missing key: the checkpoint is of another model, not of other classes."""
    state = dict(shipped)
    if change.endswith('weight'):
        state[change] = torch.zeros(4, 64, 1, 1)
    else:
        del state[change]
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict=state), path)
    with pytest.raises(ValueError, match=rf"checkpoint='{re.escape(str(path))}' belongs to another model: .*{words}"):
        check_checkpoint(str(path), model, fine_tune=True)  # the pre-flight of tools/train.py
    with pytest.raises(ValueError, match=words):
        load_for_fine_tuning(model, dict(state_dict=state), str(path))  # the runner's loading


def test_resume_stays_strict(voc_root, tmp_path):
    cfg = template_config(VOC_TEMPLATE, voc_root, tmp_path)
    cfg.resume, cfg.load_from = True, str(SHIPPED)
    with pytest.raises(ValueError, match=r'belongs to another model: .*12 keys of another shape'):
        build_runner(cfg, ('train', 'val'), checkpoint=cfg.load_from)
