"""The table and plots of docs/accuracy.md, read from the committed result files of the BCCD study.

    python tools/accuracy_report.py [--runs docs/accuracy/runs ...] [--benchmark docs/accuracy/benchmark.json ...]
        [--plot docs/accuracy/map_vs_latency.png] [--curves docs/accuracy/val_curves.png] [--configs TEXT ...]
        [--peers TEXT ...]

Each ``runs/<config>_seed<N>/`` (written by tools/run_accuracy_row.sh) holds ``test_metrics.json`` (CocoMetric
on the test split), ``scalars.json`` (training losses and val mAP per evaluation) and ``run.json`` (wall times);
``--runs`` takes one or more such folders (the study's runs, the recipe probes' ...) and reads them as one.
``--benchmark`` is one or more tools/benchmark.py reports of the same configs: the latency of the whole detector
as built (GhostNetV3: its training form) and, from its '<name> deploy' row, deployed (BatchNorms and V3's branches
folded, as ``tools/test.py --deploy``), whose params and MACs the table shows (a report without deploy rows: those
as built); "(trained weights)" where the benchmark loaded the row's checkpoint with ``--checkpoint``, random ones
otherwise. A two-stage detector's MACs and latency follow the proposals its RPN passes, i.e. its weights: with
random weights they are left out ('-', and not plotted). The plot uses the deployed latency. Seeds of one config
are summarised as mean and (min-max). Reports run with ``--onnxruntime`` add a column (and a second panel of the
plot) with the latency of the end-to-end ONNX export in ONNX Runtime. ``--configs`` keeps the configs whose names
contain one of its texts; the plot draws the Pareto front (the best mAP at each latency) of the ``--peers``.
"""
import argparse
from pathlib import Path
from statistics import mean
from typing import Dict, List, Optional, Tuple

from mmdet_ghostnet.benchmark.study_files import deployed_row, load_benchmark, load_runs, spread

CLASSES = ('RBC', 'WBC', 'Platelets')


def weights_decided(row: dict) -> bool:
    """Whether a benchmark row's MACs and latency say nothing about the trained detector: a two-stage detector's
    follow the proposals its RPN passes, i.e. its weights, and this row had random ones."""
    return bool(row.get('two_stage')) and not row.get('checkpoint')


def cost_cells(built: Optional[dict], deployed: Optional[dict], *others: Optional[dict]) -> List[str]:
    """Params (M) and MACs (G) of the deployed network (else as built), latency (ms) as built and deployed (and
    of the ``others``: ONNX Runtime), from a config's benchmark rows (None: not benchmarked)."""
    shipped = deployed or built
    if shipped is None:
        return ['-'] * (4 + len(others))
    if weights_decided(shipped):
        return [f'{shipped["params"] / 1e6:.2f}'] + ['-'] * (3 + len(others))
    weights = ' (trained weights)' if shipped.get('checkpoint') else ''
    latencies = [spread(row['latency_runs_ms'], 0) + weights if row else '-' for row in (built, deployed, *others)]
    return [f'{shipped["params"] / 1e6:.2f}', f'{shipped["flops_mac"] / 1e9:.2f}', *latencies]


def seed_notes(seed: dict) -> List[str]:
    """What made one seed's training time differ from the study's one thread, default allocator, one start."""
    notes = [f'{seed["threads"]} threads'] if seed.get('threads', '1') != '1' else []
    if seed.get('keep_freed_memory', False):
        notes.append('freed memory kept')
    if seed.get('train_starts', 1) > 1:
        notes.append(f'trained in {seed["train_starts"]} starts')
    return notes


def training_note(seeds: List[dict]) -> str:
    """The seeds' ``seed_notes``: once when all seeds share them, else per seed that has any.

    E.g. ' (2 threads, freed memory kept)', ' (seed 1: trained in 2 starts)'; '' for seeds trained as the study's
    others.
    """
    per_seed = [seed_notes(seed) for seed in seeds]
    if all(notes == per_seed[0] for notes in per_seed):
        return f' ({", ".join(per_seed[0])})' if per_seed[0] else ''
    return ' (' + '; '.join(f'seed {seed["seed"]}: {", ".join(notes)}'
                            for seed, notes in zip(seeds, per_seed) if notes) + ')'


