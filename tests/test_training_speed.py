"""Keeping freed memory, tools/train.py's default: applied before the config is read, refusable, and changing no
loss (tools/benchmark_training.py trains both ways from one seed and compares, on the tiny demo set)."""
import argparse
import json

import pytest

from mmdet_ghostnet.benchmark import training_speed
from mmdet_ghostnet.benchmark.training_speed import format_report
from mmdet_ghostnet.utils import cli
from tool_runs import REPO, RETINANET_DEMO, run, tiny_run_options


@pytest.mark.parametrize('flag, kept', [([], True), (['--no-keep-freed-memory'], False)])
def test_tools_keep_freed_memory_unless_told_not_to(flag, kept, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, 'keep_freed_memory', lambda: calls.append('mallopt'))
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--work-dir')
    cli.add_common_arguments(parser)
    cfg = cli.load_config(parser.parse_args([str(RETINANET_DEMO), *flag]))
    assert calls == (['mallopt'] if kept else []) and cfg.model.type == 'RetinaNet'


def test_benchmark_training_times_both_settings_and_finds_the_same_losses(tiny_data, tmp_path):
    options = [option for option in tiny_run_options(tiny_data, 'model.test_cfg.score_thr')
               if option.split('=')[0] not in ('train_cfg.max_epochs', 'train_cfg.val_interval',
                                               'default_hooks.checkpoint.interval', 'default_hooks.logger.interval')]
    out = tmp_path / 'speed.json'
    result = run(REPO / 'tools' / 'benchmark_training.py', RETINANET_DEMO, '--runs', 1, '--epochs', 1, '--warmup', 1,
                 '--work-dir', tmp_path / 'runs', '--out', out, '--cfg-options', *options)
    report = json.loads(out.read_text())
    assert [run['order'] for run in report['per_run']] == [['kept', 'glibc default']]
    for pair in report['per_run']:
        assert pair['iterations'] == 4 and pair['same_losses'] is True  # 16 images in batches of 4
        assert all(value > 0 for value in pair['s_per_iter'].values())
        assert pair['default_over_kept'] == pytest.approx(pair['s_per_iter']['glibc default']
                                                          / pair['s_per_iter']['kept'])
    assert format_report(report) in result.stdout and 'losses identical in 1 of 1 runs' in result.stdout


def test_runs_alternate_the_order_and_report_the_ratio(monkeypatch, tmp_path):
    """Without training (train_once replaced): the order alternates, s/iter is the median after the warm-up."""
    calls = []

    def fake_train(config, work_dir, allocator_args, *rest):
        calls.append(work_dir.name)
        seconds = 3.0 if allocator_args else 2.0  # glibc default slower
        return [dict(time=100.0, loss=1.0)] + [dict(time=seconds, loss=0.5)] * 4
    monkeypatch.setattr(training_speed, 'train_once', fake_train)
    report = training_speed.compare('c.py', tmp_path, runs=3, epochs=1, warmup=1, threads=1, cpus=None,
                                    cfg_options=[])
    assert calls == ['run0_kept', 'run0_glibc_default', 'run1_glibc_default', 'run1_kept', 'run2_kept',
                     'run2_glibc_default']
    assert all(run['default_over_kept'] == 1.5 and run['same_losses'] for run in report['per_run'])
    assert 'median 1.500 (range 1.500-1.500); losses identical in 3 of 3 runs' in format_report(report)


def test_benchmark_training_refuses_bad_arguments_by_name(tmp_path):
    result = run(REPO / 'tools' / 'benchmark_training.py', 'missing.py', expect_ok=False)
    assert result.returncode == 2 and "config='missing.py' does not exist" in result.stderr
    result = run(REPO / 'tools' / 'benchmark_training.py', RETINANET_DEMO, '--runs', '0', expect_ok=False)
    assert result.returncode == 2 and "'0' is invalid: it must be an int >= 1" in result.stderr
