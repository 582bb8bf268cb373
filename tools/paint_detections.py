"""Paint a detector's detections (boxes, class names, scores) on an image or a folder of images.

    python tools/paint_detections.py CONFIG CHECKPOINT INPUT [INPUT ...] [--out-dir DIR] [--score-thr 0.3]
        [--gt-split test] [--montage FILE.jpg] [--device cpu] [--runtime onnxruntime|openvino]
        [--cfg-options key=value ...]

Runs MMDetection's ``DetInferencer`` (with a progress bar) and its visualizer; CHECKPOINT may be an exported
``.onnx`` file, run by ONNX Runtime (or ``--runtime openvino``). ``--gt-split test`` paints the
ground truth beside the detections for images of that split of the config's dataset; ``--montage`` also stacks
the painted images into one picture.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from mmdet_ghostnet.utils.paint import list_images, montage, paint_detections
from mmdet_ghostnet.utils.cli import add_runtime_argument, check_config_file, check_existing_file, check_runtime


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Paint detections on images')
    parser.add_argument('config', help='config file of the detector')
    parser.add_argument('checkpoint', help='checkpoint file, or a model exported by tools/export_onnx.py (.onnx)')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders of images')
    parser.add_argument('--out-dir', default='work_dirs/paint', help='where the painted images go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='paint detections scoring at least this')
    parser.add_argument('--gt-split', choices=['train', 'val', 'test'],
                        help="paint the ground truth of this split of the config's dataset beside the detections")
    parser.add_argument('--montage', help='also stack the painted images into this picture (.jpg)')
    parser.add_argument('--device', default='cpu', help='device to run on, e.g. cpu or cuda:0')
    add_runtime_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, e.g. test_dataloader.dataset.data_root=DIR/')
    args = parser.parse_args()
    check_config_file(parser, args.config)
    check_existing_file(parser, 'checkpoint', args.checkpoint)
    check_runtime(parser, args)
    if not 0 <= args.score_thr <= 1:
        parser.error(f'--score-thr={args.score_thr!r} is invalid: it must be in [0, 1]')
    if args.montage and not args.montage.lower().endswith(('.jpg', '.jpeg')):
        parser.error(f'--montage={args.montage!r} is invalid: it must end with .jpg or .jpeg')
    try:
        args.images = list_images(args.inputs)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    return args


def main() -> None:
    args = parse_args()
    written = paint_detections(args.config, args.checkpoint, args.images, args.out_dir, args.score_thr, args.gt_split,
                               args.device, args.cfg_options, args.runtime)
    print(f'painted {len(written)} images into {osp.abspath(args.out_dir)}')
    if args.montage:
        montage(written, args.montage)
        print(f'montage: {args.montage}')


if __name__ == '__main__':
    main()
