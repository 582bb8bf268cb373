"""Evaluate a trained detector checkpoint, with MMDetection's command line.

    python tools/test.py CONFIG CHECKPOINT|MODEL.onnx [--work-dir DIR] [--out results.pkl] [--show] [--show-dir DIR]
        [--wait-time S] [--tta] [--deploy] [--runtime onnxruntime|openvino] [--cfg-options key=value ...]
        [--launcher {none,pytorch,slurm,mpi}] [--no-keep-freed-memory]

An ``.onnx`` file (tools/export_onnx.py, float32 or ``--int8``) runs in ONNX Runtime, or in OpenVINO (float32
precision) with ``--runtime openvino``.
"""
import argparse

from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process

from mmdet_ghostnet.export.runtime import onnx_model_config
from mmdet_ghostnet.utils.cli import (add_common_arguments, add_runtime_argument, build_runner, check_config_file,
                                      check_existing_file, check_runtime, close_distributed, load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file, or a model exported by tools/export_onnx.py (.onnx)')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions to this pickle file for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='dir (inside the work dir) where painted images are saved')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation (needs tta_model in config)')
    parser.add_argument('--deploy', action='store_true',
                        help='fold BatchNorms (and GhostNetV3 branches) into convs before testing (faster)')
    add_runtime_argument(parser)
    add_common_arguments(parser)
    args = parser.parse_args()
    check_config_file(parser, args.config)
    check_existing_file(parser, 'checkpoint', args.checkpoint)
    check_runtime(parser, args)
    if args.checkpoint.endswith('.onnx') and (args.tta or args.deploy or args.launcher != 'none'):
        parser.error(f'checkpoint={args.checkpoint!r} is an ONNX model: --tta, --deploy and --launcher do not apply')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out={args.out!r} is invalid: it must end with .pkl or .pickle')
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on ``DetVisualizationHook`` for ``--show`` / ``--show-dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('--show/--show-dir need default_hooks.visualization=dict(type="DetVisualizationHook")')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['test_out_dir'] = args.show_dir


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    checkpoint = None if args.checkpoint.endswith('.onnx') else args.checkpoint
    if checkpoint is None:
        cfg.model = onnx_model_config(cfg.model, args.checkpoint, runtime=args.runtime)
    cfg.load_from = checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise ValueError('--tta needs tta_model and tta_pipeline in the config')
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    if args.deploy:
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='FuseConvBNHook')]
    if args.out is not None:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(type='DumpDetResults', out_file_path=args.out)]

    runner = build_runner(cfg, ('test', ), checkpoint)
    metrics = runner.test()
    if is_main_process():
        print('metrics:', {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()})
    close_distributed()


if __name__ == '__main__':
    main()
