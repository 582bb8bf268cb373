"""Generate a small, deterministic COCO-format detection dataset of coloured shapes.

The demo trains a GhostNet detector on CPU in a few minutes, offline, and should end with
a bbox mAP that means something. Real datasets are too large for that and need a download,
so this tool draws one: every image holds 1-4 circles, squares and triangles (the three
categories, decided by shape only) of random size (14%-45% of the image side), rotation,
position and colour, on a varied background (solid colour, linear gradient, sometimes faint
stripes, mild noise). Colour is random so that it is no shortcut to the class, but each
object contrasts with what it is drawn over, so a small CNN trained from scratch can learn
the task. Objects may overlap, but each keeps at least 70% of its pixels visible; its box
is the tight box of its visible pixels.

Layout written under ``--out-dir``::

    train/000001.png ...           val/000001.png ...
    annotations/instances_train.json
    annotations/instances_val.json

The same arguments always give byte-identical files (each image is drawn from its own
``numpy`` PCG64 stream derived from ``--seed``, the split and the image index). The arguments
are stored in each JSON's ``info.params``: a second run with the same arguments leaves the
files alone, and a run with other arguments is refused unless ``--force`` is given.

Usage::

    python tools/make_demo_data.py [--out-dir data/demo] [--num-train 400] [--num-val 100]
                                   [--image-size 128] [--seed 0] [--force]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageDraw

CATEGORIES = ('circle', 'square', 'triangle')
SPLITS = ('train', 'val')
GENERATOR_VERSION = 1  # bump when the drawing changes, so that old data no longer counts as up to date
MIN_IMAGE_SIZE = 64
SIZE_RANGE = (0.14, 0.45)  # extent of an object as a fraction of the image side
MAX_OBJECTS = 4
MIN_VISIBLE = 0.7  # fraction of its pixels that every object keeps visible
PLACEMENT_TRIES = 30
COLOUR_TRIES = 32
MIN_CONTRAST = 130.0  # wanted RGB distance between an object and what it is drawn over
CIRCLE_VERTICES = 48
IMAGE_NAME = re.compile(r'^\d{6}\.png$')


class DemoDataExistsError(FileExistsError):
    """The output folder holds a demo dataset made with other arguments."""


@dataclass
class _Shape:
    """One drawn object: category index, outline in pixel coordinates, fill colour, pixel count."""

    category: int
    outline: np.ndarray
    colour: np.ndarray
    full_area: int


def _image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """Independent random stream for one image, so that images do not depend on each other."""
    sequence = np.random.SeedSequence(seed, spawn_key=(SPLITS.index(split), index))
    return np.random.Generator(np.random.PCG64(sequence))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random solid colour plus a linear gradient and, half of the time, faint stripes (float HxWx3)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    ramp = xx * np.cos(angle) + yy * np.sin(angle)
    image = rng.uniform(0, 255, 3) + ramp[..., None] * rng.uniform(-60, 60, 3)
    if rng.random() < 0.5:
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(6, 20) / size
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + phase)
        image += rng.uniform(4, 10) * wave[..., None]
    return np.clip(image, 0, 255)


def _outline(rng: np.random.Generator, category: int, size: int) -> np.ndarray:
    """Integer vertices (N x 2, x then y) of a randomly sized, rotated and placed shape inside the image."""
    name = CATEGORIES[category]
    if name == 'circle':
        angles = np.linspace(0, 2 * np.pi, CIRCLE_VERTICES, endpoint=False)
    elif name == 'square':
        angles = np.pi / 4 + np.arange(4) * np.pi / 2 + rng.uniform(0, np.pi / 2)
    else:
        angles = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3 + rng.uniform(0, 2 * np.pi / 3)
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points -= points.min(axis=0)
    extent = rng.uniform(*SIZE_RANGE) * size
    points *= extent / points.max()
    room = (size - 1) - points.max(axis=0)
    # Whole pixels: Pillow truncates fractional vertices, so round here and draw what is stored.
    return np.rint(points + rng.uniform(0, 1, 2) * room)


def _rasterize(outline: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of the pixels Pillow fills for the polygon."""
    mask = Image.new('L', (size, size), 0)
    ImageDraw.Draw(mask).polygon([tuple(point) for point in outline], fill=1)
    return np.asarray(mask, dtype=bool)


def _pick_colour(rng: np.random.Generator, references: list[np.ndarray]) -> np.ndarray:
    """Random colour at least MIN_CONTRAST from every reference colour, else the farthest of the tries."""
    best, best_distance = None, -1.0
    for _ in range(COLOUR_TRIES):
        colour = rng.integers(0, 256, 3).astype(np.float64)
        distance = min(float(np.linalg.norm(colour - reference)) for reference in references)
        if distance >= MIN_CONTRAST:
            return colour
        if distance > best_distance:
            best, best_distance = colour, distance
    return best


