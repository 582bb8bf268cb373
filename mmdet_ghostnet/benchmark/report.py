"""The report of a benchmark run: ratios against peers, the tables, the targets, the machine, JSON / CSV / plot.

Every row is compared (latency, and in the JSON also MACs and params) with the peers of its model (see
``models``) measured in the same run at the same input, batch, mode and variant; rows of other variants than
eager also report their gain over eager (``x eager``). The targets are PASS / FAIL per goal from the measured
numbers at one size, batch 1, eager inference; a FAIL is a finding, not an error.
"""
from __future__ import annotations

import csv
import datetime
import json
import os
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .measure import Settings
from .models import DETECTOR_CONFIGS, LATER_VERSIONS, MNV2, MNV2_BODY, NECK_SETTINGS, SPECS_BY_NAME, TIMM_TRUNK
from .runs import last_line
from .workloads import Size, size_text

TARGET_SIZE: Size = (800, 1333)


def _key(row: Mapping[str, Any]) -> Tuple:
    return row['model'], row['size'], row['batch'], row['mode'], row['variant']


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return numerator / denominator if numerator is not None and denominator else None


def add_ratios(rows: List[Dict[str, Any]]) -> None:
    """Per row: ``ratios[label]`` against each peer at the same size/batch/mode/variant; ``gain_vs_eager``."""
    index = {_key(row): row for row in rows}
    for row in rows:
        row['ratios'] = {}
        for label, peer in SPECS_BY_NAME[row['model']].peers.items():
            other = index.get((peer, ) + _key(row)[1:], {})
            row['ratios'][label] = dict(
                peer=peer, **{metric: _ratio(row.get(field_), other.get(field_))
                              for metric, field_ in (('latency', 'latency_median_ms'), ('flops_mac', 'flops_mac'),
                                                     ('params', 'params'))})
        if row['variant'] != 'eager':
            eager = index.get(_key(row)[:4] + ('eager', ), {})
            row['gain_vs_eager'] = _ratio(eager.get('latency_median_ms'), row.get('latency_median_ms'))


def _fmt(value: Optional[float], spec: str, scale: float = 1.0) -> str:
    return '-' if value is None else format(value / scale, spec)


# Table columns: header and how a row shows in it.
COLUMNS: Tuple[Tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ('model', lambda r: r['model']),
    ('input', lambda r: r['input']),
    ('bs', lambda r: str(r['batch'])),
    ('mode', lambda r: r['mode'] if r['variant'] == 'eager' else f"{r['mode']}+{r['variant']}"),
    ('params M', lambda r: _fmt(r.get('params'), '.2f', 1e6)),
    ('GMAC', lambda r: _fmt(r.get('flops_mac'), '.3f', 1e9)),
    ('GFLOP all', lambda r: _fmt(r.get('flops_all'), '.3f', 1e9)),
    ('bb+neck GMAC', lambda r: _fmt(r.get('flops_mac_backbone_neck'), '.3f', 1e9)),
    ('median ms', lambda r: _fmt(r.get('latency_median_ms'), '.2f')),
    ('p25-p75 ms', lambda r: '-' if 'error' in r else f"{r['latency_p25_ms']:.2f}-{r['latency_p75_ms']:.2f}"),
    ('img/s', lambda r: _fmt(r.get('throughput_img_s'), '.1f')),
    ('peak MiB', lambda r: _fmt(r.get('peak_mem_mb'), '.0f')),
    ('faults/run', lambda r: _fmt(r.get('minor_faults_per_run'), '.0f')),
    ('x eager', lambda r: _fmt(r.get('gain_vs_eager'), '.2f')),
)


def _latency_ratio_column(label: str) -> Tuple[str, Callable[[Mapping[str, Any]], str]]:
    return f't/{label}', lambda r: _fmt(r['ratios'].get(label, {}).get('latency'), '.2f')


