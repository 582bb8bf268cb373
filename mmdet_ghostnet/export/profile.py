"""Where a runtime spends an exported model's time: kernel time per operator type, from ONNX Runtime's profiler
or OpenVINO's performance counters, and the multiply-adds of the model's convolutions to weigh it against."""
import collections
import json
import tempfile
from typing import Dict, Tuple

import numpy as np

from .runtime import ort_session

# Operator types of either runtime's profile that are convolutions (the part of OpenVINO's key before '/')
CONV_TYPES = ('Conv', 'FusedConv', 'QLinearConv', 'Convolution', 'GroupConvolution')
Profile = Tuple[collections.Counter, collections.Counter]  # microseconds and calls per operator type


def ort_time_by_op_type(path: str, feed: Dict[str, np.ndarray], runs: int, warmup: int = 0, threads: int = 1,
                        optimization: str = 'ORT_ENABLE_ALL') -> Profile:
    """ONNX Runtime's profile of ``runs`` runs of the model at ``path`` on the CPU, after ``warmup`` unprofiled ones:
    kernel microseconds and kernel calls per operator type (summed over the runs)."""
    session = ort_session(path, threads, optimization, profile_prefix=f'{tempfile.mkdtemp()}/profile')
    for _ in range(warmup + runs):
        session.run(None, feed)
    with open(session.end_profiling()) as profile:
        events = json.load(profile)
    model_runs = [event for event in events if event.get('name') == 'model_run']
    start = model_runs[warmup - 1]['ts'] + model_runs[warmup - 1]['dur'] if warmup else 0
    time_us, calls = collections.Counter(), collections.Counter()
    for event in events:
        if event.get('cat') == 'Node' and event['name'].endswith('_kernel_time') and event['ts'] > start:
            time_us[event['args']['op_name']] += event['dur']
            calls[event['args']['op_name']] += 1
    return time_us, calls


def openvino_time_by_op_type(path: str, feed: Dict[str, np.ndarray], runs: int, warmup: int = 0,
                             threads: int = 1) -> Profile:
    """OpenVINO's performance counters over ``runs`` runs of the model at ``path`` on the CPU (float32 inference
    precision, as ``OpenVinoSession``), after ``warmup`` uncounted ones: microseconds and executed nodes per
    operator type of the compiled graph (after OpenVINO's fusions: a conv with its activation and sum is one
    ``Convolution``), each keyed ``type/kernel`` (e.g. ``Convolution/brgconv_avx512_amx_I8``), summed over the runs."""
    import openvino
    model = openvino.Core().compile_model(str(path), 'CPU', {'INFERENCE_PRECISION_HINT': 'f32', 'PERF_COUNT': True,
                                                              'INFERENCE_NUM_THREADS': threads})
    request = model.create_infer_request()
    for _ in range(warmup):
        request.infer(feed)
    time_us, calls = collections.Counter(), collections.Counter()
    for _ in range(runs):
        request.infer(feed)
        for node in request.profiling_info:
            if node.status == node.Status.EXECUTED:
                key = f'{node.node_type}/{node.exec_type}'
                time_us[key] += node.real_time.total_seconds() * 1e6
                calls[key] += 1
    return time_us, calls


PROFILERS = {'onnxruntime': ort_time_by_op_type, 'openvino': openvino_time_by_op_type}


def conv_multiply_adds(path: str) -> int:
    """Multiply-adds of the ``Conv`` nodes of the ONNX model at ``path`` (fixed shapes; the float graph's or a QDQ
    graph's), each output element costing in channels / groups x kernel area. ValueError where a conv's output shape
    is not inferred."""
    import onnx
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)), data_prop=True)  # sizes computed in the graph
    shapes = {value.name: [dim.dim_value for dim in value.type.tensor_type.shape.dim]
              for value in (*model.graph.value_info, *model.graph.output, *model.graph.input)}
    shapes.update({weight.name: list(weight.dims) for weight in model.graph.initializer})
    producers = {output: node for node in model.graph.node for output in node.output}
    total = 0
    for node in model.graph.node:
        if node.op_type != 'Conv':
            continue
        weight = node.input[1]
        while weight not in shapes and weight in producers:  # a QDQ graph's weight: DequantizeLinear(int8 weight)
            weight = producers[weight].input[0]
        _, in_per_group, *kernel = shapes[weight]
        if not all(shapes.get(node.output[0], [0])):
            raise ValueError(f'{path}: the output shape of {node.name} is not inferred: {shapes.get(node.output[0])}')
        total += int(np.prod(shapes[node.output[0]])) * in_per_group * int(np.prod(kernel))
    return total
