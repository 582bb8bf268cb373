"""The deploy table of docs/deploy.md: each detector deployed in PyTorch and in every runtime x precision, with its
BCCD test mAP, batch-1 latency and batch-8 throughput at each thread count, from tools/benchmark.py reports.

    python tools/deploy_report.py --benchmark docs/deploy/runtimes/MACHINE/*.json --accuracy docs/deploy/accuracy

``--benchmark``: reports run with ``--onnxruntime --openvino --int8`` at batch sizes 1 and 8, one or more per
thread count (several runs: mean and min-max), all of one CPU. ``--accuracy``: a folder with
``<model>/test_<variant>.log`` of ``tools/test.py`` (``deployed``: the checkpoint with ``--deploy``; ``float32_<runtime>`` and ``int8_<runtime>``: its
two exports), whose ``metrics:`` line gives the mAP.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from mmdet_ghostnet.benchmark.study_files import spread

# table row -> (benchmark variant, row name suffix, tools/test.py log)
VARIANTS = {
    'PyTorch, deployed': ('eager', ' deploy', 'deployed'),
    'ONNX Runtime, float32': ('onnxruntime', '', 'float32_onnxruntime'),
    'OpenVINO, float32': ('openvino', '', 'float32_openvino'),
    'ONNX Runtime, int8': ('onnxruntime-int8', '', 'int8_onnxruntime'),
    'OpenVINO, int8': ('openvino-int8', '', 'int8_openvino'),
}
Key = Tuple[str, str, int, int]  # model row, variant, threads, batch


def latencies(paths: List[Path]) -> Tuple[Dict[Key, List[float]], List[int], List[dict]]:
    """Median latency (ms) per (model row, variant, threads, batch) in each report, the thread counts, machines."""
    found: Dict[Key, List[float]] = defaultdict(list)
    threads, machines = set(), []
    for path in paths:
        report = json.loads(path.read_text())
        machines.append(report['machine'])
        threads.add(report['machine']['threads'])
        for row in report['rows']:
            if 'error' not in row and row['mode'] == 'inference':
                found[row['model'], row['variant'], report['machine']['threads'], row['batch']].append(
                    row['latency_median_ms'])
    return found, sorted(threads), machines


def test_map(folder: Optional[Path], model: str, log: str) -> str:
    """The bbox mAP of ``folder/model/test_<log>.log``'s ``metrics:`` line ('-' without one)."""
    path = folder / model / f'test_{log}.log' if folder else None
    if path is None or not path.is_file():
        return '-'
    line = next((line for line in path.read_text().splitlines() if line.startswith('metrics:')), None)
    if line is None:
        return '-'
    value = line.split("'coco/bbox_mAP': ")[1].split(',')[0]
    return f'{float(value):.3f}'


def cell(values: List[float], digits: int = 0) -> str:
    """``mean (min-max)``; '-' when not measured."""
    return spread(values, digits) if values else '-'


def table(found: Dict[Key, List[float]], threads: List[int], models: List[str], accuracy: Optional[Path]) -> str:
    header = (['model', 'runtime, precision', 'test mAP'] + [f'b1 ms, {t} thr' for t in threads]
              + [f'b8 img/s, {t} thr' for t in threads])
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for model in models:
        for label, (variant, suffix, log) in VARIANTS.items():
            latency = [cell(found.get((model + suffix, variant, t, 1), [])) for t in threads]
            throughput = [cell([8000 / ms for ms in found.get((model + suffix, variant, t, 8), [])], 1) for t in threads]
            lines.append('| ' + ' | '.join([f'`{model}`', label, test_map(accuracy, model, log), *latency,
                                            *throughput]) + ' |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--benchmark', nargs='+', type=Path, required=True, help='tools/benchmark.py JSON reports')
    parser.add_argument('--accuracy', type=Path, help='folder of <model>/test_<variant>.log')
    args = parser.parse_args()
    for path in args.benchmark:
        if not path.is_file():
            parser.error(f'--benchmark={str(path)!r} is not a file')
    if args.accuracy is not None and not args.accuracy.is_dir():
        parser.error(f'--accuracy={str(args.accuracy)!r} is not a folder')
    found, threads, machines = latencies(args.benchmark)
    cpus = {(machine['cpu'], machine.get('cpu_family'), machine.get('cpu_model')) for machine in machines}
    if len(cpus) > 1:
        parser.error(f'--benchmark reports come from {len(cpus)} CPUs ({", ".join(sorted(cpu[0] for cpu in cpus))}): '
                     'a table is of one machine')
    models = list(dict.fromkeys(model for model, variant, _, _ in found if variant != 'eager'))
    print(table(found, threads, models, args.accuracy))
    cpu = machines[0]
    print(f"\n{len(args.benchmark)} reports, {cpu['cpu']} (family {cpu.get('cpu_family')}, model "
          f"{cpu.get('cpu_model')}; {', '.join(cpu.get('isa', []))}), {cpu['date'][:10]}")


if __name__ == '__main__':
    main()
