"""Tests of the offline COCO-format shapes dataset used by the demo: mmdet_ghostnet.demo and its
command line, tools/make_demo_data.py."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from mmdet_ghostnet.demo import dataset as demo_dataset

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'make_demo_data.py'
SMALL = dict(num_train=12, num_val=6, image_size=96, seed=0)
CATEGORIES = ['circle', 'square', 'triangle']
OLD_TIME_NS = 1_000_000_000 * 10**9  # 2001-09-09: a timestamp no fresh write can have


def _run_cli(*args, cwd):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _files(root: Path) -> dict:
    return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob('*')) if path.is_file()}


def _age_all_files(root: Path) -> None:
    """Give every file an old mtime, so that any rewrite shows up."""
    for path in _files(root).values():
        os.utime(path, ns=(OLD_TIME_NS, OLD_TIME_NS))


def _assert_untouched(root: Path, expected_names) -> None:
    files = _files(root)
    assert sorted(files) == sorted(expected_names)
    assert all(path.stat().st_mtime_ns == OLD_TIME_NS for path in files.values())


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo') / 'data'
    summary = demo_dataset.make_demo_dataset(out, **SMALL)
    return out, summary


def _coco(out: Path, split: str) -> COCO:
    return COCO(str(out / 'annotations' / f'instances_{split}.json'))


@pytest.mark.parametrize('split,count', [('train', SMALL['num_train']), ('val', SMALL['num_val'])])
def test_annotations_load_with_pycocotools(small, split, count):
    out, summary = small
    coco = _coco(out, split)
    assert len(coco.getImgIds()) == count
    assert len(coco.getAnnIds()) == summary['splits'][split]['boxes'] >= count
    assert [coco.cats[i]['name'] for i in sorted(coco.cats)] == CATEGORIES
    assert sorted(coco.cats) == [1, 2, 3]
    assert coco.dataset['info']['params']['seed'] == SMALL['seed']
    for image_id, image in coco.imgs.items():
        assert 1 <= len(coco.getAnnIds(imgIds=[image_id])) <= 4
        with Image.open(out / split / image['file_name']) as pixels:
            assert pixels.mode == 'RGB'
            assert pixels.size == (image['width'], image['height']) == (SMALL['image_size'],) * 2


@pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')  # pycocotools under numpy 2
@pytest.mark.parametrize('split', ['train', 'val'])
def test_boxes_inside_images_with_positive_area(small, split):
    out, _ = small
    coco = _coco(out, split)
    size = SMALL['image_size']
    for ann in coco.anns.values():
        image = coco.imgs[ann['image_id']]
        x, y, w, h = ann['bbox']
        assert all(isinstance(value, float) for value in ann['bbox'])
        assert w > 0 and h > 0
        assert x >= 0 and y >= 0 and x + w <= image['width'] and y + h <= image['height']
        assert 0 < ann['area'] <= w * h
        assert ann['iscrowd'] == 0
        # The box holds the visible pixels; the outline runs through the centres of the shape's border
        # pixels, so the box reaches at most half a pixel beyond it.
        polygon = np.asarray(ann['segmentation'][0]).reshape(-1, 2)
        assert polygon[:, 0].min() - 0.5 <= x and x + w <= polygon[:, 0].max() + 0.5
        assert polygon[:, 1].min() - 0.5 <= y and y + h <= polygon[:, 1].max() + 0.5
        extent = (polygon.max(axis=0) - polygon.min(axis=0)).max()
        assert 0.14 * size - 1 <= extent <= 0.45 * size + 1
        # Objects stay mostly visible: the visible area is most of the area inside the outline.
        assert ann['area'] >= 0.65 * coco.annToMask(ann).sum()


@pytest.mark.parametrize('split', ['train', 'val'])
def test_every_category_appears(small, split):
    out, summary = small
    coco = _coco(out, split)
    assert {ann['category_id'] for ann in coco.anns.values()} == {1, 2, 3}
    assert all(count > 0 for count in summary['splits'][split]['boxes_per_category'].values())


def test_same_arguments_give_identical_files(small, tmp_path):
    out, _ = small
    again = tmp_path / 'again'
    demo_dataset.make_demo_dataset(again, **SMALL)
    first, second = _files(out), _files(again)
    assert sorted(first) == sorted(second)
    assert len([name for name in first if name.endswith('.png')]) == SMALL['num_train'] + SMALL['num_val']
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name


def test_seed_and_split_change_the_images(small, tmp_path):
    out, _ = small
    assert (out / 'train' / '000001.png').read_bytes() != (out / 'val' / '000001.png').read_bytes()
    other = tmp_path / 'other'
    demo_dataset.make_demo_dataset(other, **{**SMALL, 'seed': 1})
    assert (out / 'train' / '000001.png').read_bytes() != (other / 'train' / '000001.png').read_bytes()


def test_second_run_is_a_no_op(tmp_path):
    out = tmp_path / 'data'
    assert demo_dataset.make_demo_dataset(out, **SMALL)['up_to_date'] is False
    names = list(_files(out))
    _age_all_files(out)

    summary = demo_dataset.make_demo_dataset(out, **SMALL)
    assert summary['up_to_date'] is True
    assert summary['splits']['train']['images'] == SMALL['num_train']
    _assert_untouched(out, names)

    args = ['--out-dir', str(out), '--num-train', '12', '--num-val', '6', '--image-size', '96', '--seed', '0']
    result = _run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'up to date' in result.stdout
    _assert_untouched(out, names)


def test_other_arguments_are_refused_unless_forced(tmp_path):
    out = tmp_path / 'data'
    demo_dataset.make_demo_dataset(out, **SMALL)
    (out / 'notes.txt').write_text('not ours')
    (out / 'train' / 'notes.txt').write_text('not ours either')
    names = list(_files(out))
    _age_all_files(out)

    with pytest.raises(demo_dataset.DemoDataExistsError, match='force'):
        demo_dataset.make_demo_dataset(out, **{**SMALL, 'num_train': 8})
    result = _run_cli('--out-dir', str(out), '--num-train', '8', '--num-val', '6', '--image-size', '96',
                      cwd=tmp_path)
    assert result.returncode != 0
    assert '--force' in result.stderr and 'num_train=12' in result.stderr and 'num_train=8' in result.stderr
    _assert_untouched(out, names)

    result = _run_cli('--out-dir', str(out), '--num-train', '8', '--num-val', '6', '--image-size', '96', '--force',
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'train 8 images' in result.stdout
    coco = _coco(out, 'train')
    assert coco.dataset['info']['params']['num_train'] == 8
    assert sorted(path.name for path in (out / 'train').glob('*.png')) == [f'{i:06d}.png' for i in range(1, 9)]
    assert (out / 'notes.txt').read_text() == 'not ours'
    assert (out / 'train' / 'notes.txt').read_text() == 'not ours either'


@pytest.mark.parametrize('args,name,value', [
    (['--num-train', '0'], '--num-train', '0'),
    (['--num-val=-3'], '--num-val', '-3'),
    (['--image-size', '32'], '--image-size', '32'),
    (['--seed=-1'], '--seed', '-1'),
    (['--num-train', 'many'], '--num-train', 'many'),
])
def test_cli_rejects_bad_arguments(tmp_path, args, name, value):
    out = tmp_path / 'data'
    result = _run_cli('--out-dir', str(out), *args, cwd=tmp_path)
    assert result.returncode != 0
    assert name in result.stderr and value in result.stderr and '>=' in result.stderr
    assert not out.exists()


@pytest.mark.parametrize('kwargs,name', [
    (dict(num_train=0), 'num_train'),
    (dict(num_val=-1), 'num_val'),
    (dict(image_size=63), 'image_size'),
    (dict(seed=-5), 'seed'),
])
def test_function_rejects_bad_arguments(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        demo_dataset.make_demo_dataset(tmp_path / 'data', **kwargs)
    assert not (tmp_path / 'data').exists()


@pytest.mark.parametrize('split', ['train', 'val'])
def test_boxes_are_tight_at_pixel_level(small, split):
    """For every object whose box has a 3-pixel margin free of other boxes, along each side of the box:
    the colour jumps between the box's outermost line and the line just outside it (an object pixel
    touches the side), and does not jump between the two lines just outside it (only background there)."""
    out, _ = small
    coco = _coco(out, split)
    jump = 60.0  # object colours are >= 130 away (RGB distance) from the mean background they cover
    checked = 0
    for image_id, image in coco.imgs.items():
        with Image.open(out / split / image['file_name']) as opened:
            pixels = np.asarray(opened, dtype=np.float64)
        size = image['width']
        boxes = [[int(v) for v in ann['bbox']] for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))]
        for index, (x0, y0, w, h) in enumerate(boxes):
            x1, y1 = x0 + w - 1, y0 + h - 1
            if min(x0, y0) < 3 or max(x1, y1) > size - 4:
                continue
            if any(not (ox > x1 + 3 or ox + ow - 1 < x0 - 3 or oy > y1 + 3 or oy + oh - 1 < y0 - 3)
                   for other, (ox, oy, ow, oh) in enumerate(boxes) if other != index):
                continue
            columns, rows = slice(x0, x1 + 1), slice(y0, y1 + 1)
            sides = {
                'top': [pixels[y0 - k, columns] for k in range(3)],
                'bottom': [pixels[y1 + k, columns] for k in range(3)],
                'left': [pixels[rows, x0 - k] for k in range(3)],
                'right': [pixels[rows, x1 + k] for k in range(3)],
            }
            for side, (inside, outside, further) in sides.items():
                where = f'{split} {image["file_name"]} box {boxes[index]} {side}'
                assert np.linalg.norm(inside - outside, axis=1).max() > jump, where
                assert np.linalg.norm(outside - further, axis=1).max() < jump, where
            checked += 1
    assert checked >= 5
