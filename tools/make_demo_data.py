"""Generate a small, deterministic COCO-format detection dataset of coloured shapes.

The demo trains a GhostNet detector on CPU in a few minutes, offline, and should end with
a bbox mAP that means something. Real datasets are too large for that and need a download,
so this tool draws one: 1-4 circles, squares and triangles per image (the three categories,
decided by shape only; mmdet_ghostnet/demo/shapes.py draws them), written as COCO splits under
``--out-dir`` by mmdet_ghostnet/demo/dataset.py. The same arguments always give byte-identical
files; a second run with the same arguments leaves them alone, and a run with other arguments
is refused unless ``--force`` is given.

Usage::

    python tools/make_demo_data.py [--out-dir data/demo] [--num-train 400] [--num-val 100]
                                   [--image-size 128] [--seed 0] [--force]
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from mmdet_ghostnet.demo import MIN_IMAGE_SIZE, DemoDataExistsError, make_demo_dataset


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
