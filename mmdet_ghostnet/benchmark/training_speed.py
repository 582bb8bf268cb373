"""Training speed with and without keeping freed memory (``tools/benchmark_training.py``).

Each run trains a config for a few epochs twice from the same seed, once as ``tools/train.py`` does by default
(glibc keeps freed memory) and once with ``--no-keep-freed-memory`` (glibc's default), one after the other in
alternating order, each in a fresh process with the same threads and CPUs and no validation. Per training it
reads the per-iteration ``time`` and ``loss`` that mmengine logs (window 1), drops the first ``warmup``
iterations (oneDNN creates its kernels for each new input shape there) and reports the median s/iter; per run,
the ratio of the two medians and whether the two trainings logged the same losses, iteration by iteration.
"""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {'kept': [], 'glibc default': ['--no-keep-freed-memory']}


def train_once(config: str, work_dir: Path, allocator_args: Sequence[str], epochs: int, threads: int,
               cpus: Optional[Sequence[int]], cfg_options: Sequence[str]) -> List[Dict[str, float]]:
    """Train ``config`` for ``epochs`` without validation; the per-iteration records of its ``scalars.json``."""
    options = [f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=1000000', 'log_processor.window_size=1',
               'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1000000',
               'default_hooks.checkpoint.save_last=False', *cfg_options]
    env = {key: value for key, value in os.environ.items() if not key.startswith('MALLOC_')}
    env.update(OMP_NUM_THREADS=str(threads), PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), config, '--work-dir', str(work_dir), *allocator_args,
         '--cfg-options', *options],
        env=env, cwd=REPO, capture_output=True, text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    if result.returncode != 0:
        raise RuntimeError(f'training {config} failed:\n{result.stderr[-3000:]}')
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [record for record in records if 'loss' in record and 'time' in record]


def compare(config: str, work_root: Path, runs: int, epochs: int, warmup: int, threads: int,
            cpus: Optional[Sequence[int]], cfg_options: Sequence[str]) -> dict:
    """``runs`` pairs of trainings (see the module doc); the report as a JSON-ready dict."""
    per_run = []
    for run in range(runs):
        order = list(SETTINGS) if run % 2 == 0 else list(SETTINGS)[::-1]
        records = {setting: train_once(config, work_root / f'run{run}_{setting.replace(" ", "_")}',
                                       SETTINGS[setting], epochs, threads, cpus, cfg_options)
                   for setting in order}
        if len(records['kept']) <= warmup:
            raise ValueError(f'--warmup={warmup} leaves no iteration of the {len(records["kept"])} trained')
        medians = {setting: statistics.median(r['time'] for r in rows[warmup:]) for setting, rows in records.items()}
        per_run.append(dict(
            order=order, s_per_iter=medians, iterations=len(records['kept']),
            default_over_kept=medians['glibc default'] / medians['kept'],
            same_losses=[r['loss'] for r in records['kept']] == [r['loss'] for r in records['glibc default']]))
    return dict(config=config, runs=runs, epochs=epochs, warmup=warmup, threads=threads, cpus=list(cpus or []),
                cfg_options=list(cfg_options), per_run=per_run)


def format_report(report: dict) -> str:
    """The per-run table and the summary (median and range over runs)."""
    lines = [f"{report['config']}: {report['epochs']} epoch(s) x {report['runs']} runs, {report['threads']} "
             f"thread(s), CPUs {report['cpus'] or 'any'}, first {report['warmup']} iterations dropped",
             f"{'run':>3}  {'kept s/iter':>11}  {'default s/iter':>14}  {'default/kept':>12}  same losses"]
    for index, run in enumerate(report['per_run']):
        lines.append(f"{index:>3}  {run['s_per_iter']['kept']:>11.3f}  {run['s_per_iter']['glibc default']:>14.3f}"
                     f"  {run['default_over_kept']:>12.3f}  {'yes' if run['same_losses'] else 'NO'}")
    ratios = [run['default_over_kept'] for run in report['per_run']]
    lines.append(f'glibc default / kept: median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-'
                 f'{max(ratios):.3f}); losses identical in {sum(r["same_losses"] for r in report["per_run"])} of '
                 f'{len(ratios)} runs')
    return '\n'.join(lines)