def row_failures(row: Mapping[str, Any]) -> List[str]:
    """The last line of each error of ``row`` (its cost's and its timed run's)."""
    return [last_line(row[key]) for key in ('cost_error', 'error') if key in row]


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Aligned table of ``rows`` with a latency ratio column per peer label; columns empty for all rows dropped."""
    labels = dict.fromkeys(label for row in rows for label in row['ratios'])
    columns = list(COLUMNS) + [_latency_ratio_column(label) for label in labels]
    cells = [[show(row) for _, show in columns] for row in rows]
    keep = [i for i in range(len(columns)) if any(line[i] != '-' for line in cells)]
    table = [[columns[i][0] for i in keep]] + [[line[i] for i in keep] for line in cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(keep))]
    text = ['  '.join([line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])])
            for line in table]
    text.insert(1, '-' * len(text[0]))
    failures = dict.fromkeys(f"  FAILED {row['model']} {row['size']} b{row['batch']} {row['mode']}: {failure}"
                             for row in rows for failure in row_failures(row))
    return '\n'.join(text + list(failures))


@dataclass(frozen=True)
class Target:
    """``metric(numerator) / metric(denominator)`` must be ``<=`` or ``>=`` ``limit``."""

    name: str
    numerator: str
    denominator: str
    metric: str  # 'latency_median_ms' (batch 1, eager inference) or a cost field
    op: str
    limit: float
    also: Optional[Tuple[str, str]] = None  # (metric, label) of a second ratio reported alongside


TARGETS = (
    *(target for ours, timm in {'GhostNet 1.0x': TIMM_TRUNK, **LATER_VERSIONS}.items() for target in (
        Target(f'{ours} eager latency / {timm}', ours, timm, 'latency_median_ms', '<=', 1.0),
        Target(f'{ours} deploy speed-up over {timm}', timm, f'{ours} deploy', 'latency_median_ms', '>=', 1.25))),
    *(Target(f'{det}: GhostNet 1.1x+GhostFPN / MobileNetV2+FPN backbone+neck MACs',
             f'{det} GhostNet 1.1x + GhostFPN', f'{det} {MNV2_BODY}', 'flops_mac_backbone_neck', '<=', 0.5,
             also=('flops_mac', 'whole detector MACs')) for det in DETECTOR_CONFIGS),
    *(Target(f'GhostFPN / FPN MACs ({setting})', f'GhostFPN ({setting})', f'FPN ({setting})', 'flops_mac', '<=', 0.25)
      for setting in NECK_SETTINGS),
    *(Target(f'GhostNet {w}x / MobileNetV2 latency', f'GhostNet {w}x', MNV2, 'latency_median_ms', '<=', 1.0)
      for w in (1.0, 1.1)),
)
METRIC_UNITS = {'latency_median_ms': (1.0, 'ms'), 'flops_mac': (1e9, 'GMAC'), 'flops_mac_backbone_neck': (1e9, 'GMAC')}


def evaluate_targets(rows: Sequence[Mapping[str, Any]], size: str) -> List[Dict[str, Any]]:
    """PASS / FAIL / SKIP of every target at ``size``, batch 1, eager inference."""
    index = {_key(row): row for row in rows}
    results = []
    for target in TARGETS:
        pair = [index.get((model, size, 1, 'inference', 'eager'), {}) for model in (target.numerator,
                                                                                    target.denominator)]
        value = _ratio(pair[0].get(target.metric), pair[1].get(target.metric))
        result = dict(asdict(target), size=size, value=value, status='SKIP', detail='not measured in this run')
        if value is not None:
            passed = value <= target.limit if target.op == '<=' else value >= target.limit
            scale, unit = METRIC_UNITS[target.metric]
            result['status'] = 'PASS' if passed else 'FAIL'
            result['detail'] = (f'{value:.3f} (needed {target.op} {target.limit}) = '
                                f'{pair[0][target.metric] / scale:.3f} / {pair[1][target.metric] / scale:.3f} {unit}')
            if target.also:
                metric, label = target.also
                result['also_value'] = _ratio(pair[0].get(metric), pair[1].get(metric))
                result['detail'] += f"; {label}: {_fmt(result['also_value'], '.3f')}"
        results.append(result)
    return results


# the instruction sets that decide which kernels torch, oneDNN and ONNX Runtime pick (int8's gain too)
ISA_FLAGS = {'avx2': 'AVX2', 'avx512f': 'AVX-512', 'avx512_vnni': 'AVX-512 VNNI', 'avx_vnni': 'AVX-VNNI',
             'amx_tile': 'AMX'}


def cpu_description() -> Dict[str, Any]:
    """The CPU's model name, family/model numbers and instruction sets of ``ISA_FLAGS``, from /proc/cpuinfo."""
    fields = {}
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(':')
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = fields.get('flags', '').split()
    return dict(cpu=fields.get('model name') or platform.processor() or 'unknown CPU',
                cpu_family=fields.get('cpu family'), cpu_model=fields.get('model'),
                isa=[name for flag, name in ISA_FLAGS.items() if flag in flags])


