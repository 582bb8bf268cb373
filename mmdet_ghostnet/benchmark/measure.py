"""One measurement of one model: its cost (params, FLOPs) and a timed run with its peak memory.

* ``params``: ``mmengine.analysis.parameter_count``.
* ``flops_mac``: multiply-adds of convolutions and linear layers at batch 1 (``FlopAnalyzer(...).by_operator()``,
  ``conv`` + ``linear``), the way the GhostNet paper counts FLOPs; ``flops_all`` is FlopAnalyzer's total, which
  also counts BatchNorm, upsampling and pooling. Detectors also report ``flops_mac_backbone_neck``.
* latency: median and p25-p75 of ``repeats`` timed runs after ``warmup`` untimed ones (CPU: wall clock;
  CUDA: CUDA events, synchronised once after all runs); throughput = batch / median.
  ``inference`` is ``eval()`` + ``torch.no_grad()`` (detectors: ``model.predict`` with post-processing);
  ``train`` is ``train()`` mode forward + backward of a scalar loss (backbones and necks: the sum of the means of
  the outputs; detectors: ``model.loss`` on a few random boxes, summed by ``parse_losses``) and zeroing the grads.
* peak memory, in MiB above the post-build baseline (model built, inputs made, warm-up and timed runs counted).
  On CPU (run in a fresh process, see ``runs.IsolatedRunner``) the process builds the model and inputs, resets the
  kernel's high-water mark of its resident set (``/proc/self/clear_refs`` = 5, so that transient peaks while
  building do not hide the run's), runs, and reports ``VmHWM`` minus the resident size at the reset. Where the
  reset is not allowed it falls back to the increase of ``getrusage(RUSAGE_SELF).ru_maxrss`` (which misses
  whatever stays below the build's own peak). The CPU number includes one-time costs of the first run, such as
  library code paged in and oneDNN's caches (about 15 MiB for a tiny input), and for ``compile`` the
  compilation. On CUDA the number is ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` minus
  ``memory_allocated`` at the reset.
* ``minor_faults_per_run`` (CPU): the process's minor page faults per timed run. Tens of thousands mean that
  the allocator hands memory back to the kernel between runs and the run pays for faulting it in again; with
  ``Settings.keep_freed_memory`` (``--keep-freed-memory``) it keeps it (see ``mmdet_ghostnet.utils.allocator``).

Variants of batch-1 backbone inference: ``cuda-graph`` (capture once, time ``graph.replay()``) and ``compile``
(``torch.compile`` default mode); of backbone and detector inference at every batch size: ``RUNTIME_VARIANTS``
(exported to ONNX, for '-int8' quantized on the timed input, then the runtime's inference timed on the CPU with
``threads`` intra-op threads; the peak memory includes the export, as it includes compilation for ``compile``). With ``bf16_channels_last`` runs autocast to bfloat16 on
channels-last tensors.
"""
from __future__ import annotations

import gc
import os
import resource
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from ..utils.allocator import keep_freed_memory
from .models import SPECS_BY_NAME, build_model
from .workloads import WORKLOADS, Size, Workload

# The runtimes that run a model exported to ONNX (CPU), each in float32 and statically quantized to int8
# (mmdet_ghostnet/export/quantize.py).
RUNTIME_VARIANTS = ('onnxruntime', 'openvino', 'onnxruntime-int8', 'openvino-int8')


@dataclass(frozen=True)
class Settings:
    """What applies to every measurement of a run."""

    device: str
    threads: Optional[int]
    warmup: int
    repeats: int
    bf16_channels_last: bool
    keep_freed_memory: bool = False
    checkpoints: Mapping[str, str] = field(default_factory=dict)  # model row -> trained weights to load
    image: Optional[str] = None  # detectors: this image, resized to each size, rather than a random one

    def checkpoint_for(self, model: str) -> Optional[str]:
        """The trained weights of row ``model`` (a '<name> deploy' row: those of ``<name>``); None: random."""
        return self.checkpoints.get(model[:-len(' deploy')] if model.endswith(' deploy') else model)


@dataclass(frozen=True)
class Job:
    """One timed measurement: a model at one size, batch and mode; variant 'eager', 'cuda-graph', 'compile' or one
    of ``RUNTIME_VARIANTS`` ('onnxruntime', 'openvino' and their '-int8')."""

    model: str
    size: Size
    batch: int
    mode: str
    variant: str = 'eager'