def table(runs: Dict[str, List[dict]], bench: Dict[str, dict], ort: Dict[str, dict]) -> str:
    """One line per config that was trained or benchmarked; accuracy cells stay '-' until a run exists. ``ort``:
    ONNX Runtime rows (a column of their own where there are any): the row as built, whose export is what
    ``tools/export_onnx.py`` writes (it folds the BatchNorms itself)."""
    header = ['config', 'seeds', 'test mAP', 'mAP@0.5'] + [f'AP {c}' for c in CLASSES] + [
        'params (M)', 'MACs (G)', 'latency as built (ms)', 'latency deployed (ms)'] + [
        'latency ONNX Runtime (ms)'] * bool(ort) + ['train (min)']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    names = sorted(set(runs) | {name for name in bench if not name.endswith(' deploy')})
    for name in names:
        seeds = runs.get(name, [])
        test = [s['test'] for s in seeds]
        metrics = ['coco/bbox_mAP', 'coco/bbox_mAP_50'] + [f'coco/{c}_precision' for c in CLASSES]
        cells = [f'`{name}`', str(len(seeds))] + [spread([t[m] for t in test]) if test else '-' for m in metrics]
        cells += cost_cells(bench.get(name), bench.get(f'{name} deploy'), *[ort.get(name)] * bool(ort))
        cells.append(spread([s['train_wall_s'] / 60 for s in seeds], 1) + training_note(seeds) if seeds else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _save(fig, ax, xlabel: str, ylabel: str, path: Path) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def pareto_front(points: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """The (latency, mAP) points that no faster point matches in mAP, fastest first."""
    front = []
    for point in sorted(points):
        if not front or point[1] > front[-1][1]:
            front.append(point)
    return front


def plot_map_against_latency(ax, runs: Dict[str, List[dict]], bench: Dict[str, dict], peers: List[str],
                             deployed: bool) -> None:
    """Test mAP (mean, min-max over seeds) against each config's latency (its deployed row if ``deployed`` and
    measured, else as built) on ``ax``, with the Pareto front of the configs named by ``peers``."""
    front = []
    for name, seeds in runs.items():
        row = deployed_row(bench, name) if deployed else bench.get(name)
        if row is not None and not weights_decided(row):
            maps = [s['test']['coco/bbox_mAP'] for s in seeds]
            ax.errorbar(mean(row['latency_runs_ms']), mean(maps),
                        yerr=[[mean(maps) - min(maps)], [max(maps) - mean(maps)]],
                        marker='o' if name.startswith('retinanet') else 's', capsize=3, label=name)
            if matches(name, peers):
                front.append((mean(row['latency_runs_ms']), mean(maps)))
    if front:
        steps = pareto_front(front)
        ax.step(*zip(*steps), where='post', color='grey', linestyle='--', linewidth=1,
                label='Pareto front of the peers')


def plot(runs: Dict[str, List[dict]], bench: Dict[str, dict], ort: Dict[str, dict], peers: List[str],
         map_path: Optional[Path], curves_path: Optional[Path]) -> None:
    """Test mAP against latency (PyTorch, deployed where measured; ONNX Runtime in a second panel where measured);
    val mAP per epoch for every run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    distinct = plt.get_cmap('tab20').colors  # the default cycle has 10 colours: more rows than that would share one
    if map_path is not None and bench:
        panels = [(bench, True, 'CPU latency of the whole detector, deployed where measured, batch 1 (ms)')]
        if ort:
            panels.append((ort, False, 'the same, exported end to end, in ONNX Runtime (ms)'))
        fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
        for ax, (rows, deployed, xlabel) in zip(axes[0], panels):
            ax.set_prop_cycle(color=distinct)
            plot_map_against_latency(ax, runs, rows, peers, deployed)
            _save(fig, ax, xlabel, 'BCCD test bbox mAP (COCO 0.5:0.95)', map_path)
    if curves_path is not None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.set_prop_cycle(color=distinct)
        for name, seeds in runs.items():
            for s in seeds:
                steps, values = zip(*s['val_curve'])
                ax.plot(steps, values, marker='.', label=f'{name} seed {s["seed"]}')
        _save(fig, ax, 'epoch', 'BCCD val bbox mAP', curves_path)


def matches(name: str, texts: List[str]) -> bool:
    """Whether ``name`` contains one of ``texts`` (case-insensitive)."""
    return any(text.lower() in name.lower() for text in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description='Table and plots of the BCCD accuracy study')
    parser.add_argument('--runs', type=Path, nargs='+', default=[Path('docs/accuracy/runs')],
                        help='folders of run folders (tools/run_accuracy_row.sh RESULTS_ROOT), read as one')
    parser.add_argument('--benchmark', type=Path, nargs='+', default=[],
                        help='tools/benchmark.py JSON reports of the study configs (several runs: latency is shown '
                        'as mean (min-max) of their medians)')
    parser.add_argument('--plot', type=Path, help='write test mAP against latency here (.png)')
    parser.add_argument('--curves', type=Path, help='write the val mAP learning curves here (.png)')
    parser.add_argument('--configs', nargs='+', metavar='TEXT',
                        help='only configs whose name contains one of these (case-insensitive; default: all)')
    parser.add_argument('--peers', nargs='+', metavar='TEXT', default=[],
                        help='draw the Pareto front of the configs whose name contains one of these')
    args = parser.parse_args()
    for folder in args.runs:
        if not folder.is_dir():
            parser.error(f'--runs={str(folder)!r} is not a folder')
    runs = load_runs(args.runs)
    if not runs:
        parser.error(f'--runs={[str(folder) for folder in args.runs]} holds no finished run (no */test_metrics.json)')
    if args.configs:
        runs = {name: seeds for name, seeds in runs.items() if matches(name, args.configs)}
        if not runs:
            parser.error(f'--configs={args.configs}: no finished run of --runs has such a name')
    missing = [str(path) for path in args.benchmark if not path.is_file()]
    if missing:
        parser.error(f'--benchmark: no such file {missing}')
    try:
        bench, ort = (load_benchmark(args.benchmark, variant) for variant in ('eager', 'onnxruntime'))
    except ValueError as error:
        parser.error(f'--benchmark: {error}')
    if args.configs:
        bench, ort = ({name: row for name, row in rows.items() if matches(name, args.configs)} for rows in (bench, ort))
    print(table(runs, bench, ort))
    plot(runs, bench, ort, args.peers, args.plot, args.curves)


if __name__ == '__main__':
    main()
