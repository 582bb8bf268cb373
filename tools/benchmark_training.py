"""Training speed on CPU with glibc keeping freed memory (tools/train.py's default) against glibc's default.

    python tools/benchmark_training.py CONFIG [--runs 3] [--epochs 1] [--warmup 5] [--threads 1] [--cpus 0]
        [--work-dir DIR] [--out REPORT.json] [--cfg-options key=value ...]

Trains CONFIG from its seed twice per run (alternating order, fresh processes, no validation) and prints s/iter
per setting, their ratio and whether the losses were the same; mmdet_ghostnet/benchmark/training_speed.py says how.
Nothing else should run on the machine meanwhile.
"""
import argparse
import json
import tempfile
from pathlib import Path

from mmdet_ghostnet.benchmark.training_speed import compare, format_report


def positive_int(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f'{text!r} is invalid: it must be an int >= {minimum}')
        return value
    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--runs', type=positive_int(1), default=3, help='pairs of trainings (default 3)')
    parser.add_argument('--epochs', type=positive_int(1), default=1, help='epochs per training (default 1)')
    parser.add_argument('--warmup', type=positive_int(0), default=5, help='first iterations not timed (default 5)')
    parser.add_argument('--threads', type=positive_int(1), default=1, help='OMP_NUM_THREADS (default 1)')
    parser.add_argument('--cpus', type=positive_int(0), nargs='+', help='pin the trainings to these CPUs')
    parser.add_argument('--work-dir', type=Path, help='keep the trainings here (default: a temporary folder)')
    parser.add_argument('--out', type=Path, help='write the report as JSON')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    args = parser.parse_args()
    if not Path(args.config).is_file():
        parser.error(f'config={args.config!r} does not exist or is not a file')
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f'--out={str(args.out)!r}: the folder {str(args.out.parent)!r} does not exist')
    with tempfile.TemporaryDirectory() as scratch:
        report = compare(args.config, args.work_dir or Path(scratch), args.runs, args.epochs, args.warmup,
                         args.threads, args.cpus, args.cfg_options)
    print(format_report(report))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2) + '\n')


if __name__ == '__main__':
    main()
