"""Draw one image of the demo shapes set: 1-4 circles, squares and triangles on a varied background.

Each object has a random size (14%-45% of the image side), rotation, position and colour; colour is random so
that it is no shortcut to the class, but each object contrasts with what it is drawn over. Objects may overlap,
but each keeps at least 70% of its pixels visible, and its COCO box is the tight box of its visible pixels.
``mmdet_ghostnet.demo`` writes whole splits of such images; ``tools/make_demo_data.py`` is its command line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

CATEGORIES = ('circle', 'square', 'triangle')
SPLITS = ('train', 'val')
SIZE_RANGE = (0.14, 0.45)  # extent of an object as a fraction of the image side
MAX_OBJECTS = 4
MIN_VISIBLE = 0.7  # fraction of its pixels that every object keeps visible
PLACEMENT_TRIES = 30
COLOUR_TRIES = 32
MIN_CONTRAST = 130.0  # wanted RGB distance between an object and what it is drawn over
CIRCLE_VERTICES = 48
GENERATOR_VERSION = 1  # bump when the drawing changes, so that old data no longer counts as up to date


@dataclass
class Shape:
    """One drawn object: category index, outline in pixel coordinates, fill colour, pixel count."""

    category: int
    outline: np.ndarray
    colour: np.ndarray
    full_area: int


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
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


def render_image(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[Shape], np.ndarray]:
    """Draw one image; return its pixels (uint8 HxWx3), its shapes and the owner map (-1: background)."""
    background = _background(rng, size)
    canvas = background.copy()
    owner = np.full((size, size), -1, dtype=np.int16)
    shapes: list[Shape] = []
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
        shapes.append(Shape(category, outline, colour, int(np.count_nonzero(mask))))
    canvas += rng.normal(0, rng.uniform(1.5, 4), canvas.shape)
    pixels = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return pixels, shapes, owner


def coco_annotation(shape: Shape, visible: np.ndarray) -> dict[str, Any]:
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
