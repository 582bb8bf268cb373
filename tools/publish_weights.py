"""Publish the weights of a trained row: strip a training checkpoint to float16 weights and index it.

    python tools/publish_weights.py configs/bccd/retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py \
        work_dirs/.../best_coco_bbox_mAP_epoch_36.pth \
        --metrics docs/accuracy/runs/retinanet_ghostnet-1.0x_ghostfpn_bccd_seed0/test_metrics.json

writes ``checkpoints/<config name>.pth`` and its entry (config, weights, sha256, size, test metrics) in
``checkpoints/metafile.yml``. The weights are checked against the config's model (strictly, as ``tools/test.py``
loads them) before anything is written.
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
    args = parser.parse_args()
    check_config_file(parser, args.config)
    check_existing_file(parser, 'checkpoint', args.checkpoint)
    check_existing_file(parser, '--metrics', args.metrics)

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
    update_model_index(osp.join(args.out_dir, 'metafile.yml'), name, args.config, weights, sha256, metrics,
                       metadata)
    print(f'{weights}: sha256 {sha256}, {osp.getsize(weights) / 2**20:.2f} MB, '
          f'test bbox mAP {metrics["coco/bbox_mAP"]}')


if __name__ == '__main__':
    main()
