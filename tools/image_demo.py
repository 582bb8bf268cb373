"""Detect objects on your own images with a model of the zoo (checkpoints/metafile.yml), as MMDetection's
demo/image_demo.py does; no dataset needed.

    python tools/image_demo.py INPUT [INPUT ...] [--model NAME | --config CONFIG --weights WEIGHTS]
        [--out-dir outputs/] [--pred-score-thr 0.3] [--device cpu] [--show]

INPUT: image files and/or folders of images. The model is the zoo's recommended one unless ``--model`` names
another (or ``--config`` and ``--weights`` give any detector). Writes ``OUT_DIR/vis/<image name>`` (the image with
its detections painted) and ``OUT_DIR/preds/<image stem>.json`` (``bboxes`` as x1, y1, x2, y2 in pixels,
``scores``, ``labels``, ``label_names`` of the detections scoring above the threshold, and the model's ``classes``).
The same from Python: ``mmdet_ghostnet.apis.zoo_inferencer(NAME)(images, out_dir=..., pred_score_thr=...)``.
"""
import argparse
import os.path as osp
from collections import Counter

import mmengine

from mmdet_ghostnet.apis import detector_inferencer, kept_detections, shipped_model
from mmdet_ghostnet.utils.cli import check_config_file, check_existing_file
from mmdet_ghostnet.utils.model_zoo import load_zoo, recommended
from mmdet_ghostnet.utils.paint import list_images


def image_stem(path: str) -> str:
    """``folder/photo.jpg`` -> ``photo``, the name of its JSON file."""
    return osp.splitext(osp.basename(path))[0]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Detect objects on images with a model of the zoo')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders of images')
    zoo = load_zoo()
    model = parser.add_mutually_exclusive_group()
    model.add_argument('--model', choices=[entry['Name'] for entry in zoo['Models']],
                       help=f'model of checkpoints/metafile.yml (default: the recommended {recommended(zoo)["Name"]})')
    model.add_argument('--config', help='config file of another detector (with --weights)')
    parser.add_argument('--weights', help='checkpoint of the detector of --config')
    parser.add_argument('--out-dir', default='outputs', help='where vis/ (painted images) and preds/ (JSON) go')
    parser.add_argument('--pred-score-thr', type=float, default=0.3, help='keep detections scoring above this')
    parser.add_argument('--device', default='cpu', help='device to run on, e.g. cpu or cuda:0')
    parser.add_argument('--show', action='store_true', help='also show each painted image in a window')
    args = parser.parse_args()
    if (args.config is None) != (args.weights is None):
        parser.error('--config and --weights go together')
    if args.config is not None:
        check_config_file(parser, args.config)
        check_existing_file(parser, '--weights', args.weights)
    if not 0 <= args.pred_score_thr <= 1:
        parser.error(f'--pred-score-thr={args.pred_score_thr!r} is invalid: it must be in [0, 1]')
    try:
        args.images = list_images(args.inputs)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    shared = [stem for stem, count in Counter(map(image_stem, args.images)).items() if count > 1]
    if shared:
        parser.error(f'inputs={args.inputs!r} hold several images named {shared} (without suffix): their outputs '
                     'would overwrite each other')
    return args


def main() -> None:
    args = parse_args()
    config, weights = (args.config, args.weights) if args.config else shipped_model(args.model)
    inferencer = detector_inferencer(config, weights, device=args.device)
    results = inferencer(args.images, out_dir=args.out_dir, pred_score_thr=args.pred_score_thr, show=args.show)
    classes = inferencer.model.dataset_meta['classes']
    for image, prediction in zip(args.images, results['predictions'], strict=True):
        detections = kept_detections(prediction, classes, args.pred_score_thr)
        mmengine.dump(detections, osp.join(args.out_dir, 'preds', f'{image_stem(image)}.json'))
        print(f'{image}: {len(detections["scores"])} boxes scoring above {args.pred_score_thr}')
    print(f'painted images: {osp.abspath(osp.join(args.out_dir, "vis"))}')
    print(f'predictions:    {osp.abspath(osp.join(args.out_dir, "preds"))}')


if __name__ == '__main__':
    main()
