"""The model zoo: ``checkpoints/metafile.yml`` (MMDetection's model-index format) and the README table made from it.

Each model names its config, its float16 weights, what to pick it for (``Metadata.Use``; one is ``Recommended``)
and the run folders of its training runs (``Metadata.Runs``, the shipped file's run first). ``Benchmark.Files``
are the tools/benchmark.py reports of one benchmark set of the whole zoo. Everything measured in an entry is
derived from those files (:func:`derived`): the weights' sha256 and size, the shipped file's own BCCD test
metrics, the mean and range of the test mAP over the runs, parameters and multiply-adds of the deployed network,
and its latency deployed and in ONNX Runtime; :func:`stale` lists what the files contradict.
"""
import copy
import json
from pathlib import Path
from typing import Any, Dict, List

import yaml

from mmdet_ghostnet.benchmark.study_files import deployed_row, load_benchmark, spread
from mmdet_ghostnet.engine.publish import sha256_of

REPO = Path(__file__).resolve().parents[2]
METAFILE = REPO / 'checkpoints' / 'metafile.yml'
TABLE_BEGIN = '<!-- model zoo: made by tools/model_zoo.py from checkpoints/metafile.yml; do not edit -->'
TABLE_END = '<!-- end of model zoo -->'


def load_zoo(path: Path = METAFILE) -> Dict[str, Any]:
    """The metafile at ``path`` as a dict with ``Benchmark`` and ``Models``."""
    return yaml.safe_load(Path(path).read_text())


def save_zoo(zoo: Dict[str, Any], path: Path = METAFILE) -> None:
    Path(path).write_text(yaml.safe_dump(zoo, sort_keys=False, allow_unicode=True, width=120))


def recommended(zoo: Dict[str, Any]) -> Dict[str, Any]:
    """The one model with ``Metadata.Recommended: true``; ValueError unless there is exactly one."""
    chosen = [model for model in zoo['Models'] if model['Metadata'].get('Recommended')]
    if len(chosen) != 1:
        raise ValueError(f'{len(chosen)} models of the zoo are Recommended ({[m["Name"] for m in chosen]}); '
                         'exactly one must be')
    return chosen[0]


def machine(report: Dict[str, Any]) -> str:
    """A benchmark report's machine in words: CPU model, family/model numbers, instruction sets, cores."""
    info = report['machine']
    return (f'{info["cpu"]} (family {info.get("cpu_family")}, model {info.get("cpu_model")}; '
            f'{", ".join(info.get("isa", [])) or "no AVX2"}), {info["logical_cores"]} cores')


def _metrics(path: Path) -> Dict[str, float]:
    return json.loads(path.read_text())


def derived(zoo: Dict[str, Any], root: Path = REPO) -> Dict[str, Any]:
    """The zoo with every measured field computed from its weights, run folders and benchmark reports.

    Raises ValueError naming the model when a run folder or a benchmark row it needs is missing.
    """
    zoo = copy.deepcopy(zoo)
    files = [root / path for path in zoo['Benchmark']['Files']]
    reports = [json.loads(path.read_text()) for path in files]
    zoo['Benchmark'].update(Machine=machine(reports[0]), Date=reports[0]['machine']['date'][:10])
    eager, onnxruntime = (load_benchmark(files, variant) for variant in ('eager', 'onnxruntime'))
    for model in zoo['Models']:
        name, meta = model['Name'], model['Metadata']
        runs = [root / run for run in meta['Runs']]
        needed = [runs[0] / 'float16_test_metrics.json'] + [run / 'test_metrics.json' for run in runs]
        missing = [str(path) for path in needed if not path.is_file()]
        if missing:
            raise ValueError(f'model {name!r}: its run folders lack {missing}')
        deployed, ort = deployed_row(eager, name), onnxruntime.get(name)
        if deployed is None or ort is None:
            raise ValueError(f'model {name!r} has no deployed and ONNX Runtime rows in {zoo["Benchmark"]["Files"]}')
        weights = root / model['Weights']
        run_maps = [_metrics(run / 'test_metrics.json')['coco/bbox_mAP'] for run in runs]
        meta.update({
            'Weights sha256': sha256_of(weights),
            'Weights MB': round(weights.stat().st_size / 2**20, 2),
            'Test mAP over runs': f'{spread(run_maps)}, {len(runs)} run{"s" if len(runs) > 1 else ""}',
            'Input size': deployed['size'],
            'Parameters (M)': round(deployed['params'] / 1e6, 2),
            'MACs (G)': round(deployed['flops_mac'] / 1e9, 2),
            'Latency deployed (ms)': spread(deployed['latency_runs_ms'], 0),
            'Latency ONNX Runtime (ms)': spread(ort['latency_runs_ms'], 0),
        })
        shipped = _metrics(runs[0] / 'float16_test_metrics.json')
        model['Results'] = [dict(Task='Object Detection', Dataset='BCCD test', Metrics={
            'box AP': round(100 * shipped['coco/bbox_mAP'], 1),
            'box AP@0.5': round(100 * shipped['coco/bbox_mAP_50'], 1),
            'box AP@0.75': round(100 * shipped['coco/bbox_mAP_75'], 1)})]
    return zoo