def _prepare_worker(threads: Optional[int], keep_memory: bool = False) -> None:
    """Seed, thread count, quiet logs and the allocator setting: the same starting point for every measurement."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('benchmark', log_level='ERROR')  # becomes 'current': hides init_weights messages
    warnings.filterwarnings('ignore')
    if threads is not None:
        torch.set_num_threads(threads)
    if keep_memory:
        keep_freed_memory()
    torch.manual_seed(0)


def _multiply_adds(counts: Mapping[str, int]) -> int:
    return counts.get('conv', 0) + counts.get('linear', 0)


def measure_cost(model_name: str, size: Size, settings: Settings) -> Dict[str, Any]:
    """Params and FLOPs of ``model_name`` at batch 1 (always on CPU: the counts do not depend on the device)."""
    from mmengine.analysis import FlopAnalyzer, parameter_count
    _prepare_worker(settings.threads)
    spec = SPECS_BY_NAME[model_name]
    workload = WORKLOADS[spec.part]
    model = build_model(spec, settings.checkpoint_for(model_name))
    model.eval()
    module, inputs = workload.traced(model, workload.inputs(model, size, 1, torch.device('cpu'), settings.image))
    analyzer = FlopAnalyzer(module, inputs).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        counts = analyzer.by_module_and_operator()
    params = parameter_count(model)
    cost = dict(params=params[''], flops_mac=_multiply_adds(counts['']), flops_all=analyzer.total())
    if workload.body:
        root = next(name for name, submodule in module.named_modules() if submodule is model)  # '' or a wrapper's
        cost['params_backbone_neck'] = sum(params[name] for name in workload.body)
        cost['flops_mac_backbone_neck'] = sum(
            _multiply_adds(counts[f'{root}.{name}'.lstrip('.')]) for name in workload.body)
    return cost


def _proc_status_kib(key: str) -> int:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise OSError(f'no {key} in /proc/self/status')


class PeakMemory:
    """Peak memory of the enclosed code above its start, in MiB (see the module docstring for the method)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.method = ''
        self.peak_mib = 0.0
        self._base_kib = 0

    def __enter__(self) -> 'PeakMemory':
        gc.collect()
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base_kib = torch.cuda.memory_allocated(self.device) // 1024
            self.method = 'cuda max_memory_allocated'
            return self
        try:
            with open('/proc/self/clear_refs', 'w') as clear_refs:
                clear_refs.write('5')  # reset VmHWM to the current resident size
            self._base_kib = _proc_status_kib('VmRSS')
            self.method = 'VmHWM after clear_refs'
        except OSError:
            self._base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.method = 'ru_maxrss increase'
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            peak_kib = torch.cuda.max_memory_allocated(self.device) // 1024
        elif self.method.startswith('VmHWM'):
            peak_kib = _proc_status_kib('VmHWM')
        else:
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_mib = max(0, peak_kib - self._base_kib) / 1024


