"""Unreadable, incomplete and mis-sized images, and bad boxes: found before training, skipped during it."""
import json
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS
from PIL import Image

import mmdet_ghostnet.datasets  # noqa: F401  (registers CheckedVOCDataset)
from mmdet_ghostnet.engine.image_check import check_config_images
from mmdet_ghostnet.engine.unreadable_images import SkipUnreadableImage, skip_unreadable_images
from tool_runs import REPO, RETINANET_DEMO, run

CHECK = REPO / 'tools' / 'check_dataset.py'
TRAIN = REPO / 'tools' / 'train.py'
CLASSES = ('cell', )
VOC_XML = """<annotation><filename>{name}.jpg</filename><size><width>{width}</width><height>48</height></size>
<object><name>cell</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>{xmax}</xmax><ymax>30</ymax></bndbox></object>
</annotation>"""


def break_images(truncated, not_image) -> None:
    """Cut ``truncated`` to 60 % of its bytes; replace ``not_image`` by text."""
    truncated.write_bytes(truncated.read_bytes()[:len(truncated.read_bytes()) * 6 // 10])
    not_image.write_text('this is not an image\n')


@pytest.fixture
def voc_set(tmp_path):
    """A VOC-layout set of five 64x48 JPEGs: a0 good, a1 truncated, a2 text, a3 annotated 80 wide, a4 with a
    degenerate box (xmax < xmin)."""
    root = tmp_path / 'voc'
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f'a{i}' for i in range(5)]
    for name in names:
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(root / 'JPEGImages' / f'{name}.jpg',
                                                                                 quality=95)
        width, xmax = (80 if name == 'a3' else 64), (2 if name == 'a4' else 40)
        (root / 'Annotations' / f'{name}.xml').write_text(VOC_XML.format(name=name, width=width, xmax=xmax))
    (root / 'ImageSets/Main/train.txt').write_text('\n'.join(names) + '\n')
    break_images(root / 'JPEGImages/a1.jpg', root / 'JPEGImages/a2.jpg')
    return root


def voc_config(root) -> Config:
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')]
    dataset = dict(type='CheckedVOCDataset', data_root=f'{root}/', ann_file='ImageSets/Main/train.txt',
                   data_prefix=dict(sub_data_root=''), metainfo=dict(classes=CLASSES), pipeline=pipeline)
    return Config(dict(default_scope='mmdet', train_dataloader=dict(dataset=dataset)))


def test_voc_check_reports_every_bad_file_and_box_with_what_happens(voc_set):
    findings = {f.path.split('/')[-1]: f for f in check_config_images(voc_config(voc_set), ('train', ))}
    assert sorted(findings) == ['a1.jpg', 'a2.jpg', 'a3.jpg', 'a4.jpg']
    for broken in ('a1.jpg', 'a2.jpg'):  # truncated, text
        assert findings[broken].problem == 'cannot be decoded'
        assert findings[broken].consequence.startswith('training skips it')
    assert findings['a3.jpg'].problem == 'is 64x48 but its annotation says 80x48'
    assert findings['a4.jpg'].problem == "box 'cell' [4, 4, 1, 29]: degenerate (xmax <= xmin or ymax <= ymin)"
    assert findings['a4.jpg'].consequence == 'CheckedVOCDataset dropped'


def test_training_dataset_skips_an_unreadable_file_and_counts_it(voc_set):
    dataset = DATASETS.build(voc_config(voc_set).train_dataloader.dataset)
    skip_unreadable_images(dataset)
    skipper = dataset.pipeline.transforms[0]
    assert isinstance(skipper, SkipUnreadableImage)
    broken = next(i for i in range(len(dataset)) if dataset.get_data_info(i)['img_path'].endswith('a2.jpg'))
    sample = dataset[broken]  # MMEngine's BaseDataset draws another index in place of the skipped one
    assert not sample['data_samples'].img_path.endswith('a2.jpg') and skipper.skipped >= 1
    evaluation = DATASETS.build(dict(voc_config(voc_set).train_dataloader.dataset, test_mode=True))
    skip_unreadable_images(evaluation)  # evaluation must not drop images: its loader is left as it is
    assert type(evaluation.pipeline.transforms[0]).__name__ == 'LoadImageFromFile'


@pytest.fixture
def coco_set(tiny_data, tmp_path):
    """The tiny demo set with train image 3 truncated, 5 replaced by text, 7 annotated 10 px too wide and one
    annotation moved outside its image."""
    root = shutil.copytree(tiny_data, tmp_path / 'coco')
    ann_path = root / 'annotations' / 'instances_train.json'
    content = json.loads(ann_path.read_text())
    images = {image['id']: image for image in content['images']}
    files = [root / 'train' / image['file_name'] for image in content['images']]
    break_images(files[3], files[5])
    content['images'][7]['width'] += 10
    moved = content['annotations'][0]
    moved['bbox'][0] = images[moved['image_id']]['width'] + 5
    ann_path.write_text(json.dumps(content))
    return root, files, moved


def coco_options(root) -> list:
    return [f'train_dataloader.dataset.data_root={root}/', f'val_dataloader.dataset.data_root={root}/',
            f'test_dataloader.dataset.data_root={root}/']


def test_check_dataset_tool_on_coco_layout_reports_each_problem_and_fails(coco_set):
    root, files, moved = coco_set
    result = run(CHECK, RETINANET_DEMO, '--splits', 'train', '--cfg-options', *coco_options(root), expect_ok=False)
    assert result.returncode == 1, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert '4 problem(s) found' in lines
    assert any(line.startswith(f'{files[5]}: cannot be decoded -> training skips it') for line in lines)
    assert any(line.startswith(f'{files[3]}: cannot be decoded -> training skips it') for line in lines)
    assert any(line.startswith(f'{files[7]}: is 96x96 but its annotation says 106x96') for line in lines)
    assert f'box {moved["bbox"]} (annotation {moved["id"]}): outside the image -> CocoDataset leaves it out' in \
        result.stdout
    assert '] 16/16, ' in result.stdout and ' task/s' in result.stdout  # mmengine's progress bar, to the end


def test_check_dataset_tool_passes_a_clean_set(tiny_data):
    result = run(CHECK, RETINANET_DEMO, '--cfg-options', *coco_options(tiny_data))
    assert result.stdout.splitlines()[-1] == 'no problems found'


def test_train_check_images_refuses_before_the_work_dir_exists(coco_set, tmp_path):
    root, files, _ = coco_set
    work_dir = tmp_path / 'work'
    result = run(TRAIN, RETINANET_DEMO, '--check-images', '--work-dir', work_dir, '--cfg-options',
                 *coco_options(root), f'val_evaluator.ann_file={root}/annotations/instances_val.json',
                 expect_ok=False)
    assert result.returncode != 0 and '--check-images found 4 problem(s)' in result.stderr
    assert str(files[5]) in result.stderr and not work_dir.exists()
