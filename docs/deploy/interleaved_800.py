"""GhostNet 1.0x at 800x1333, batch 1, 1 thread: ONNX Runtime against PyTorch eager and deploy mode and timm's
ghostnet_100 (blocks 0-8), timed round-robin in one process so that a varying load on a shared core hits every
model alike (tools/benchmark.py times one model after another, in separate processes).

    taskset -c 1 python docs/deploy/interleaved_800.py > docs/deploy/interleaved_800.txt
"""
import statistics
import tempfile

import torch
from mmengine.logging import MMLogger

from mmdet_ghostnet.benchmark.measure import interleaved_times
from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
from mmdet_ghostnet.benchmark.workloads import WORKLOADS
from mmdet_ghostnet.export.exporter import export_onnx
from mmdet_ghostnet.export.runtime import ort_session

ROUNDS, WARMUP = 10, 2
MMLogger.get_instance('interleaved', log_level='ERROR')  # quiet init_weights reports
torch.set_num_threads(1)
torch.manual_seed(0)
images = torch.randn(1, 3, 800, 1333)
steps = {}
for name in ('GhostNet 1.0x', 'GhostNet 1.0x deploy', 'timm ghostnet_100 (blocks 0-8)'):
    model = build_model(SPECS_BY_NAME[name])
    model.eval()
    steps[f'{name}, PyTorch'] = lambda model=model: model(images)
folder = tempfile.mkdtemp()
module, example, names = WORKLOADS['backbone'].exportable(build_model(SPECS_BY_NAME['GhostNet 1.0x']), images)
export_onnx(module, example, f'{folder}/ghostnet.onnx', names)
session = ort_session(f'{folder}/ghostnet.onnx', threads=1)
steps['GhostNet 1.0x, ONNX Runtime'] = lambda: session.run(None, {'input': images.numpy()})

with torch.no_grad():
    times = interleaved_times(steps, ROUNDS, WARMUP)
timm = statistics.median(times['timm ghostnet_100 (blocks 0-8), PyTorch'])
print(f'{ROUNDS} rounds after {WARMUP} warm-up rounds; median (min-max) ms; timm eager / row')
for name, values in times.items():
    median = statistics.median(values)
    print(f'{name:42s} {median:7.1f} ({min(values):.1f}-{max(values):.1f})  {timm / median:.2f}x')
