"""Write the demo shapes set as COCO-format splits, deterministically, and leave an up-to-date set alone.

Layout written under ``out_dir``::

    train/000001.png ...           val/000001.png ...
    annotations/instances_train.json
    annotations/instances_val.json

The same arguments always give byte-identical files (each image is drawn from its own ``numpy`` PCG64 stream
derived from the seed, the split and the image index). The arguments are stored in each JSON's ``info.params``:
a second call with the same arguments leaves the files alone, and one with other arguments is refused unless
``force`` is given.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..engine.atomic_file import atomic_write_path
from .shapes import CATEGORIES, GENERATOR_VERSION, SPLITS, coco_annotation, image_rng, render_image

MIN_IMAGE_SIZE = 64
IMAGE_NAME = re.compile(r'^\d{6}\.png$')


class DemoDataExistsError(FileExistsError):
    """The output folder holds a demo dataset made with other arguments."""


def _build_split(out_dir: Path, split: str, count: int, image_size: int, params: dict[str, int]) -> dict[str, Any]:
    """Write the images of one split and return its COCO dictionary."""
    image_dir = out_dir / split
    image_dir.mkdir(parents=True, exist_ok=True)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for index in range(count):
        pixels, shapes, owner = render_image(image_rng(params['seed'], split, index), image_size)
        image_id = index + 1
        file_name = f'{image_id:06d}.png'
        Image.fromarray(pixels).save(image_dir / file_name, compress_level=1)
        images.append({'id': image_id, 'file_name': file_name, 'width': image_size, 'height': image_size})
        for shape_index, shape in enumerate(shapes):
            fields = coco_annotation(shape, owner == shape_index)
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, **fields})
    return {
        'info': {
            'description': f'mmdet-ghostnet demo shapes, {split} split',
            'version': str(GENERATOR_VERSION),
            'contributor': 'tools/make_demo_data.py',
            'params': params,
        },
        'images': images,
        'annotations': annotations,
        'categories': [{'id': index + 1, 'name': name, 'supercategory': 'shape'}
                       for index, name in enumerate(CATEGORIES)],
    }


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over ``path``."""
    with atomic_write_path(path) as tmp_path, open(tmp_path, 'w', encoding='utf-8') as handle:
        handle.write(json.dumps(data, separators=(',', ':')) + '\n')
        handle.flush()
        os.fsync(handle.fileno())


def _load_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is not a readable JSON object."""
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _stored_params(data: dict[str, Any] | None) -> Any:
    """The generator arguments recorded in a loaded annotation file (None when absent)."""
    info = data.get('info') if data else None
    return info.get('params') if isinstance(info, dict) else None


def _describe(params: Any) -> str:
    """``key=value`` text of stored or requested arguments, for messages."""
    if not isinstance(params, dict):
        return 'unknown arguments'
    return ', '.join(f'{key}={value}' for key, value in params.items())


def _summary(out_dir: Path, params: dict[str, int], datasets: dict[str, dict[str, Any]],
             up_to_date: bool) -> dict[str, Any]:
    """Paths and counts of a written (or already present) dataset."""
    splits = {}
    for split, data in datasets.items():
        names = {category['id']: category['name'] for category in data['categories']}
        counts = Counter(names[annotation['category_id']] for annotation in data['annotations'])
        splits[split] = {
            'image_dir': str(out_dir / split),
            'ann_file': str(out_dir / 'annotations' / f'instances_{split}.json'),
            'images': len(data['images']),
            'boxes': len(data['annotations']),
            'boxes_per_category': {name: counts.get(name, 0) for name in CATEGORIES},
        }
    return {'out_dir': str(out_dir), 'params': params, 'up_to_date': up_to_date, 'splits': splits}


def make_demo_dataset(out_dir: str | os.PathLike[str], num_train: int = 400, num_val: int = 100,
                      image_size: int = 128, seed: int = 0, force: bool = False) -> dict[str, Any]:
    """Make the demo dataset in ``out_dir`` (unless it is already there) and return its summary.

    The summary holds ``out_dir``, ``params``, ``up_to_date`` (True when nothing was written) and,
    per split, ``image_dir``, ``ann_file``, ``images``, ``boxes`` and ``boxes_per_category``.
    Raises ValueError for bad arguments and DemoDataExistsError when ``out_dir`` holds a dataset
    made with other arguments and ``force`` is False. Only files this tool names are replaced or
    removed, and only inside ``out_dir``.
    """
    for name, value, minimum in (('num_train', num_train, 1), ('num_val', num_val, 1),
                                 ('image_size', image_size, MIN_IMAGE_SIZE), ('seed', seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f'out_dir {str(out)!r} exists and is not a folder')
    params = {'num_train': int(num_train), 'num_val': int(num_val), 'image_size': int(image_size),
              'seed': int(seed), 'generator_version': GENERATOR_VERSION}
    counts = {'train': params['num_train'], 'val': params['num_val']}
    ann_files = {split: out / 'annotations' / f'instances_{split}.json' for split in SPLITS}

    existing = {split: _load_json(path) for split, path in ann_files.items() if path.exists()}
    stale = {split: _stored_params(data) for split, data in existing.items() if _stored_params(data) != params}
    if stale and not force:
        found = next(iter(stale.values()))
        raise DemoDataExistsError(
            f'{out} already holds a demo dataset made with {_describe(found)}; asked for {_describe(params)}. '
            f'Pass --force (force=True) to regenerate it, or choose another output folder.')
    if not force and not stale and len(existing) == len(SPLITS) and all(
            (out / split / image['file_name']).is_file()
            for split, data in existing.items() for image in data['images']):
        return _summary(out, params, existing, up_to_date=True)

    # Regenerate: drop the old annotation files first, so that a run cut short never leaves
    # annotation files that describe images they no longer match.
    for path in ann_files.values():
        path.unlink(missing_ok=True)
    for split in SPLITS:
        image_dir = out / split
        if image_dir.is_dir():
            for old in image_dir.iterdir():
                if IMAGE_NAME.match(old.name) and old.is_file():
                    old.unlink()
    datasets = {split: _build_split(out, split, counts[split], params['image_size'], params) for split in SPLITS}
    (out / 'annotations').mkdir(parents=True, exist_ok=True)
    for split, data in datasets.items():
        _write_json_atomic(ann_files[split], data)
    return _summary(out, params, datasets, up_to_date=False)