def stale(zoo: Dict[str, Any], root: Path = REPO) -> List[str]:
    """``'<model>: <field> is X, its files give Y'`` for every measured field that its files contradict."""
    fresh = derived(zoo, root)
    found = [f'Benchmark: {key} is {zoo["Benchmark"].get(key)!r}, its files give {value!r}'
             for key, value in fresh['Benchmark'].items() if zoo['Benchmark'].get(key) != value]
    for old, new in zip(zoo['Models'], fresh['Models']):
        for section in ('Metadata', 'Results'):
            if old.get(section) != new[section]:
                found.append(f'{old["Name"]}: {section} is {old.get(section)!r}, its files give {new[section]!r}')
    return found


def readme_table(zoo: Dict[str, Any]) -> str:
    """The README's model table (the recommended model first) with the line that says how it was measured."""
    first = recommended(zoo)
    models = [first] + [model for model in zoo['Models'] if model is not first]
    lines = ['| model | pick it for | config | weights | test mAP | over runs | params (M) | GMACs | '
             'deployed ms | ONNX Runtime ms |', '|' + '---|' * 10]
    for model in models:
        meta = model['Metadata']
        title = f'**{model["Title"]}** (recommended)' if model is first else model['Title']
        lines.append(f'| {title} | {meta["Use"]} | [config]({model["Config"]}) | [weights]({model["Weights"]}) | '
                     f'{model["Results"][0]["Metrics"]["box AP"] / 100:.3f} | {meta["Test mAP over runs"]} | '
                     f'{meta["Parameters (M)"]:.2f} | {meta["MACs (G)"]:.2f} | {meta["Latency deployed (ms)"]} | '
                     f'{meta["Latency ONNX Runtime (ms)"]} |')
    bench = zoo['Benchmark']
    lines += ['', f'BCCD test bbox mAP (0.5:0.95) of the shipped file (`tools/test.py CONFIG WEIGHTS`), and mean '
              f'(min-max) over its training runs; latency at {models[0]["Metadata"]["Input size"]}, '
              f'{bench["Protocol"]}, on {bench["Machine"]}, {bench["Date"]} (`{bench["Command"]}`).']
    return '\n'.join(lines)


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between TABLE_BEGIN and TABLE_END replaced by ``table``."""
    begin, end = readme.find(TABLE_BEGIN), readme.find(TABLE_END)
    if begin < 0 or end < begin:
        raise ValueError(f'the README has no {TABLE_BEGIN!r} ... {TABLE_END!r} block for the model table')
    return readme[:begin + len(TABLE_BEGIN)] + '\n' + table + '\n' + readme[end:]


def benchmark_arguments(zoo: Dict[str, Any]) -> List[str]:
    """tools/benchmark.py's ``--models`` and ``--checkpoint`` arguments that time the zoo's files."""
    return ['--models', *(model['Name'] for model in zoo['Models']),
            '--checkpoint', *(f'{model["Name"]}={model["Weights"]}' for model in zoo['Models'])]
