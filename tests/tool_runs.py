"""Running the project's tools on a tiny generated COCO set, for the end-to-end tests."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
RETINANET_DEMO = REPO / 'configs' / 'demo' / 'retinanet_ghostnet_ghostpan_1xb16-48e_demo.py'
FASTER_RCNN_DEMO = REPO / 'configs' / 'demo' / 'faster-rcnn_ghostnet_ghostpan_1xb16-48e_demo.py'
RTMDET_DEMO = REPO / 'configs' / 'demo' / 'rtmdet-nano_ghostnet_ghostpan_1xb16-48e_demo.py'


def tiny_run_options(data_root: Path, score_thr_key: str) -> list:
    """``--cfg-options`` that point a demo config at the tiny set and make one epoch a few iterations."""
    options = [
        f'{split}_dataloader.dataset.data_root={data_root}/' for split in ('train', 'val', 'test')
    ] + [f'{split}_evaluator.ann_file={data_root}/annotations/instances_val.json' for split in ('val', 'test')]
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.batch_size=4', f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    return options + [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'randomness.seed=0', f'{score_thr_key}=0.0'
    ]


def run(script, *args, expect_ok=True) -> subprocess.CompletedProcess:
    """Run a Python tool from the repository root; unless told otherwise, assert that it succeeded."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=600)
    if expect_ok:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def scalars(work_dir: Path) -> list:
    """The records of mmengine's ``vis_data/scalars.json`` files under ``work_dir``."""
    return [json.loads(line) for f in sorted(work_dir.glob('*/vis_data/scalars.json')) for line in f.open()]
