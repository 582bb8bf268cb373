"""The committed result files of the BCCD studies, read back: run folders and benchmark reports.

A run folder (``tools/run_accuracy_row.sh``) holds ``run.json`` (config, seed, wall times), ``test_metrics.json``
(CocoMetric on the test split), ``float16_test_metrics.json`` (the same for its published float16 weights) and
``scalars.json`` (losses and val mAP per evaluation). A benchmark report is ``tools/benchmark.py --out``'s JSON.
"""
import json
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Dict, List, Optional


def load_runs(runs_dirs: List[Path]) -> Dict[str, List[dict]]:
    """``{config name: [one dict per seed]}`` with test metrics, val curve and wall times, from the run folders in
    ``runs_dirs``."""
    runs = defaultdict(list)
    finished = (p for runs_dir in runs_dirs for p in sorted(runs_dir.iterdir()) if (p / 'test_metrics.json').is_file())
    for run_dir in finished:
        info = json.loads((run_dir / 'run.json').read_text())
        records = [json.loads(line) for line in (run_dir / 'scalars.json').read_text().splitlines()]
        runs[Path(info['config']).stem].append(
            dict(info, test=json.loads((run_dir / 'test_metrics.json').read_text()),
                 val_curve=[(r['step'], r['coco/bbox_mAP']) for r in records if 'coco/bbox_mAP' in r]))
    return dict(runs)


def load_benchmark(paths: List[Path], variant: str = 'eager') -> Dict[str, dict]:
    """Benchmark rows of batch-1 inference (PyTorch eager, or another ``variant`` such as 'onnxruntime') by model
    name (the config's stem), from one or more runs of the same benchmark: the first run's row, with
    ``latency_runs_ms``, its median latency in every run that has it.
    Raises ValueError if a model was measured at more than one input size (its rows would be mixed)."""
    rows = {}
    for path in paths:
        for row in json.loads(path.read_text())['rows']:
            if row.get('batch') == 1 and row.get('variant', 'eager') == variant and 'error' not in row:
                first = rows.setdefault(row['model'], dict(row, latency_runs_ms=[]))
                if row.get('size') != first.get('size'):
                    raise ValueError(f'{row["model"]!r} was measured at {first.get("size")} and {row.get("size")} '
                                     f'(in {path}): the table compares one input size, benchmark with one --sizes')
                first['latency_runs_ms'].append(row['latency_median_ms'])
    return rows


def deployed_row(bench: Dict[str, dict], name: str) -> Optional[dict]:
    """The config's deployed benchmark row, else its row as built (None: not benchmarked)."""
    return bench.get(f'{name} deploy', bench.get(name))


def spread(values: List[float], digits: int = 3) -> str:
    """``mean`` for one value, ``mean (min-max)`` for several."""
    text = f'{mean(values):.{digits}f}'
    return text if len(values) == 1 else f'{text} ({min(values):.{digits}f}-{max(values):.{digits}f})'
