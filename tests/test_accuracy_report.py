"""tools/accuracy_report.py on result folders written here: the study's table, plots and errors."""
import importlib.util
import json

import pytest

from tool_runs import REPO, run

REPORT = REPO / 'tools' / 'accuracy_report.py'
CLASSES = ('RBC', 'WBC', 'Platelets')


def write_run(runs_dir, config: str, seed: int, test_map: float, train_s: int, **run_info) -> None:
    """One ``runs/<config>_seed<N>/`` folder as tools/run_accuracy_row.sh writes it."""
    folder = runs_dir / f'{config}_seed{seed}'
    folder.mkdir(parents=True)
    metrics = {'coco/bbox_mAP': test_map, 'coco/bbox_mAP_50': test_map + 0.3}
    metrics.update({f'coco/{c}_precision': test_map + i / 10 for i, c in enumerate(CLASSES)})
    (folder / 'test_metrics.json').write_text(json.dumps(metrics))
    (folder / 'scalars.json').write_text(''.join(
        json.dumps({'coco/bbox_mAP': test_map * epoch / 6, 'step': epoch}) + '\n' for epoch in (3, 6)))
    info = dict(config=f'configs/bccd/{config}.py', seed=seed, train_wall_s=train_s, test_wall_s=10, **run_info)
    (folder / 'run.json').write_text(json.dumps(info))


@pytest.fixture
def study(tmp_path):
    runs = tmp_path / 'runs'
    write_run(runs, 'retinanet_a', 0, 0.50, 3600)  # run.json of the first rows: no threads / allocator / starts
    write_run(runs, 'retinanet_a', 1, 0.56, 4200, threads='1', keep_freed_memory=False, train_starts=1)
    write_run(runs, 'retinanet_v3', 0, 0.40, 9000, train_starts=2)
    write_run(runs, 'retinanet_mixed', 0, 0.50, 3000, threads='1', keep_freed_memory=False, train_starts=1)
    write_run(runs, 'retinanet_mixed', 1, 0.50, 6000, threads='1', keep_freed_memory=True, train_starts=2)
    write_run(runs, 'retinanet_v3_fast', 0, 0.40, 4500, threads='2', keep_freed_memory=True, train_starts=1)
    write_run(runs, 'faster-rcnn_trained', 0, 0.60, 9000)
    row = dict(batch=1, params=2.5e6, flops_mac=1.5e9, latency_median_ms=80.4)
    bench = [dict(row, model='retinanet_a'), dict(row, model='retinanet_a', batch=8, latency_median_ms=999),
             dict(row, model='retinanet_a deploy', params=2.4e6, latency_median_ms=70.2),
             dict(row, model='retinanet_v3', params=4e6, flops_mac=2.5e9, latency_median_ms=120),
             dict(row, model='retinanet_v3 deploy', latency_median_ms=90, checkpoint='v3/best.pth'),
             dict(row, model='retinanet_untrained', flops_mac=3e9),
             dict(row, model='faster-rcnn_trained', two_stage=True, checkpoint='frcnn/best.pth', latency_median_ms=300),
             dict(row, model='faster-rcnn_untrained', two_stage=True)]
    (tmp_path / 'bench.json').write_text(json.dumps({'rows': bench}))
    return tmp_path


def test_table_summarises_seeds_folds_v3_and_marks_untrained_rows_how_each_trained_and_weights(study):
    out = run(REPORT, '--runs', study / 'runs', '--benchmark', study / 'bench.json', '--plot', study / 'map.png',
              '--curves', study / 'curves.png').stdout
    rows = {line.split(' | ')[0].strip('| `'): line.strip('| ').split(' | ') for line in out.splitlines()[2:]}
    assert rows['retinanet_a'][1:5] == ['2', '0.530 (0.500-0.560)', '0.830 (0.800-0.860)', '0.530 (0.500-0.560)']
    # params and MACs of the deployed network; latency as built and deployed
    assert rows['retinanet_a'][-5:] == ['2.40', '1.50', '80', '70', '65.0 (60.0-70.0)']
    assert rows['retinanet_v3'][-5:] == ['2.50', '1.50', '120 (trained weights)', '90 (trained weights)',
                                      '150.0 (trained in 2 starts)']
    assert rows['retinanet_v3_fast'][-1] == '75.0 (2 threads, freed memory kept)'
    assert rows['retinanet_mixed'][-1] == '75.0 (50.0-100.0) (seed 1: freed memory kept, trained in 2 starts)'
    assert rows['retinanet_untrained'][1:3] == ['0', '-']
    assert rows['retinanet_untrained'][-4:] == ['3.00', '80', '-', '-']
    # a two-stage detector's MACs and latency follow its weights: shown only when measured with the trained ones
    assert rows['faster-rcnn_trained'][-4:] == ['1.50', '300 (trained weights)', '-', '150.0']
    assert rows['faster-rcnn_untrained'][-5:] == ['2.50', '-', '-', '-', '-']
    assert (study / 'map.png').stat().st_size > 1000 and (study / 'curves.png').stat().st_size > 1000


