"""Train a detector from a config, with MMDetection's command line.

    python tools/train.py configs/retinanet_ghostnet_fpn_coco.py [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--check-images] [--cfg-options key=value ...] [--launcher {none,pytorch,slurm,mpi}]
        [--no-keep-freed-memory]
"""
import argparse

from mmdet_ghostnet.utils.cli import (add_common_arguments, build_runner, check_config_file, check_existing_file,
                                         close_distributed, load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the LR by the total batch size')
    parser.add_argument('--check-images', action='store_true',
                        help='before training, check that every image exists, decodes and has its annotated size '
                        '(as tools/check_dataset.py does) and stop if one does not')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or without a value from the latest one in the work dir')
    add_common_arguments(parser)
    args = parser.parse_args()
    check_config_file(parser, args.config)
    if args.resume not in (None, 'auto'):
        check_existing_file(parser, '--resume', args.resume)
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    splits = ('train', 'val') if cfg.get('val_cfg') else ('train', )
    runner = build_runner(cfg, splits, checkpoint=cfg.get('load_from'), check_images=args.check_images)
    runner.train()
    close_distributed()


if __name__ == '__main__':
    main()
