"""tools/run_accuracy_row.sh on the tiny demo set: a finished row leaves its run files, and its float16 weights in
its work dir (only the model zoo's weights are committed)."""
import hashlib
import json
import os
import subprocess
import sys

import torch
import yaml

from tool_runs import REPO, RTMDET_DEMO, tiny_run_options


def test_a_finished_row_leaves_its_run_files_and_float16_weights_in_its_work_dir(tiny_data, tmp_path):
    options = [option for option in tiny_run_options(tiny_data, 'model.test_cfg.score_thr')
               if not option.startswith('randomness.seed')]  # the row's seed is the script's argument
    env = dict(os.environ, PYTHONPATH=str(REPO), PY=sys.executable, WORK_ROOT=str(tmp_path / 'work'),
               RESULTS_ROOT=str(tmp_path / 'runs'), CFG_OPTIONS=' '.join(options), OMP_NUM_THREADS='1')
    result = subprocess.run(['bash', 'tools/run_accuracy_row.sh', str(RTMDET_DEMO), '3'], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    name = 'rtmdet-nano_ghostnet_ghostpan_1xb16-48e_demo'
    folder = tmp_path / 'runs' / f'{name}_seed3'
    published = tmp_path / 'work' / f'{name}_seed3' / 'published'
    assert sorted(path.name for path in folder.iterdir()) == sorted([
        'float16_test_metrics.json', 'run.json', 'scalars.json', 'test.log', 'test_metrics.json', 'train.log'])
    assert sorted(path.name for path in published.iterdir()) == ['metafile.yml', f'{name}.pth']
    run_info = json.loads((folder / 'run.json').read_text())
    assert run_info['seed'] == 3 and run_info['best_checkpoint'] == 'best_coco_bbox_mAP_epoch_1.pth'
    assert run_info['threads'] == '1'

    weights = torch.load(published / f'{name}.pth', map_location='cpu', weights_only=True)
    assert weights['meta']['seed'] == 3
    floats = [t for t in weights['state_dict'].values() if t.is_floating_point()]
    assert floats and all(t.dtype == torch.float16 for t in floats)
    entry, = yaml.safe_load((published / 'metafile.yml').read_text())['Models']
    assert entry['Metadata']['Weights sha256'] == hashlib.sha256((published / f'{name}.pth').read_bytes()).hexdigest()

    float32, float16 = (json.loads((folder / f).read_text())
                        for f in ('test_metrics.json', 'float16_test_metrics.json'))
    assert set(float16) == set(float32) and 'coco/bbox_mAP' in float16
    assert abs(float16['coco/bbox_mAP'] - float32['coco/bbox_mAP']) <= 0.01
