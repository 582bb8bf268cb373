"""The model zoo (checkpoints/metafile.yml) is what its files say, the README's table is the metafile's, and the
only tracked weights are the zoo's. The oracles are the run folders' metric files and the benchmark reports, read
here with json, and git's list of tracked files."""
import copy
import json
import subprocess
from statistics import mean

import pytest

from mmdet_ghostnet.utils.model_zoo import (METAFILE, benchmark_arguments, load_zoo, readme_table, recommended,
                                            stale, with_table)

from tool_runs import REPO, run

ZOO = load_zoo(METAFILE)
MAX_TRACKED_WEIGHTS_MB = 30


def test_the_zoo_and_the_readme_table_are_up_to_date():
    result = run(REPO / 'tools' / 'model_zoo.py')
    assert result.stdout.strip().endswith('up to date'), result.stderr


@pytest.mark.parametrize('model', ZOO['Models'], ids=[model['Name'] for model in ZOO['Models']])
def test_each_entry_gives_its_files_figures(model):
    meta = model['Metadata']
    shipped = json.loads((REPO / meta['Runs'][0] / 'float16_test_metrics.json').read_text())
    assert model['Results'][0]['Metrics']['box AP'] == round(100 * shipped['coco/bbox_mAP'], 1)
    maps = [json.loads((REPO / run_dir / 'test_metrics.json').read_text())['coco/bbox_mAP'] for run_dir in meta['Runs']]
    assert meta['Test mAP over runs'].startswith(f'{mean(maps):.3f}')
    reports = [json.loads((REPO / path).read_text()) for path in ZOO['Benchmark']['Files']]
    deployed = [row['latency_median_ms'] for report in reports for row in report['rows']
                if row['model'] == f'{model["Name"]} deploy' and row['variant'] == 'eager']
    assert len(deployed) == len(reports) == 3
    assert meta['Latency deployed (ms)'].startswith(f'{mean(deployed):.0f} (')
    assert (REPO / model['Config']).is_file() and (REPO / model['Weights']).is_file()


def test_exactly_one_model_is_recommended_and_it_is_the_guided_nano():
    assert recommended(ZOO)['Name'] == 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd'
    two = copy.deepcopy(ZOO)
    two['Models'][1]['Metadata']['Recommended'] = True
    with pytest.raises(ValueError, match='2 models of the zoo are Recommended'):
        recommended(two)


def test_a_figure_its_files_contradict_is_named():
    zoo = copy.deepcopy(ZOO)
    zoo['Models'][1]['Metadata']['Latency deployed (ms)'] = '1 (1-1)'
    zoo['Benchmark']['Date'] = '2000-01-01'
    problems = stale(zoo)
    assert len(problems) == 2
    assert problems[0].startswith("Benchmark: Date is '2000-01-01', its files give")
    assert problems[1].startswith(f'{zoo["Models"][1]["Name"]}: Metadata is ')


def test_the_readme_table_lists_every_model_recommended_first_with_its_figures():
    table = readme_table(ZOO)
    rows = [line for line in table.splitlines() if line.startswith('| ') and 'pick it for' not in line]
    assert len(rows) == len(ZOO['Models'])
    assert '(recommended)' in rows[0] and all('(recommended)' not in row for row in rows[1:])
    for model in ZOO['Models']:
        row = next(row for row in rows if f'({model["Weights"]})' in row)
        assert f'| {model["Results"][0]["Metrics"]["box AP"] / 100:.3f} |' in row
        assert f'| {model["Metadata"]["Latency ONNX Runtime (ms)"]} |' in row
    readme = (REPO / 'README.md').read_text()
    edited = readme.replace(rows[0], rows[0].replace('(recommended)', ''))
    assert with_table(edited, table) == readme != edited
    with pytest.raises(ValueError, match='has no .* block for the model table'):
        with_table('# a README without the block', table)


def test_only_the_zoo_weights_are_tracked():
    tracked = subprocess.run(['git', 'ls-files', '*.pth', '*.pt', '*.onnx', '*.safetensors'], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    assert sorted(tracked) == sorted(model['Weights'] for model in ZOO['Models'])
    assert sum((REPO / path).stat().st_size for path in tracked) <= MAX_TRACKED_WEIGHTS_MB * 2**20


def test_benchmark_arguments_time_each_shipped_file():
    arguments = benchmark_arguments(ZOO)
    names = [model['Name'] for model in ZOO['Models']]
    split = arguments.index('--checkpoint')
    assert arguments[:split] == ['--models', *names]
    assert arguments[split + 1:] == [f'{model["Name"]}={model["Weights"]}' for model in ZOO['Models']]
