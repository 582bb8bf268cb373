"""Smoke test of tools/benchmark.py: the quick preset end to end, and bad arguments (no timing targets asserted)."""
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
BENCHMARK = REPO / 'tools' / 'benchmark.py'
QUICK_MODELS = {
    'backbone': ['GhostNet 1.0x', 'GhostNet 1.0x deploy', 'timm ghostnet_100 (blocks 0-8)', 'mmdet MobileNetV2 1.0x'],
    'neck': ['GhostFPN (RetinaNet)', 'FPN (RetinaNet)'],
    'detector': ['RetinaNet GhostNet 1.1x + GhostFPN', 'RetinaNet MobileNetV2 + FPN'],
}
PEER_LABELS = {'backbone': {'timm', 'MNv2'}, 'neck': {'FPN'}, 'detector': {'MNv2 det'}}


def run_benchmark(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(BENCHMARK), *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    """One ``--quick`` run: its process result, JSON report and plot path."""
    folder = tmp_path_factory.mktemp('benchmark')
    result = run_benchmark('--quick', '--out', folder / 'tmp.json', '--plot', folder / 'tmp.png')
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result, json.loads((folder / 'tmp.json').read_text()), folder


def test_quick_run_measures_every_expected_model(quick):
    _, report, _ = quick
    rows = report['rows']
    for part, names in QUICK_MODELS.items():
        assert {row['model'] for row in rows if row['part'] == part} == set(names)
    for row in rows:
        assert 'error' not in row
        assert row['params'] > 0 and row['flops_mac'] > 0 and row['flops_all'] >= row['flops_mac']
        assert row['latency_median_ms'] > 0 and row['throughput_img_s'] > 0 and row['peak_mem_mb'] >= 0
        assert row['latency_p25_ms'] <= row['latency_median_ms'] <= row['latency_p75_ms']
        assert len(row['latency_samples_ms']) == report['settings']['repeats']
    modes = {(row['model'], row['mode']) for row in rows}
    assert ('GhostNet 1.0x', 'train') in modes and ('GhostNet 1.0x deploy', 'train') not in modes
    assert all(row['flops_mac_backbone_neck'] > 0 for row in rows if row['part'] == 'detector')


RATIO_FIELDS = {'latency': 'latency_median_ms', 'flops_mac': 'flops_mac', 'params': 'params'}


def test_quick_run_reports_ratios_against_peers_measured_in_the_same_run(quick):
    """Each ratio is the row's value over its peer row's (same size, batch, mode and variant) in the report."""
    _, report, _ = quick
    rows = {(row['model'], row['size'], row['batch'], row['mode'], row['variant']): row for row in report['rows']}
    checked = set()
    for (model, *setting), row in rows.items():
        assert set(row['ratios']) == PEER_LABELS[row['part']]
        for label, ratio in row['ratios'].items():
            peer = rows[(ratio['peer'], *setting)]
            assert peer['part'] == row['part']
            for metric, field in RATIO_FIELDS.items():
                assert ratio[metric] == pytest.approx(row[field] / peer[field], rel=1e-9), (model, label, metric)
            checked.add((row['part'], label))
    assert checked == {(part, label) for part, labels in PEER_LABELS.items() for label in labels}


def test_ghost_fpn_costs_less_than_fpn_in_the_report(quick):
    _, report, _ = quick
    flops = {row['model']: row['flops_mac'] for row in report['rows'] if row['part'] == 'neck'}
    assert flops['GhostFPN (RetinaNet)'] < flops['FPN (RetinaNet)']


def test_quick_run_prints_tables_targets_and_writes_csv_and_png(quick):
    result, report, folder = quick
    for text in ('machine:', '== backbones', '== necks', '== detectors', '== targets', 'GhostFPN / FPN MACs'):
        assert text in result.stdout
    assert {target['status'] for target in report['targets']} <= {'PASS', 'FAIL', 'SKIP'}
    assert (folder / 'tmp.csv').read_text().startswith('part,model,')
    assert (folder / 'tmp.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


@pytest.fixture(scope='module')
def benchmark_module():
    """tools/benchmark.py as a module, for checking its argument parsing without a subprocess per case."""
    spec = importlib.util.spec_from_file_location('ghostnet_benchmark', BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def test_bad_argument_exits_non_zero_with_a_message_naming_it():
    result = run_benchmark('--sizes', '0x10', timeout=60)
    assert result.returncode == 2
    assert "argument --sizes: invalid size '0x10'" in result.stderr


@pytest.mark.parametrize('args, words', [
    (['--sizes', '800'], ['--sizes', "'800'"]),
    (['--device', 'tpu'], ['--device', "'tpu'"]),
    (['--batch-sizes', '0'], ['--batch-sizes', "'0'"]),
    (['--repeats', 'many'], ['--repeats', "'many'"]),
    (['--models', 'no-such-model'], ['--models', "'no-such-model'"]),
    (['--parts', 'neck', '--models', 'GhostNet 1.0x'], ['--models', "'GhostNet 1.0x'"]),
    (['--out', 'missing-folder/x.json'], ['--out', "'missing-folder/x.json'"]),
    (['--checkpoint', 'no-equals-sign'], ['--checkpoint', "'no-equals-sign'", 'MODEL=FILE']),
    (['--checkpoint', 'RetinaNet demo=missing.pth'], ['--checkpoint', "'missing.pth'", 'no such file']),
    (['--models', 'RetinaNet demo', '--checkpoint', f'GhostNet 1.0x={__file__}'],
     ['--checkpoint', "'GhostNet 1.0x'", 'RetinaNet demo']),
    (['--image', 'missing.jpg'], ['--image', "'missing.jpg'", 'no such file']),
    (['--parts', 'backbone', '--image', __file__], ['--image', 'backbone']),
    (['--int8'], ['argument --int8', '--onnxruntime and/or --openvino']),
    (['--openvino', '--device', 'cuda'], ['--device']),
])
def test_bad_arguments_are_rejected_before_any_work(benchmark_module, args, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_module.parse_args(args)
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    for word in words:
        assert word in message


def test_quick_run_reports_page_faults_per_run(quick):
    _, report, _ = quick
    assert all(row['minor_faults_per_run'] >= 0 for row in report['rows'] if row['variant'] == 'eager')


# _time_runs on a step that allocates, fills and frees a 64 MiB tensor, and on one that allocates nothing.
FAULTS_PER_RUN = '''
import torch
from mmdet_ghostnet.benchmark.measure import _time_runs
cpu = torch.device('cpu')
print(_time_runs(lambda: torch.ones(16 * 2**20).sum(), 1, 4, cpu)[1], _time_runs(lambda: None, 1, 4, cpu)[1])
'''


def test_faults_per_run_counts_the_pages_one_timed_run_faults_in():
    result = subprocess.run([sys.executable, '-c', FAULTS_PER_RUN], capture_output=True, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    churning, idle = map(float, result.stdout.split())
    pages = 64 * 2**20 / os.sysconf('SC_PAGE_SIZE')
    assert 0.9 * pages < churning < 1.5 * pages  # per run, not summed over the four
    assert idle < 0.01 * pages


# Allocates and frees a 64 MiB tensor (above glibc's largest mmap threshold, 32 MiB, so glibc unmaps it when it
# is freed) five times, before and after keep_freed_memory; prints the minor page faults per allocation.
CHURN = '''
import resource, torch
from mmdet_ghostnet.utils.allocator import keep_freed_memory
def churn():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        torch.ones(16 * 2**20).sum()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
default = churn()
keep_freed_memory()
churn()  # the heap grows once
print(default, churn())
'''


def test_keep_freed_memory_stops_faulting_in_reused_memory():
    result = subprocess.run([sys.executable, '-c', CHURN], capture_output=True, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    default, kept = map(float, result.stdout.split())
    pages = 64 * 2**20 / os.sysconf('SC_PAGE_SIZE')
    assert default > 0.9 * pages  # glibc's default: every allocation faults its pages in again
    assert kept < 0.01 * pages


def test_interleaved_times_runs_each_step_once_a_round_and_times_only_the_rounds_after_the_warmup():
    from mmdet_ghostnet.benchmark.measure import interleaved_times
    calls = []
    steps = {'fast': lambda: calls.append('fast'), 'slow': lambda: (calls.append('slow'), time.sleep(0.02))}
    times = interleaved_times(steps, rounds=3, warmup=2)
    assert calls == ['fast', 'slow'] * 5  # round-robin, warm-up rounds included
    assert {name: len(values) for name, values in times.items()} == {'fast': 3, 'slow': 3}
    assert min(times['slow']) >= 20 > max(times['fast'])  # milliseconds
