"""Benchmark GhostNet, GhostFPN and the detectors built on them against their peers, on one machine, in one run.

Usage::

    python tools/benchmark.py                                   # everything (hours on a small CPU)
    python tools/benchmark.py --parts backbone --sizes 800x1333 --batch-sizes 1 --out bench.json --plot bench.png
    python tools/benchmark.py --models "GhostNet 1.0x" --modes inference --repeats 50
    python tools/benchmark.py --quick --out /tmp/quick.json     # smoke test, well under a minute
    python tools/benchmark.py --device cuda --bf16-channels-last --cuda-graph --compile
    python tools/benchmark.py --device cpu --threads 1 --onnxruntime --models "GhostNet 1.0x" "demo" --sizes 128x128
    python tools/benchmark.py --parts detector --models _bccd --sizes 384x512 --image IMAGE.jpg \
        --checkpoint faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd=work_dirs/bccd/.../best_coco_bbox_mAP_epoch_33.pth

Per row (one model at one input size, batch size and mode): params, FLOPs (conv + linear multiply-adds, and
FlopAnalyzer's total), latency (median, p25-p75) and throughput, and peak memory; how each is measured is in
``mmdet_ghostnet/benchmark/measure.py``, the models and their peers in ``mmdet_ghostnet/benchmark/models.py``.
Models are randomly initialised unless ``--checkpoint MODEL=FILE`` gives one trained weights; detectors are fed a
random image unless ``--image`` gives one. Both matter for detectors: the post-processing, and a two-stage
detector's RoI head, cost more the more boxes pass their thresholds (rows report ``detections_per_image``, and
``two_stage`` for detectors whose RPN chooses that work).
Every row is compared with peers measured in the same run (peers of the models picked with ``--models`` are always
measured too). A "targets" section closes the report with PASS / FAIL per target; a FAIL is a finding, not an
error (the exit code is 1 only if a measurement itself failed).

Threads: ``--threads`` (default: torch's choice). On a machine whose cores are shared with other work, OpenMP
threads spin-waiting for a descheduled sibling can make small ops orders of magnitude slower; the header warns
when the load average is high (use ``--threads 1`` or ``OMP_WAIT_POLICY=PASSIVE`` there).

CUDA options: ``--bf16-channels-last`` (autocast to bfloat16 and channels-last tensors, also allowed on CPU),
``--cuda-graph`` (capture batch-1 backbone inference once, time ``graph.replay()``) and ``--compile``
(``torch.compile`` default mode, batch-1 backbone inference; also works on CPU with a C++ compiler). CPU options:
``--onnxruntime`` and ``--openvino`` (backbone and detector inference at every batch size exported to ONNX and run by
that runtime with ``--threads`` threads, OpenVINO in float32 precision; detectors end to end as
``tools/export_onnx.py`` writes them; the export folds BatchNorms itself, so a deploy row is not timed again where
its as-built row is), and ``--int8`` (each of them also on its int8 export, ``tools/export_onnx.py --int8``'s
quantization calibrated on the timed input). Those rows report their gain over eager (``x eager``). On CUDA, cuDNN autotuning (``cudnn.benchmark``) is on; the warm-up runs
absorb it, as they absorb compilation.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from mmdet_ghostnet.benchmark.measure import Settings
from mmdet_ghostnet.benchmark.models import MODES, PARTS, QUICK_MODELS, SPECS, SPECS_BY_NAME, ModelSpec
from mmdet_ghostnet.benchmark.report import (TARGET_SIZE, add_ratios, evaluate_targets, format_header, format_table,
                                             machine_info, plot_backbones, row_failures, write_outputs)
from mmdet_ghostnet.benchmark.runs import IsolatedRunner, plan, run_all, run_here
from mmdet_ghostnet.benchmark.workloads import Size, size_text

DEFAULT_SIZES: Tuple[Size, ...] = ((320, 320), (640, 640), (800, 1333))
DEFAULT_BATCH_SIZES = (1, 8)


def _size_arg(text: str) -> Size:
    match = re.fullmatch(r'(\d+)[xX](\d+)', text.strip())
    if not match or 0 in (int(match[1]), int(match[2])):
        raise argparse.ArgumentTypeError(f'invalid size {text!r}: expected HxW with positive integers, e.g. 800x1333')
    return int(match[1]), int(match[2])


def _int_arg(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f'invalid value {text!r}: expected an integer >= {minimum}')
        return value

    return parse


def _writable_file(text: str) -> Path:
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f'invalid path {text!r}: folder {str(path.parent)!r} does not exist')
    return path


def _readable_file(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f'invalid path {text!r}: no such file')
    return text


def _checkpoint_arg(text: str) -> Tuple[str, str]:
    model, separator, path = text.rpartition('=')
    if not separator or not model:
        raise argparse.ArgumentTypeError(f'invalid value {text!r}: expected MODEL=FILE, e.g. '
                                         'faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd=best_coco_bbox_mAP_epoch_30.pth')
    return model, _readable_file(path)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS), help='what to measure')
    parser.add_argument('--models', nargs='+', metavar='TEXT',
                        help='only rows whose name contains one of these (case-insensitive); peers are added')
    parser.add_argument('--sizes', nargs='+', type=_size_arg, metavar='HxW',
                        help='input sizes (default 320x320 640x640 800x1333)')
    parser.add_argument('--batch-sizes', nargs='+', type=_int_arg(1), metavar='N', help='default 1 8')
    parser.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES))
    parser.add_argument('--repeats', type=_int_arg(1), help='timed runs per measurement (default 20)')
    parser.add_argument('--warmup', type=_int_arg(0), help='untimed runs before them (default 5)')
    parser.add_argument('--device', choices=('cpu', 'cuda'), help='default: cuda if available, else cpu')
    parser.add_argument('--threads', type=_int_arg(1), help='torch.set_num_threads (default: torch\'s choice)')
    parser.add_argument('--bf16-channels-last', action='store_true', help='autocast to bfloat16, channels-last')
    parser.add_argument('--keep-freed-memory', action='store_true',
                        help='CPU: glibc malloc keeps freed memory instead of unmapping it, so that warm runs do not '
                        'fault their activations in again (see faults/run; mmdet_ghostnet.utils.allocator)')
    parser.add_argument('--cuda-graph', action='store_true', help='also batch-1 backbone inference in a CUDA graph')
    parser.add_argument('--compile', action='store_true', help='also batch-1 backbone inference with torch.compile')
    parser.add_argument('--onnxruntime', action='store_true',
                        help='also backbone and detector inference exported to ONNX, in ONNX Runtime (CPU)')
    parser.add_argument('--openvino', action='store_true', help='also the exported ONNX in OpenVINO (CPU, float32)')
    parser.add_argument('--int8', action='store_true',
                        help='with --onnxruntime / --openvino: also their int8 export (calibrated on the timed input)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: 64x64, batch 1, warmup 1, repeats 2, 1 thread, a few models (explicit '
                        'options win)')
    parser.add_argument('--checkpoint', nargs='+', type=_checkpoint_arg, default=[], metavar='MODEL=FILE',
                        help='load trained weights into the row MODEL (and its deploy row) instead of random ones, '
                        'e.g. faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd=work_dirs/.../best.pth')
    parser.add_argument('--image', type=_readable_file, metavar='FILE',
                        help='feed detectors this image (resized to each size) instead of a random one')
    parser.add_argument('--out', type=_writable_file, metavar='FILE.json', help='write the report (and FILE.csv)')
    parser.add_argument('--plot', type=_writable_file, metavar='FILE.png', help='latency vs MACs of the backbones')
    args = parser.parse_args(argv)

    args.sizes = args.sizes or ([(64, 64)] if args.quick else list(DEFAULT_SIZES))
    args.batch_sizes = list(dict.fromkeys(args.batch_sizes or ([1] if args.quick else DEFAULT_BATCH_SIZES)))
    args.repeats = args.repeats or (2 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    args.threads = args.threads or (1 if args.quick else None)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    elif args.device == 'cuda' and not torch.cuda.is_available():
        parser.error("argument --device: invalid choice 'cuda': torch.cuda.is_available() is False")
    if args.cuda_graph and args.device != 'cuda':
        parser.error(f'argument --cuda-graph: needs --device cuda (device is {args.device!r})')
    for name in ('onnxruntime', 'openvino'):
        if getattr(args, name) and args.device != 'cpu':
            parser.error(f'argument --{name}: runs on the CPU only (device is {args.device!r}); add --device cpu')
    if args.int8 and not (args.onnxruntime or args.openvino):
        parser.error('argument --int8: quantizes the runtime rows: add --onnxruntime and/or --openvino')
    args.specs = _select(parser, args)
    selected = [spec.name for spec in args.specs if not spec.deploy]
    for model, _ in args.checkpoint:
        if model not in selected:
            parser.error(f'argument --checkpoint: {model!r} is not a measured model; measured: {", ".join(selected)}')
    if args.image and 'detector' not in args.parts:
        parser.error(f'argument --image: only detectors are fed an image (parts are {", ".join(args.parts)})')
    return args


def _select(parser: argparse.ArgumentParser, args: argparse.Namespace) -> List[ModelSpec]:
    """The specs of ``--parts`` matching ``--models`` (or the quick set), plus their peers, in table order."""
    candidates = [spec for spec in SPECS if spec.part in args.parts]
    if args.models:
        for pattern in args.models:
            if not any(pattern.lower() in spec.name.lower() for spec in candidates):
                parser.error(f'argument --models: {pattern!r} matches no model of parts {", ".join(args.parts)}; '
                             f'models: {", ".join(spec.name for spec in candidates)}')
        chosen = {s.name for s in candidates if any(p.lower() in s.name.lower() for p in args.models)}
    else:
        chosen = {s.name for s in candidates if not args.quick or s.name in QUICK_MODELS}
    chosen |= {peer for name in chosen for peer in SPECS_BY_NAME[name].peers.values()}
    return [spec for spec in candidates if spec.name in chosen]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = Settings(args.device, args.threads, args.warmup, args.repeats, args.bf16_channels_last,
                        args.keep_freed_memory, dict(args.checkpoint), args.image)
    runtimes = [name for name in ('onnxruntime', 'openvino') if getattr(args, name)]
    variants = [name for name, wanted in (('cuda-graph', args.cuda_graph), ('compile', args.compile)) if wanted]
    variants += runtimes + [f'{runtime}-int8' for runtime in runtimes if args.int8]
    machine = machine_info(settings)
    print(format_header(machine, settings, variants, args.sizes, args.batch_sizes, args.modes,
                        [spec.name for spec in args.specs]), flush=True)
    print(flush=True)

    work = plan(args.specs, args.sizes, args.batch_sizes, args.modes, variants)
    rows = run_all(work, settings, IsolatedRunner() if settings.device == 'cpu' else run_here)
    for row in rows:
        row['device'] = settings.device
    add_ratios(rows)

    for part in PARTS:
        part_rows = [row for row in rows if row['part'] == part]
        if part_rows:
            print(f'\n== {part}s ({settings.device}; t/X = median latency / that of peer X) ==')
            print(format_table(part_rows))

    target_size = TARGET_SIZE if TARGET_SIZE in args.sizes else max(args.sizes, key=lambda s: s[0] * s[1])
    targets = evaluate_targets(rows, size_text(target_size))
    print(f'\n== targets at {size_text(target_size)}, batch 1, eager inference, {settings.device} ==')
    for target in targets:
        print(f"{target['status']:<4}  {target['name']}: {target['detail']}")

    if args.out:
        write_outputs(args.out, dict(machine=machine, settings=dict(asdict(settings), sizes=list(map(
            size_text, args.sizes)), batch_sizes=args.batch_sizes, modes=args.modes, variants=variants), rows=rows,
                                     targets=targets))
        print(f'\nwrote {args.out} and {args.out.with_suffix(".csv")}')
    if args.plot:
        plotted = plot_backbones(rows, args.plot)
        print(f'wrote {args.plot} (backbones at {plotted})' if plotted else 'no backbone rows to plot')
    return 1 if any(row_failures(row) for row in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
