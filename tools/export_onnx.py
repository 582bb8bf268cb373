"""Export a trained detector of this repository to an end-to-end ONNX model that a stock ONNX Runtime runs.

    python tools/export_onnx.py CONFIG CHECKPOINT --out FILE.onnx [--shape H W] [--batch N] [--dynamic]
        [--opset 17] [--check-image IMG] [--int8 [--calib-images N] [--calib-dir DIR]] [--cfg-options key=value ...]

Input ``input``: float32 N x 3 x H x W, BGR 0-255 images after the config's test pipeline (resized), padded at the
bottom/right with the per-channel mean (the value that normalises to 0, as mmdet pads). Outputs ``dets``
(N x K x 5: x1, y1, x2, y2 in input pixels, score) and ``labels`` (N x K int64, -1 for empty slots), K = the
config's ``max_per_img`` (100 for YOLOX, whose config has none). BatchNorms are folded first; normalisation, box
decoding, score threshold and NMS are in
the graph (standard ONNX operators, opset 17). The input size is fixed (default: the test pipeline's Resize
scale padded to the data preprocessor's divisor) unless ``--dynamic``. After writing, the file is checked with
``onnx.checker`` and run once in ONNX Runtime against PyTorch's ``predict`` on one image: ``--check-image``, else
the first test image of the config's data set, else (no test set on disk) a generated image, as the output says;
the tool fails unless the detections are the same (see docs/deploy.md). Only that check reads the data set.

``--int8`` writes the statically quantized model instead (mmdet_ghostnet/export/quantize.py: int8 convolutions in
a QDQ graph with the same contract), calibrated on ``--calib-images`` images (default 32) spread over the config's
training set, or over the images of ``--calib-dir``, fed through the test pipeline. Its check on the image is
looser (int8 moves scores and boxes a little): INT8_MIN_MATCHED of PyTorch's detections scoring at least 0.3 must
be found by the int8 model (same label, IoU >= 0.5, scoring at least 0.2). Its accuracy on a whole test set:
``tools/test.py CONFIG FILE.onnx``.
"""
import argparse
import os.path as osp
import sys
import tempfile
from typing import List, Optional, Tuple

import mmcv
import torch
from mmengine.config import Config, DictAction

from mmdet_ghostnet.export.compare import MAX_SCORE_DIFF, MIN_IOU, MIN_MATCHED, same_detections
from mmdet_ghostnet.export.exporter import (OPSET, OUTPUT_NAMES, check_against_pytorch, check_onnx_file,
                                            check_writable, dataset_image, default_input_size, end_to_end,
                                            export_onnx, generated_image, load_detector, pipeline_image)
from mmdet_ghostnet.export.quantize import calibration_batches, quantize_int8, training_images
from mmdet_ghostnet.export.runtime import batch_images, ort_session, padded_size
from mmdet_ghostnet.utils.cli import check_config_file, check_existing_file
from mmdet_ghostnet.utils.paint import list_images

INT8_MIN_SCORE, INT8_MIN_OTHER_SCORE, INT8_MIN_IOU, INT8_MIN_MATCHED = 0.3, 0.2, 0.5, 0.9


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='detector config of this repository')
    parser.add_argument('checkpoint', help='its trained checkpoint (.pth)')
    parser.add_argument('--out', required=True, help='the ONNX file to write')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), help='fixed input size (see above)')
    parser.add_argument('--batch', type=int, default=1, help='fixed batch size (default 1)')
    parser.add_argument('--dynamic', action='store_true', help='dynamic batch, height and width')
    parser.add_argument('--opset', type=int, default=OPSET, help=f'ONNX opset, >= 16 (default {OPSET})')
    parser.add_argument('--check-image', metavar='IMG',
                        help='check the file on this image (default: the first test image, or a generated one)')
    parser.add_argument('--int8', action='store_true', help='write the int8 statically quantized model')
    parser.add_argument('--calib-images', type=int, metavar='N',
                        help='--int8: calibrate on N images (default 32) of the training set or of --calib-dir')
    parser.add_argument('--calib-dir', metavar='DIR', help='--int8: calibrate on the images of this folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, e.g. test_dataloader.dataset.data_root=DIR')
    args = parser.parse_args()
    check_config_file(parser, args.config)
    check_existing_file(parser, 'checkpoint', args.checkpoint)
    if args.check_image is not None:
        check_existing_file(parser, '--check-image', args.check_image)
        if mmcv.imread(args.check_image) is None:
            parser.error(f'--check-image={args.check_image!r} is not an image that OpenCV can read')
    if not args.int8 and (args.calib_images is not None or args.calib_dir is not None):
        parser.error('--calib-images and --calib-dir calibrate the --int8 model: add --int8')
    if args.calib_dir is not None and not osp.isdir(args.calib_dir):
        parser.error(f'--calib-dir={args.calib_dir!r} is not a folder')
    if args.int8 and (args.dynamic or args.batch != 1):
        parser.error('--int8 calibrates a fixed batch-1 input: it does not go with --dynamic or --batch')
    if args.int8 and args.calib_images is None:
        args.calib_images = 32
    for name, value, minimum in (('--batch', args.batch, 1), ('--opset', args.opset, 16),
                                 *([('--calib-images', args.calib_images, 1)] if args.int8 else []),
                                 *(('--shape', side, 32) for side in args.shape or ())):
        if value < minimum:
            parser.error(f'{name}={value} is invalid: it must be at least {minimum}')
    try:
        check_writable(args.out)
    except ValueError as error:
        parser.error(str(error))
    return args


