"""Publish the weights of a trained row: strip a training checkpoint to float16 weights and index it.

    python tools/publish_weights.py configs/bccd/retinanet_ghostnet-1.0x_ghostfpn_1xb2-36e_bccd.py \
        work_dirs/bccd/retinanet_ghostnet-1.0x_ghostfpn_1xb2-36e_bccd_seed1/best_coco_bbox_mAP_epoch_33.pth \
        --metrics RUN/test_metrics.json [--runs RUN OTHER_RUN ...] [--title T] [--use U] [--recommended]

writes ``<out-dir>/<config name>.pth`` and its entry (config, weights, sha256, size, test metrics) in
``<out-dir>/metafile.yml``. With the default ``--out-dir checkpoints`` this is how a file enters the model zoo:
then run ``python tools/model_zoo.py --update`` (after ``bash tools/benchmark_zoo.sh``) to renew the measured
fields and the README's table. ``--runs`` are the run folders of its training runs (``tools/run_accuracy_row.sh``
writes them; the published file's first); a re-published entry keeps its title, use, runs and recommendation
unless given. The weights are checked against the config's model (strictly, as ``tools/test.py`` loads them)
before anything is written.
"""
import argparse
import json
import os
import os.path as osp

import torch
from mmengine.config import Config

from mmdet_ghostnet.engine.preflight import check_checkpoint
from mmdet_ghostnet.engine.publish import publish_weights, update_model_index
from mmdet_ghostnet.utils.cli import build_model, check_config_file, check_existing_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='the training checkpoint (e.g. best_coco_bbox_mAP_epoch_N.pth)')
    parser.add_argument('--metrics', required=True, help="tools/test.py's metrics JSON of this checkpoint")
    parser.add_argument('--out-dir', default='checkpoints', help='folder of the weights and metafile.yml')
    parser.add_argument('--fp32', action='store_true', help='keep float32 weights (default: float16)')
    parser.add_argument('--runs', nargs='+', metavar='RUN',
                        help="the run folders of its training runs, this file's first")
    parser.add_argument('--title', help="the model's name in the README's table")
    parser.add_argument('--use', help='what to pick it for, in a few words')
    parser.add_argument('--recommended', action='store_true', help='the recommended model of the zoo')
    args = parser.parse_args()
    check_config_file(parser, args.config)
    check_existing_file(parser, 'checkpoint', args.checkpoint)
    check_existing_file(parser, '--metrics', args.metrics)
    for run in args.runs or []:
        if not osp.isfile(osp.join(run, 'test_metrics.json')):
            parser.error(f'--runs: {run!r} is not a run folder (no test_metrics.json)')

    cfg = Config.fromfile(args.config)
    name = osp.splitext(osp.basename(args.config))[0]
    weights = osp.join(args.out_dir, f'{name}.pth')
    check_checkpoint(args.checkpoint, build_model(cfg))
    os.makedirs(args.out_dir, exist_ok=True)
    sha256 = publish_weights(args.checkpoint, weights, fp16=not args.fp32)
    check_checkpoint(weights, build_model(cfg))
    with open(args.metrics) as file:
        metrics = json.load(file)
    meta = torch.load(weights, map_location='cpu', weights_only=True)['meta']
    metadata = {'Training Data': 'BCCD train', 'Epochs': cfg.train_cfg.max_epochs, 'Best epoch': meta.get('epoch'),
                'Seed': meta.get('seed'), 'Storage': 'float32' if args.fp32 else 'float16'}
    describe = dict(Title=args.title, Use=args.use, Runs=args.runs, Recommended=args.recommended or None)
    update_model_index(osp.join(args.out_dir, 'metafile.yml'), name, args.config, weights, sha256, metrics,
                       metadata, describe={key: value for key, value in describe.items() if value is not None})
    print(f'{weights}: sha256 {sha256}, {osp.getsize(weights) / 2**20:.2f} MB, '
          f'test bbox mAP {metrics["coco/bbox_mAP"]}')


if __name__ == '__main__':
    main()
