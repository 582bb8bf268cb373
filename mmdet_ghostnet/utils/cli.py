"""Argument checks and config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import MODELS, RUNNERS, DefaultScope
from mmengine.runner import Runner
from torch import nn

from ..engine.image_check import check_config_images
from ..engine.preflight import check_checkpoint, check_dataset_config, check_model_config, check_pretrained_backbone
from .allocator import keep_freed_memory


def check_existing_file(parser: argparse.ArgumentParser, name: str, path: str) -> None:
    """Stop with a usage error if ``path`` (given as argument ``name``) is not an existing file."""
    if not os.path.isfile(path):
        parser.error(f'{name}={path!r} does not exist or is not a file')


def check_config_file(parser: argparse.ArgumentParser, path: str) -> None:
    """Stop with a usage error unless ``path`` is an existing Python config file."""
    check_existing_file(parser, 'config', path)
    if not path.endswith('.py'):
        parser.error(f'config={path!r} is not a Python config file (*.py)')


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``, as in MMDetection's tools, and
    ``--no-keep-freed-memory``."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--keep-freed-memory', action=argparse.BooleanOptionalAction, default=True,
                        help='glibc keeps freed memory for reuse instead of faulting it in again every iteration '
                        '(faster on CPU, same results; mmdet_ghostnet.utils.allocator). Default: on')


def add_runtime_argument(parser: argparse.ArgumentParser) -> None:
    """``--runtime``: what runs an ``.onnx`` model (``check_runtime`` validates it after parsing)."""
    from ..export.runtime import RUNTIMES
    parser.add_argument('--runtime', default='onnxruntime', choices=sorted(RUNTIMES),
                        help='what runs an .onnx model (default onnxruntime; openvino in float32 precision)')


def check_runtime(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop unless ``--runtime`` other than the default comes with an ``.onnx`` model and its package is installed."""
    if args.runtime == 'onnxruntime':
        return
    if not args.checkpoint.endswith('.onnx'):
        parser.error(f'--runtime={args.runtime!r} runs an exported .onnx model, and checkpoint={args.checkpoint!r} '
                     'is not one')
    try:
        __import__(args.runtime)
    except ImportError:
        parser.error(f'--runtime={args.runtime!r} needs the {args.runtime} package: pip install -e ".[deploy]"')


def load_config(args: argparse.Namespace) -> Config:
    """Keep freed memory unless ``--no-keep-freed-memory`` (before the run allocates anything large), then read
    ``args.config`` and apply ``--cfg-options``, ``--launcher`` and ``--work-dir``.

    The work dir defaults to ``./work_dirs/<config name>``.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.keep_freed_memory:
        keep_freed_memory()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config, splits: tuple, checkpoint: Optional[str] = None, check_images: bool = False) -> Runner:
    """Check the model config, the datasets of ``splits`` (e.g. ``('train', 'val')``), the backbone's ImageNet
    weights (when training), with ``check_images`` every image and box of those datasets (``SystemExit`` listing
    the problems), and ``checkpoint`` (if any) against the model (for training without ``resume``, but for
    classification layers of other classes: fine-tuning), then build the runner: all before any long work
    starts, and before the runner creates the work dir, its log and its config copy, so that a refused run leaves
    nothing behind."""
    check_model_config(cfg.model)
    for split in splits:
        if cfg.get(f'{split}_dataloader'):
            check_dataset_config(f'{split}_dataloader', cfg[f'{split}_dataloader'].dataset)
    findings = check_config_images(cfg, splits) if check_images else []
    if findings:
        raise SystemExit(f'--check-images found {len(findings)} problem(s):\n' + '\n'.join(map(str, findings)))
    if 'train' in splits:  # only training initialises the backbone from its ImageNet weights
        check_pretrained_backbone(cfg.model)
    if checkpoint is not None:
        check_checkpoint(checkpoint, build_model(cfg), fine_tune='train' in splits and not cfg.get('resume'))
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def build_model(cfg: Config) -> nn.Module:
    """The model the runner of ``cfg`` will build (same registry scope and data preprocessor)."""
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(model_cfg)


def close_distributed() -> None:
    """Shut the process group down cleanly at the end of a distributed run.

    Left to interpreter exit, gloo's threads can be torn down while still in use and abort a process
    ("terminate called without an active exception") after the work is done, failing the whole torchrun job.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