def _capture_cuda_graph(step: Callable[[], None]) -> Callable[[], None]:
    """Capture ``step`` (static inputs) in a CUDA graph after a few side-stream warm-ups; return its replay."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def _runtime_step(workload: Workload, model: nn.Module, inputs: Any, variant: str,
                  threads: Optional[int]) -> Callable[[], None]:
    """Export ``model`` to a temporary ONNX file (for an '-int8' ``variant`` quantized, calibrated on the input
    itself); return one inference of the runtime the variant names on the same input."""
    from mmdet_ghostnet.export.exporter import export_onnx
    from mmdet_ghostnet.export.quantize import quantize_int8
    from mmdet_ghostnet.export.runtime import inference_session
    runtime, _, precision = variant.partition('-')
    module, images, output_names = workload.exportable(model, inputs)
    feed = {'input': images.cpu().numpy()}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'model.onnx')
        export_onnx(module, images, path, output_names)
        if precision == 'int8':
            quantize_int8(path, os.path.join(folder, 'int8.onnx'), iter([feed['input']]))
            path = os.path.join(folder, 'int8.onnx')
        session = inference_session(path, runtime, threads)
    return partial(session.run, None, feed)


def _make_step(workload: Workload, model: nn.Module, inputs: Any, job: Job, settings: Settings) -> Callable[[], None]:
    """The callable that one timed run calls: an inference or a training step of ``model`` on ``inputs``."""
    autocast = partial(torch.autocast, device_type=settings.device, dtype=torch.bfloat16,
                       enabled=settings.bf16_channels_last, cache_enabled=False)
    if job.mode == 'train':

        def train_step() -> None:
            with autocast():
                loss = workload.loss(model, inputs)
            loss.backward()
            model.zero_grad(set_to_none=True)

        return train_step
    if job.variant in RUNTIME_VARIANTS:
        return _runtime_step(workload, model, inputs, job.variant, settings.threads)
    if job.variant == 'compile':
        torch._dynamo.reset()  # in-process (CUDA) runs: earlier models' graphs would use up the recompile limit
    runner = torch.compile(model) if job.variant == 'compile' else model

    def inference_step() -> None:
        with torch.no_grad(), autocast():
            workload.forward(runner, inputs)

    return _capture_cuda_graph(inference_step) if job.variant == 'cuda-graph' else inference_step


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _time_runs(step: Callable[[], None], warmup: int, repeats: int,
               device: torch.device) -> Tuple[List[float], float]:
    """Milliseconds of each of ``repeats`` calls of ``step`` after ``warmup`` untimed ones, and the process's
    minor page faults per timed call (CPU only: memory that the allocator returned to the kernel and has to
    fault in, zeroed, again; 0 on CUDA)."""
    for _ in range(warmup):
        step()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
        for start, end in events:
            start.record()
            step()
            end.record()
        torch.cuda.synchronize(device)
        return [start.elapsed_time(end) for start, end in events], 0.0
    times = []
    faults_before = _minor_faults()
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times, (_minor_faults() - faults_before) / repeats


def interleaved_times(steps: Mapping[str, Callable[[], Any]], rounds: int, warmup: int) -> Dict[str, List[float]]:
    """Milliseconds of each of ``steps`` (name -> callable) over ``rounds`` round-robin rounds after ``warmup``
    untimed ones: one process, every step once per round, so that a varying load on a shared core hits each alike."""
    times = {name: [] for name in steps}
    for round_ in range(warmup + rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_ >= warmup:
                times[name].append((time.perf_counter() - start) * 1e3)
    return times


def _to_channels_last(inputs: Any) -> Any:
    if isinstance(inputs, Tensor):
        return inputs.contiguous(memory_format=torch.channels_last) if inputs.dim() == 4 else inputs
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_to_channels_last(item) for item in inputs)
    return inputs


def measure_run(job: Job, settings: Settings) -> Dict[str, Any]:
    """Build the model of ``job``, then time it and track its peak memory; returns the row's measured fields."""
    _prepare_worker(settings.threads, settings.keep_freed_memory and settings.device == 'cpu')
    device = torch.device(settings.device)
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels during the warm-up
    spec = SPECS_BY_NAME[job.model]
    workload = WORKLOADS[spec.part]
    model = build_model(spec, settings.checkpoint_for(job.model)).to(device)
    model.train(job.mode == 'train')  # not chained: some backbones' train() (mmdet's MobileNetV2) returns None
    inputs = workload.inputs(model, job.size, job.batch, device, settings.image)
    if settings.bf16_channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = _to_channels_last(inputs)
    with PeakMemory(device) as memory:
        step = _make_step(workload, model, inputs, job, settings)
        times, faults_per_run = _time_runs(step, settings.warmup, settings.repeats, device)
    p25, median, p75 = statistics.quantiles(times, n=4, method='inclusive') if len(times) > 1 else times * 3
    outputs = workload.describe_outputs(model, inputs) if job.mode == 'inference' and job.variant == 'eager' else {}
    return dict(latency_median_ms=median, latency_p25_ms=p25, latency_p75_ms=p75, latency_iqr_ms=p75 - p25,
                latency_min_ms=min(times), throughput_img_s=job.batch / median * 1e3, peak_mem_mb=memory.peak_mib,
                memory_method=memory.method, minor_faults_per_run=faults_per_run, latency_samples_ms=times, **outputs)