def _render(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[_Shape], np.ndarray]:
    """Draw one image; return its pixels (uint8 HxWx3), its shapes and the owner map (-1: background)."""
    background = _background(rng, size)
    canvas = background.copy()
    owner = np.full((size, size), -1, dtype=np.int16)
    shapes: list[_Shape] = []
    for _ in range(rng.integers(1, MAX_OBJECTS + 1)):
        category = int(rng.integers(len(CATEGORIES)))
        for _ in range(PLACEMENT_TRIES):
            outline = _outline(rng, category, size)
            mask = _rasterize(outline, size)
            if all(np.count_nonzero((owner == index) & ~mask) >= MIN_VISIBLE * shape.full_area
                   for index, shape in enumerate(shapes)):
                break
        else:
            continue  # no placement leaves the earlier objects visible enough: leave this one out
        x0, y0 = outline.min(axis=0).astype(int) - 2  # objects within 2 pixels count as neighbours
        x1, y1 = outline.max(axis=0).astype(int) + 3
        nearby = np.unique(owner[max(y0, 0):y1, max(x0, 0):x1])
        references = [background[mask].mean(axis=0)] + [shapes[index].colour for index in nearby if index >= 0]
        colour = _pick_colour(rng, references)
        canvas[mask] = colour
        owner[mask] = len(shapes)
        shapes.append(_Shape(category, outline, colour, int(np.count_nonzero(mask))))
    canvas += rng.normal(0, rng.uniform(1.5, 4), canvas.shape)
    pixels = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return pixels, shapes, owner


def _annotation(shape: _Shape, visible: np.ndarray) -> dict[str, Any]:
    """COCO fields of one object: tight box and area of its visible pixels, polygon of its full outline."""
    ys, xs = np.nonzero(visible)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
    # Pillow puts integer coordinates at pixel centres, COCO at pixel corners: shift by half a pixel.
    polygon = [float(value) + 0.5 for value in shape.outline.reshape(-1)]
    return {
        'category_id': shape.category + 1,
        'bbox': [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)],
        'area': float(np.count_nonzero(visible)),
        'iscrowd': 0,
        'segmentation': [polygon],
    }


def _build_split(out_dir: Path, split: str, count: int, image_size: int, params: dict[str, int]) -> dict[str, Any]:
    """Write the images of one split and return its COCO dictionary."""
    image_dir = out_dir / split
    image_dir.mkdir(parents=True, exist_ok=True)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for index in range(count):
        pixels, shapes, owner = _render(_image_rng(params['seed'], split, index), image_size)
        image_id = index + 1
        file_name = f'{image_id:06d}.png'
        Image.fromarray(pixels).save(image_dir / file_name, compress_level=1)
        images.append({'id': image_id, 'file_name': file_name, 'width': image_size, 'height': image_size})
        for shape_index, shape in enumerate(shapes):
            fields = _annotation(shape, owner == shape_index)
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
    text = json.dumps(data, separators=(',', ':')) + '\n'
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum`` (argparse adds the option name to the message)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'must be an integer >= {minimum}, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be an integer >= {minimum}, got {value}')
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description='Generate the offline COCO-format demo dataset of coloured shapes (circle, square, triangle).')
    parser.add_argument('--out-dir', default='data/demo', help='output folder (default: data/demo)')
    parser.add_argument('--num-train', type=_int_at_least(1), default=400, help='training images (default: 400)')
    parser.add_argument('--num-val', type=_int_at_least(1), default=100, help='validation images (default: 100)')
    parser.add_argument('--image-size', type=_int_at_least(MIN_IMAGE_SIZE), default=128,
                        help=f'side of the square images in pixels, >= {MIN_IMAGE_SIZE} (default: 128)')
    parser.add_argument('--seed', type=_int_at_least(0), default=0, help='random seed (default: 0)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the folder holds a dataset made with other arguments')
    args = parser.parse_args(argv)

    start = time.perf_counter()
    try:
        summary = make_demo_dataset(args.out_dir, num_train=args.num_train, num_val=args.num_val,
                                    image_size=args.image_size, seed=args.seed, force=args.force)
    except (DemoDataExistsError, NotADirectoryError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    parts = []
    for split, info in summary['splits'].items():
        per_category = ', '.join(f'{name} {count}' for name, count in info['boxes_per_category'].items())
        parts.append(f"{split} {info['images']} images / {info['boxes']} boxes ({per_category})")
    if summary['up_to_date']:
        print(f"{summary['out_dir']} is up to date: {'; '.join(parts)}")
    else:
        print(f"wrote {summary['out_dir']} in {time.perf_counter() - start:.1f} s: {'; '.join(parts)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
