"""tools/deploy_report.py on benchmark reports and test logs written here: the deploy table's cells and errors."""
import json

from tool_runs import REPO, run

REPORT = REPO / 'tools' / 'deploy_report.py'
MACHINE = {'cpu': 'Test CPU', 'cpu_family': '23', 'cpu_model': '1', 'isa': ['AVX2'], 'date': '2026-12-07T02:00:00'}


def write_report(path, threads: int, latency: dict, machine: dict = MACHINE) -> None:
    """A tools/benchmark.py report: ``latency[(model row, variant, batch)]`` = median ms."""
    rows = [dict(model=model, variant=variant, batch=batch, mode='inference', latency_median_ms=ms)
            for (model, variant, batch), ms in latency.items()]
    rows.append(dict(model='nano', variant='openvino', batch=8, mode='inference', error='Traceback ...'))
    path.write_text(json.dumps(dict(machine=dict(machine, threads=threads), rows=rows)))


def test_the_table_gives_each_variants_map_latency_and_throughput(tmp_path):
    reports = []
    for run_index, shift in enumerate((0, 10)):
        for threads, factor in ((1, 1.0), (2, 0.5)):
            path = tmp_path / f't{threads}_run{run_index}.json'
            write_report(path, threads, {('nano deploy', 'eager', 1): factor * (100 + shift),
                                         ('nano deploy', 'eager', 8): factor * 800,
                                         ('nano', 'eager', 1): 150, ('nano', 'onnxruntime', 1): factor * (60 + shift),
                                         ('nano', 'openvino-int8', 8): factor * 400})
            reports.append(path)
    accuracy = tmp_path / 'accuracy' / 'nano'
    accuracy.mkdir(parents=True)
    (accuracy / 'test_int8_openvino.log').write_text("noise\nmetrics: {'coco/bbox_mAP': 0.6049, 'x': 1}\n")
    (accuracy / 'test_deployed.log').write_text('a log without a metrics line\n')
    result = run(REPORT, '--benchmark', *reports, '--accuracy', tmp_path / 'accuracy')
    rows = {line.split(' | ')[1]: line.strip('| ').split(' | ') for line in result.stdout.splitlines()
            if line.startswith('| `nano`')}
    assert result.stdout.splitlines()[0] == ('| model | runtime, precision | test mAP | b1 ms, 1 thr | b1 ms, 2 thr | '
                                             'b8 img/s, 1 thr | b8 img/s, 2 thr |')
    assert rows['PyTorch, deployed'][2:] == ['-', '105 (100-110)', '52 (50-55)', '10.0 (10.0-10.0)',
                                             '20.0 (20.0-20.0)']
    assert rows['ONNX Runtime, float32'][2:] == ['-', '65 (60-70)', '32 (30-35)', '-', '-']
    assert rows['OpenVINO, int8'][2:] == ['0.605', '-', '-', '20.0 (20.0-20.0)', '40.0 (40.0-40.0)']
    assert rows['OpenVINO, float32'][2:] == ['-'] * 5  # its only row failed
    assert len(rows) == 5
    assert '4 reports, Test CPU (family 23, model 1; AVX2), 2026-12-07' in result.stdout


def test_missing_inputs_are_named(tmp_path):
    result = run(REPORT, '--benchmark', tmp_path / 'none.json', expect_ok=False)
    assert result.returncode == 2 and f"--benchmark='{tmp_path / 'none.json'}' is not a file" in result.stderr
    report = tmp_path / 'r.json'
    write_report(report, 1, {})
    result = run(REPORT, '--benchmark', report, '--accuracy', tmp_path / 'nowhere', expect_ok=False)
    assert result.returncode == 2 and f"--accuracy='{tmp_path / 'nowhere'}' is not a folder" in result.stderr


def test_reports_of_two_cpus_are_refused(tmp_path):
    write_report(tmp_path / 'a.json', 1, {('nano', 'onnxruntime', 1): 60})
    write_report(tmp_path / 'b.json', 1, {('nano', 'onnxruntime', 1): 30}, dict(MACHINE, cpu='Other CPU'))
    result = run(REPORT, '--benchmark', tmp_path / 'a.json', tmp_path / 'b.json', expect_ok=False)
    assert result.returncode == 2 and 'come from 2 CPUs (Other CPU, Test CPU)' in result.stderr
