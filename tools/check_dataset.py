"""Check the images and boxes of a config's datasets before a long run, with a progress bar.

    python tools/check_dataset.py CONFIG [--splits train val test] [--cfg-options key=value ...]

Reports every image file that is missing, does not decode (not an image, truncated) or has another size than its
annotation says, and every box the dataset class drops or changes, each with what training and evaluation will do
with it.
Exits with 1 when anything was found, 0 when all is well.
"""
import argparse
import sys

from mmengine.config import Config, DictAction

from mmdet_ghostnet.engine.image_check import check_config_images
from mmdet_ghostnet.utils.cli import check_config_file

SPLITS = ('train', 'val', 'test')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Check a config's dataset images and boxes")
    parser.add_argument('config', help='config file path')
    parser.add_argument('--splits', nargs='+', choices=SPLITS, default=list(SPLITS),
                        help='the dataloaders whose datasets to check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, e.g. train_dataloader.dataset.data_root=DIR')
    args = parser.parse_args()
    check_config_file(parser, args.config)
    return args


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    findings = check_config_images(cfg, args.splits)
    for finding in findings:
        print(finding)
    print(f'{len(findings)} problem(s) found' if findings else 'no problems found')
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
