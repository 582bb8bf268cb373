"""What the benchmark's ONNX Runtime detector rows measured before the input fix: until 2026-11-30 they fed the
end-to-end model (which normalises its input itself) the batch that ``model.predict`` gets, already normalised, so
the model saw a normalised-twice, nearly constant image. Times the same session on that input and on the raw image
whose normalisation is ``predict``'s batch (what the benchmark feeds now), interleaved, 1 thread, random weights
and random input as in docs/deploy.md's tables; also counts the detections of each.

    taskset -c 0 python docs/deploy/onnx_input_ab.py > docs/deploy/onnx_input_ab.txt
"""
import os
import statistics
import tempfile
import time

import torch
from mmengine.logging import MMLogger

from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
from mmdet_ghostnet.benchmark.workloads import WORKLOADS
from mmdet_ghostnet.export.exporter import export_onnx
from mmdet_ghostnet.export.runtime import ort_session

MMLogger.get_instance('onnx_input_ab', log_level='ERROR')  # quiet init_weights reports
torch.set_num_threads(1)
torch.manual_seed(0)
DETECTORS = [('RetinaNet demo', (128, 128), 40), ('retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd', (384, 512), 20),
             ('faster-rcnn_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd', (384, 512), 20),
             ('RetinaNet GhostNet 1.1x + GhostFPN', (800, 1333), 6),
             ('Faster R-CNN GhostNet 1.1x + GhostFPN', (800, 1333), 6)]

print('median (min-max) ms of ONNX Runtime end to end, 1 thread; detections in brackets')
for name, size, repeats in DETECTORS:
    model = build_model(SPECS_BY_NAME[name]).eval()
    workload = WORKLOADS['detector']
    batch, samples = workload.inputs(model, size, 1, torch.device('cpu'))
    module, raw, output_names = workload.exportable(model, (batch, samples))
    with tempfile.TemporaryDirectory() as folder:
        export_onnx(module, raw, os.path.join(folder, 'model.onnx'), output_names)
        session = ort_session(os.path.join(folder, 'model.onnx'), 1)
    feeds = {'normalised batch (before)': {'input': batch.numpy()}, 'raw image (now)': {'input': raw.numpy()}}
    detections = {key: int((session.run(None, feed)[1] >= 0).sum()) for key, feed in feeds.items()}
    times = {key: [] for key in feeds}
    for repeat in range(2 + repeats):  # 2 warm-ups
        for key, feed in feeds.items():
            start = time.perf_counter()
            session.run(None, feed)
            if repeat >= 2:
                times[key].append(1000 * (time.perf_counter() - start))
    with torch.no_grad():
        eager = len(model.predict(batch, samples)[0].pred_instances)
    cells = [f'{key} {statistics.median(ms):.1f} ({min(ms):.1f}-{max(ms):.1f}) [{detections[key]}]'
             for key, ms in times.items()]
    ratio = statistics.median(times['raw image (now)']) / statistics.median(times['normalised batch (before)'])
    print(f'{name}, {size[0]}x{size[1]}: ' + '; '.join(cells) + f'; now/before {ratio:.3f}; eager predict [{eager}]',
          flush=True)
