"""Argument checks and config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def check_existing_file(parser: argparse.ArgumentParser, name: str, path: str) -> None:
    """Stop with a usage error if ``path`` (given as argument ``name``) is not a readable file."""
    if not os.path.isfile(path):
        parser.error(f'{name}={path!r} does not exist or is not a file')


def check_config_file(parser: argparse.ArgumentParser, path: str) -> None:
    """Stop with a usage error unless ``path`` is an existing Python config file."""
    check_existing_file(parser, 'config', path)
    if not path.endswith('.py'):
        parser.error(f'config={path!r} is not a Python config file (*.py)')


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``, as in MMDetection's tools."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply ``--cfg-options``, ``--launcher`` and ``--work-dir``.

    The work dir defaults to ``./work_dirs/<config name>``. Distributed runs without CUDA use the gloo backend
    (NCCL needs GPUs), so ``tools/dist_train.sh`` also works on a CPU machine.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if args.launcher != 'none' and not torch.cuda.is_available() and dist_cfg.get('backend', 'nccl') == 'nccl':
        print_log('no CUDA device: using the gloo backend instead of nccl', logger='current')
        dist_cfg['backend'] = 'gloo'
    return cfg
