"""Why the COCO RetinaNet gains little from ONNX Runtime: time per operator type of the exported end-to-end model
(ONNX Runtime's profiler) against PyTorch eager ``predict`` (torch.profiler), 800x1344, 1 thread, random weights.

    taskset -c 1 python docs/deploy/profile_retinanet.py > docs/deploy/profile_retinanet.txt
"""
import collections
import tempfile

import torch
from mmengine.logging import MMLogger
from torch.profiler import profile

from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
from mmdet_ghostnet.benchmark.workloads import WORKLOADS
from mmdet_ghostnet.export.exporter import export_onnx
from mmdet_ghostnet.export.profile import ort_time_by_op_type

MMLogger.get_instance('profile', log_level='ERROR')  # quiet init_weights reports
torch.set_num_threads(1)
torch.manual_seed(0)
RUNS = 2
workload = WORKLOADS['detector']
model = build_model(SPECS_BY_NAME['RetinaNet GhostNet 1.1x + GhostFPN'])
model.eval()
inputs = workload.inputs(model, (800, 1333), 1, torch.device('cpu'))


def report(title: str, per_op: collections.Counter, nodes: collections.Counter) -> None:
    total = sum(per_op.values())
    print(f'{title}: {total / RUNS / 1e3:.0f} ms per run in operators (profiled)')
    for op, duration in per_op.most_common(6):
        print(f'    {op:28s} {duration / total:6.1%}  ({nodes[op] // RUNS} calls)')


with torch.no_grad():
    workload.forward(model, inputs)
    with profile() as eager:
        for _ in range(RUNS):
            workload.forward(model, inputs)
per_op, nodes = collections.Counter(), collections.Counter()
for event in eager.key_averages():
    per_op[event.key] += event.self_cpu_time_total
    nodes[event.key] += event.count
report('PyTorch eager predict', per_op, nodes)

folder = tempfile.mkdtemp()
module, images, names = workload.exportable(model, inputs)
export_onnx(module, images, f'{folder}/model.onnx', names)
per_op, nodes = ort_time_by_op_type(f'{folder}/model.onnx', {'input': images.numpy()}, RUNS, warmup=1)
report('ONNX Runtime, exported end-to-end model', per_op, nodes)
