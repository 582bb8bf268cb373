"""Where ONNX Runtime spends GhostNet's time: per operator type, against MobileNetV2 (800x1333, 1 thread), and
GhostNet with and without ONNX Runtime's layout optimisation, timed alternately in one process.

    taskset -c 1 python docs/deploy/profile_ort.py > docs/deploy/profile_ort.txt
"""
import statistics
import tempfile
from functools import partial

import torch
from mmengine.logging import MMLogger

from mmdet_ghostnet.benchmark.measure import interleaved_times
from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
from mmdet_ghostnet.benchmark.workloads import WORKLOADS
from mmdet_ghostnet.export.exporter import export_onnx
from mmdet_ghostnet.export.profile import ort_time_by_op_type
from mmdet_ghostnet.export.runtime import ort_session

MMLogger.get_instance('profile', log_level='ERROR')  # quiet init_weights reports
torch.manual_seed(0)
images = torch.randn(1, 3, 800, 1333)
feed = {'input': images.numpy()}
folder = tempfile.mkdtemp()


paths = {}
for name in ('GhostNet 1.0x', 'mmdet MobileNetV2 1.0x'):
    model = build_model(SPECS_BY_NAME[name])
    model.eval()
    module, example, names = WORKLOADS['backbone'].exportable(model, images)
    paths[name] = f'{folder}/{len(paths)}.onnx'
    export_onnx(module, example, paths[name], names)
    per_op, nodes = ort_time_by_op_type(paths[name], feed, runs=4)
    total = sum(per_op.values())
    print(f'{name}: {total / 4 / 1e3:.0f} ms per run in kernels (profiled)')
    for op, duration in per_op.most_common(8):
        print(f'    {op:20s} {duration / total:6.1%}  ({nodes[op] // 4} nodes)')

sessions = {level: ort_session(paths['GhostNet 1.0x'], 1, level)
            for level in ('ORT_ENABLE_EXTENDED', 'ORT_ENABLE_ALL')}
times = interleaved_times({level: partial(runner.run, None, feed) for level, runner in sessions.items()}, 6, 2)
for level, values in times.items():
    print(f'GhostNet 1.0x, {level}: median {statistics.median(values):.0f} ms (min {min(values):.0f}), 6 runs')
