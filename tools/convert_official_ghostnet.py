"""Convert an official or timm GhostNet V1 ImageNet checkpoint into a clean plugin backbone checkpoint.

    python tools/convert_official_ghostnet.py state_dict_73.98.pth checkpoints/ghostnet_1.0x_imagenet.pth

The output holds only backbone tensors (classifier head and thop profiler keys dropped) under
``state_dict``, plus ``meta`` (source file, SHA-256, widen_factor). It is verified by loading it strictly into
``GhostNet`` before it is written, written atomically, and loads with ``torch.load(weights_only=True)``.
Use it with ``init_cfg=dict(type='Pretrained', checkpoint='checkpoints/ghostnet_1.0x_imagenet.pth')``;
the original file loads the same way, so converting is optional.
"""
import argparse
import hashlib
import os
from pathlib import Path
from typing import Optional, Sequence

import torch

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.engine.atomic_file import atomic_write_path
from mmdet_ghostnet.models.backbones.official_weights import load_official_weights, read_official_state_dict

COMMON_WIDTHS = (0.5, 0.75, 1.0, 1.1, 1.3, 1.5, 2.0)


def detect_widen_factor(checkpoint: str, candidates: Sequence[float] = COMMON_WIDTHS) -> float:
    """The first width in ``candidates`` whose full GhostNet loads ``checkpoint`` strictly."""
    errors = []
    for width in candidates:
        try:
            load_official_weights(GhostNet(widen_factor=width, out_indices=(10, )), checkpoint)
            return width
        except ValueError as error:
            errors.append(f'{width}: {error}')
    raise ValueError(f'checkpoint={checkpoint!r} fits no GhostNet of widen_factor in {list(candidates)}; pass '
                     '--widen-factor if it is another width. Tried:\n  ' + '\n  '.join(errors))


def convert(src: str, dst: str, widen_factor: Optional[float] = None) -> dict:
    """Verify ``src`` against GhostNet and write the backbone checkpoint to ``dst``; return its ``meta``."""
    width = widen_factor if widen_factor is not None else detect_widen_factor(src)
    load_official_weights(GhostNet(widen_factor=width, out_indices=(10, )), src)
    meta = dict(
        source=os.path.basename(src),
        source_sha256=hashlib.sha256(Path(src).read_bytes()).hexdigest(),
        widen_factor=width,
        converted_by='mmdet_ghostnet/tools/convert_official_ghostnet.py')
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write_path(dst) as tmp_path:
        torch.save(dict(state_dict=read_official_state_dict(src), meta=meta), tmp_path)
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='official or timm GhostNet V1 checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='where to write the plugin checkpoint')
    parser.add_argument('--widen-factor', type=float, help='width of the checkpoint (detected if omitted)')
    args = parser.parse_args()
    if not os.path.isfile(args.src):
        parser.error(f'src={args.src!r} is not a file')
    if os.path.abspath(args.src) == os.path.abspath(args.dst):
        parser.error(f'dst={args.dst!r} is the source file; choose another path so that nothing is overwritten')
    if args.widen_factor is not None and args.widen_factor <= 0:
        parser.error(f'--widen-factor={args.widen_factor} is invalid: it must be > 0')
    meta = convert(args.src, args.dst, args.widen_factor)
    print(f'wrote {args.dst}: GhostNet widen_factor={meta["widen_factor"]}, from {meta["source"]} '
          f'(sha256 {meta["source_sha256"][:12]}...)')


if __name__ == '__main__':
    main()