def check_image(cfg: Config, path: Optional[str], size: Tuple[int, int]) -> Tuple[dict, str]:
    """The image to check the file on, through the test pipeline, and how to name it: ``path`` if given, else the
    first test image, else (no test set on disk) a generated image of the input's shorter side, said so."""
    if path is not None:
        return pipeline_image(cfg, mmcv.imread(path)), path
    try:
        item = dataset_image(cfg)
        return item, item['data_samples'].img_path
    except FileNotFoundError as absent:
        print(f'the test set is not on disk ({absent})\nchecking on a generated image instead; give a real one with '
              '--check-image IMG')
        return pipeline_image(cfg, generated_image(min(size))), 'a generated image'


def calibration_images(cfg: Config, args: argparse.Namespace) -> List[str]:
    """The ``--calib-images`` images of ``--calib-dir`` (the first ones by name) or of the training set."""
    if args.calib_dir is None:
        return training_images(cfg, args.calib_images)
    images = list_images([args.calib_dir])
    if args.calib_images > len(images):
        raise ValueError(f'--calib-images={args.calib_images} is invalid: --calib-dir={args.calib_dir!r} has only '
                         f'{len(images)} images')
    return images[:args.calib_images]


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:  # everything that can be wrong with the inputs, before the export
        detector = load_detector(cfg, args.config, args.checkpoint)
        size = tuple(args.shape) if args.shape else default_input_size(cfg)
        item, image_name = check_image(cfg, args.check_image, size)
        divisor = cfg.model.get('data_preprocessor', {}).get('pad_size_divisor', 1)
        model = end_to_end(detector)
        example = batch_images([item['inputs']] * args.batch, size, model.padding_value())
        calibration = calibration_images(cfg, args) if args.int8 else []
    except (ValueError, FileNotFoundError) as error:
        print(f'export_onnx.py: error: {error}', file=sys.stderr)
        return 2
    float_onnx = osp.join(tempfile.mkdtemp(), 'float32.onnx') if args.int8 else args.out
    export_onnx(model, example, float_onnx, OUTPUT_NAMES, dynamic=args.dynamic, opset=args.opset,
                output_dims=model.output_dims())
    if args.int8:
        quantize_int8(float_onnx, args.out, calibration_batches(cfg, calibration, size, model.padding_value()))
        print(f'quantized to int8 (QDQ), calibrated on {len(calibration)} images '
              f'({"of " + args.calib_dir if args.calib_dir else "of the training set"})')
    check_onnx_file(args.out)
    print(f'wrote {args.out}: input {"N x 3 x H x W (dynamic)" if args.dynamic else list(example.shape)}, '
          f'outputs dets N x {model.max_per_img} x 5, labels N x {model.max_per_img}; opset {args.opset}; '
          f'onnx.checker passed')

    check_size = padded_size([item['inputs']], divisor) if args.dynamic else size
    if args.int8:
        return check_int8(detector, ort_session(args.out), item, check_size, image_name)
    result = check_against_pytorch(detector, ort_session(args.out), item, check_size)
    print(f"check on {image_name}: PyTorch {result['reference']} detections, ONNX Runtime "
          f"{result['other']}, {result['matched']} matched (same label, IoU >= {MIN_IOU}); worst IoU "
          f"{result['worst_iou']:.6f}, largest |score difference| {result['max_score_diff']:.2e}, largest box "
          f"coordinate difference {result['max_box_diff']:.2e} px")
    if result['reference'] == 0:
        print('note: PyTorch finds nothing on this image, so the check compared empty outputs; compare a whole test '
              'set with tools/test.py and tools/compare_predictions.py')
    if not same_detections(result):
        print(f'FAILED: ONNX Runtime does not give the same detections (needed: {MIN_MATCHED:.0%} matched or all but one, '
              f'|score difference| <= {MAX_SCORE_DIFF})', file=sys.stderr)
        return 1
    print('success: ONNX Runtime gives the same detections as PyTorch')
    return 0


def check_int8(detector, session, item: dict, size: Tuple[int, int], image_name: str) -> int:
    """The int8 model's check on the image: it finds INT8_MIN_MATCHED of PyTorch's confident detections."""
    result = check_against_pytorch(detector, session, item, size, INT8_MIN_IOU, INT8_MIN_SCORE, INT8_MIN_OTHER_SCORE)
    print(f"check on {image_name}: PyTorch {result['reference']} detections scoring >= {INT8_MIN_SCORE}, of which "
          f"the int8 model (ONNX Runtime) finds {result['matched']} (same label, IoU >= {INT8_MIN_IOU}, score >= "
          f"{INT8_MIN_OTHER_SCORE}); largest |score difference| {result['max_score_diff']:.3f}")
    if result['matched'] < INT8_MIN_MATCHED * result['reference']:
        print(f'FAILED: the int8 model finds fewer than {INT8_MIN_MATCHED:.0%} of them', file=sys.stderr)
        return 1
    print('success: the int8 model finds what PyTorch finds')
    return 0


if __name__ == '__main__':
    torch.set_grad_enabled(False)
    sys.exit(main())
