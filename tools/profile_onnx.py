"""Where a runtime spends an exported detector's time, per operator type, on one image.

    python tools/profile_onnx.py CONFIG MODEL.onnx [MODEL2.onnx ...] --image IMG [--runtime openvino]
        [--threads 1] [--runs 20] [--warmup 3] [--top 12]

Each file (from ``tools/export_onnx.py``, float32 or ``--int8``; fixed input size) runs ``--runs`` times on the
image, fed as ``tools/test.py`` feeds it (the config's test pipeline, padded to the input), after ``--warmup``
runs; the runtime's own counters (mmdet_ghostnet/export/profile.py) give kernel milliseconds per run for each
operator type, its share and its nodes per run, and the convolutions' multiply-adds per millisecond of
convolution time. Profiling adds overhead: time with ``tools/benchmark.py``, compare shares here.
"""
import argparse
import sys

import mmcv
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet_ghostnet.export.exporter import pipeline_image
from mmdet_ghostnet.export.profile import CONV_TYPES, PROFILERS, conv_multiply_adds
from mmdet_ghostnet.export.runtime import batch_images, fixed_input_size, inference_session, padding_value
from mmdet_ghostnet.utils.cli import check_config_file, check_existing_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the files were exported from (its test pipeline feeds them)')
    parser.add_argument('models', nargs='+', help='ONNX files with a fixed input size')
    parser.add_argument('--image', required=True, help='the image to run them on')
    parser.add_argument('--runtime', default='onnxruntime', help=f'one of {sorted(PROFILERS)} (default onnxruntime)')
    parser.add_argument('--threads', type=int, default=1, help='intra-op threads (default 1)')
    parser.add_argument('--runs', type=int, default=20, help='profiled runs (default 20)')
    parser.add_argument('--warmup', type=int, default=3, help='runs before them (default 3)')
    parser.add_argument('--top', type=int, default=12, help='operator types listed per file (default 12)')
    args = parser.parse_args()
    check_config_file(parser, args.config)
    for path in args.models:
        check_existing_file(parser, 'models', path)
    check_existing_file(parser, '--image', args.image)
    if args.runtime not in PROFILERS:
        parser.error(f'--runtime={args.runtime!r} is invalid: it must be one of {sorted(PROFILERS)}')
    for name, value, minimum in (('--threads', args.threads, 1), ('--runs', args.runs, 1),
                                 ('--warmup', args.warmup, 0), ('--top', args.top, 1)):
        if value < minimum:
            parser.error(f'{name}={value} is invalid: it must be at least {minimum}')
    return args


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    image = mmcv.imread(args.image)
    if image is None:
        print(f'profile_onnx.py: error: --image={args.image!r} is not an image that OpenCV can read', file=sys.stderr)
        return 2
    inputs = pipeline_image(cfg, image)['inputs']
    padding = torch.tensor(padding_value(cfg.model))
    for path in args.models:
        size = fixed_input_size(inference_session(path))
        if size is None:
            print(f'profile_onnx.py: error: {path} has a dynamic input size; export it with a fixed --shape',
                  file=sys.stderr)
            return 2
        feed = {'input': batch_images([inputs], size, padding).numpy()}
        time_us, calls = PROFILERS[args.runtime](path, feed, args.runs, args.warmup, args.threads)
        total = sum(time_us.values())
        conv_us = sum(value for key, value in time_us.items() if key.split('/')[0] in CONV_TYPES)
        macs = conv_multiply_adds(path)
        print(f'{path} in {args.runtime}, {args.threads} thread(s), input {size[0]}x{size[1]}: '
              f'{total / args.runs / 1e3:.1f} ms per run in kernels ({args.runs} runs after {args.warmup})')
        print(f'  convolutions: {macs / 1e9:.2f} G multiply-adds in {conv_us / args.runs / 1e3:.1f} ms '
              f'({conv_us / total:.0%}): {macs / (conv_us / args.runs) / 1e3:.1f} G multiply-adds/s')
        for op, duration in time_us.most_common(args.top):
            print(f'  {op:48s} {duration / args.runs / 1e3:7.2f} ms {duration / total:6.1%}  '
                  f'({calls[op] // args.runs} nodes)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