def machine_info(settings: Settings) -> Dict[str, Any]:
    """CPU, cores, library versions, device, threads and the date, for the header and the JSON."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    info = dict(**cpu_description(), logical_cores=os.cpu_count(), usable_cores=usable,
                python=platform.python_version(), torch=torch.__version__,
                **{name: metadata.version(name) for name in ('mmcv', 'mmengine', 'mmdet', 'timm')},
                device=settings.device, threads=torch.get_num_threads(), load_average_1min=os.getloadavg()[0],
                date=datetime.datetime.now().isoformat(timespec='seconds'))
    if settings.device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info


def write_outputs(path: Path, report: Dict[str, Any]) -> None:
    """The report as JSON at ``path`` and its rows (without raw samples) as CSV next to it."""
    path.write_text(json.dumps(report, indent=2))
    flat = []
    for row in report['rows']:
        line = {k: v for k, v in row.items() if k not in ('ratios', 'latency_samples_ms')}
        for label, ratio in row['ratios'].items():
            line.update({f'ratio_{label}_{metric}': ratio[metric] for metric in ('latency', 'flops_mac', 'params')})
        flat.append(line)
    with open(path.with_suffix('.csv'), 'w', newline='') as stream:
        writer = csv.DictWriter(stream, fieldnames=list(dict.fromkeys(k for line in flat for k in line)))
        writer.writeheader()
        writer.writerows(flat)


def plot_backbones(rows: Sequence[Mapping[str, Any]], path: Path) -> Optional[str]:
    """Latency against MACs of every backbone (largest size, batch 1, eager inference); returns the size used."""
    points = [r for r in rows if r['part'] == 'backbone' and r['batch'] == 1 and r['mode'] == 'inference'
              and r['variant'] == 'eager' and 'error' not in r and 'flops_mac' in r]
    if not points:
        return None
    largest = max({r['size'] for r in points}, key=lambda s: int(s.split('x')[0]) * int(s.split('x')[1]))
    points = [r for r in points if r['size'] == largest]
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt
    figure, axes = plt.subplots(figsize=(9, 5.5))
    markers = 'osD^vP*Xhp<>'
    for number, row in enumerate(points):
        axes.scatter(row['flops_mac'] / 1e9, row['latency_median_ms'], s=60, marker=markers[number % len(markers)],
                     color=plt.get_cmap('tab10')(number % 10), label=row['model'])
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xlabel('GMAC (conv + linear multiply-adds, batch 1, log scale)')
    axes.set_ylabel('median latency, ms (log scale)')
    axes.set_title(f"Backbones at {largest}, batch 1 eager inference, {points[0]['device']}")
    axes.grid(alpha=0.3, which='both')
    axes.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.02, 0.5))  # names without overlapping labels
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return largest


def _weights_text(settings: Settings) -> str:
    trained = ', '.join(f'{model} <- {path}' for model, path in settings.checkpoints.items())
    return f'random init, except trained: {trained}' if trained else 'random init'


def format_header(machine: Mapping[str, Any], settings: Settings, variants: Sequence[str], sizes: Sequence[Size],
                  batch_sizes: Sequence[int], modes: Sequence[str], models: Sequence[str]) -> str:
    """What was run where: machine, software, settings and models; warns when the cores are already busy."""
    isolated = settings.device == 'cpu'
    header = (
        f"mmdet-ghostnet benchmark, {machine['date']}\n"
        f"machine: {machine['cpu']} (family {machine.get('cpu_family')}, model {machine.get('cpu_model')}; "
        f"{', '.join(machine.get('isa', [])) or 'no AVX2'}), "
        f"{machine['logical_cores']} logical cores ({machine['usable_cores']} usable)"
        f"{', GPU ' + machine['gpu'] if 'gpu' in machine else ''}\n"
        f"software: python {machine['python']}, torch {machine['torch']}, mmcv {machine['mmcv']}, "
        f"mmengine {machine['mmengine']}, mmdet {machine['mmdet']}, timm {machine['timm']}\n"
        f"device: {settings.device}, threads: {machine['threads']}, "
        f"{'bf16 autocast + channels-last' if settings.bf16_channels_last else 'fp32'}, "
        f"variants: {', '.join(['eager'] + list(variants))}\n"
        f"runs: warmup {settings.warmup}, repeats {settings.repeats}; memory: "
        f"{'one fresh process per measurement, peak RSS' if isolated else 'CUDA allocator peak'} "
        f"above the post-build baseline; malloc: "
        f"{'freed memory kept (--keep-freed-memory)' if settings.keep_freed_memory else 'glibc default'}\n"
        f"sizes: {' '.join(map(size_text, sizes))}; batch sizes: {' '.join(map(str, batch_sizes))}; "
        f"modes: {' '.join(modes)}\n"
        f"models: {', '.join(models)}\n"
        f"weights: {_weights_text(settings)}; detector input: {settings.image or 'random'}")
    if machine['threads'] > 1 and machine['load_average_1min'] > 0.5 * machine['usable_cores']:
        header += (
            f"\nWARNING: load average {machine['load_average_1min']:.1f} on {machine['usable_cores']} cores before "
            f"starting: other processes compete for the cores, and OpenMP threads that spin-wait for a descheduled "
            f"sibling can make small ops orders of magnitude slower (use --threads 1, or OMP_WAIT_POLICY=PASSIVE)")
    return header