def test_several_benchmark_runs_give_the_mean_and_range_of_their_latencies(study):
    report = json.loads((study / 'bench.json').read_text())
    for row in report['rows']:
        row['latency_median_ms'] += 10
    (study / 'bench2.json').write_text(json.dumps(report))
    out = run(REPORT, '--runs', study / 'runs', '--benchmark', study / 'bench.json', study / 'bench2.json').stdout
    rows = {line.split(' | ')[0].strip('| `'): line.strip('| ').split(' | ') for line in out.splitlines()[2:]}
    assert rows['retinanet_a'][-3:-1] == ['85 (80-90)', '75 (70-80)']
    assert rows['retinanet_v3'][-2] == '95 (90-100) (trained weights)'


def test_missing_benchmark_file_is_named(study):
    result = run(REPORT, '--runs', study / 'runs', '--benchmark', study / 'bench.json', study / 'nowhere.json',
                 expect_ok=False)
    assert result.returncode == 2 and f"--benchmark: no such file ['{study / 'nowhere.json'}']" in result.stderr


def test_benchmark_of_several_input_sizes_is_refused_not_mixed(study):
    report = json.loads((study / 'bench.json').read_text())
    report['rows'] = [dict(row, size='384x512') for row in report['rows']]
    report['rows'].append(dict(report['rows'][0], size='800x1333', latency_median_ms=900))
    (study / 'sizes.json').write_text(json.dumps(report))
    result = run(REPORT, '--runs', study / 'runs', '--benchmark', study / 'sizes.json', expect_ok=False)
    assert result.returncode == 2 and ("--benchmark: 'retinanet_a' was measured at 384x512 and 800x1333 "
                                       f"(in {study / 'sizes.json'})") in result.stderr


@pytest.mark.parametrize('runs, words', [('missing', 'is not a folder'), ('empty', 'holds no finished run')])
def test_bad_runs_folder_is_named(tmp_path, runs, words):
    (tmp_path / 'empty').mkdir()
    result = run(REPORT, '--runs', tmp_path / runs, expect_ok=False)
    assert result.returncode == 2 and str(tmp_path / runs) in result.stderr and words in result.stderr
    assert '--runs=' in result.stderr


def test_onnx_runtime_rows_add_a_column_and_configs_keeps_the_named_rows_only(study):
    report = json.loads((study / 'bench.json').read_text())
    report['rows'] += [dict(report['rows'][0], variant='onnxruntime', latency_median_ms=55.0),  # retinanet_a
                       dict(report['rows'][2], variant='onnxruntime', latency_median_ms=44.0),  # retinanet_a deploy
                       dict(report['rows'][3], variant='onnxruntime', latency_median_ms=66.0),  # retinanet_v3
                       dict(report['rows'][3], model='retinanet_v3 deploy', variant='onnxruntime', error='failed')]
    (study / 'ort.json').write_text(json.dumps(report))
    out = run(REPORT, '--runs', study / 'runs', '--benchmark', study / 'ort.json', '--configs', 'retinanet_A',
              'v3_fast', '--plot', study / 'map.png', '--peers', 'v3').stdout
    lines = out.splitlines()
    assert lines[0].split(' | ')[-2:] == ['latency ONNX Runtime (ms)', 'train (min) |']
    rows = {line.split(' | ')[0].strip('| `'): line.strip('| ').split(' | ') for line in lines[2:]}
    assert sorted(rows) == ['retinanet_a', 'retinanet_v3_fast']  # not retinanet_v3, retinanet_untrained, ...
    assert rows['retinanet_a'][-4:-1] == ['80', '70', '55']  # as built, deployed, ONNX Runtime (of the export tool's
    # model: the row as built, which the export folds itself)
    assert rows['retinanet_v3_fast'][-4:-1] == ['-', '-', '-']
    assert (study / 'map.png').stat().st_size > 1000
    result = run(REPORT, '--runs', study / 'runs', '--configs', 'yolox', expect_ok=False)
    assert result.returncode == 2 and "--configs=['yolox']: no finished run of" in result.stderr


def test_several_runs_folders_are_read_as_one(study):
    probes = study / 'probes'
    write_run(probes, 'retinanet_a', 2, 0.59, 3000)  # a third seed of a row of the first folder
    write_run(probes, 'retinanet_a_72e', 0, 0.61, 7200)
    out = run(REPORT, '--runs', study / 'runs', probes, '--configs', 'retinanet_a').stdout
    rows = {line.split(' | ')[0].strip('| `'): line.strip('| ').split(' | ') for line in out.splitlines()[2:]}
    assert sorted(rows) == ['retinanet_a', 'retinanet_a_72e']
    assert rows['retinanet_a'][1:3] == ['3', '0.550 (0.500-0.590)']
    assert rows['retinanet_a_72e'][1:3] == ['1', '0.610']
    result = run(REPORT, '--runs', study / 'runs', study / 'nowhere', expect_ok=False)
    assert result.returncode == 2 and f"--runs={str(study / 'nowhere')!r} is not a folder" in result.stderr


def test_pareto_front_keeps_the_points_that_no_faster_one_matches():
    spec = importlib.util.spec_from_file_location('accuracy_report', REPORT)
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    points = [(150.0, 0.55), (100.0, 0.50), (120.0, 0.48), (200.0, 0.55), (90.0, 0.52), (300.0, 0.60)]
    assert report.pareto_front(points) == [(90.0, 0.52), (150.0, 0.55), (300.0, 0.60)]
    assert report.pareto_front([]) == []
