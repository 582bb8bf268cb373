"""Benchmark GhostNet, GhostFPN and the detectors built on them against their peers, on one machine, in one run.

Usage::

    python tools/benchmark.py                                   # everything (hours on a small CPU)
    python tools/benchmark.py --parts backbone --sizes 800x1333 --batch-sizes 1 --out bench.json --plot bench.png
    python tools/benchmark.py --models "GhostNet 1.0x" --modes inference --repeats 50
    python tools/benchmark.py --quick --out /tmp/quick.json     # smoke test, well under a minute
    python tools/benchmark.py --device cuda --bf16-channels-last --cuda-graph --compile

What is measured, per row (one model at one input size, batch size and mode):

* ``params``: ``mmengine.analysis.parameter_count``.
* ``flops_mac``: multiply-adds of convolutions and linear layers at batch 1 (``FlopAnalyzer(...).by_operator()``,
  ``conv`` + ``linear``), the way the GhostNet paper counts FLOPs; ``flops_all`` is FlopAnalyzer's total, which
  also counts BatchNorm, upsampling and pooling. Detectors are traced through their raw tensor forward
  (``_forward``: backbone, neck and heads, no post-processing) and also report ``flops_mac_backbone_neck``.
* latency: median and p25-p75 of ``--repeats`` timed runs after ``--warmup`` untimed ones (CPU: wall clock;
  CUDA: CUDA events, synchronised once after all runs); throughput = batch / median.
  ``inference`` is ``eval()`` + ``torch.no_grad()`` (detectors: ``model.predict`` with post-processing);
  ``train`` is ``train()`` mode forward + backward of a scalar loss (backbones and necks: the sum of the means of
  the outputs; detectors: ``model.loss`` on a few random boxes, summed by ``parse_losses``) and zeroing the grads.
* peak memory, in MiB above the post-build baseline (model built, inputs made, warm-up and timed runs counted).
  On CPU every measurement runs in a fresh process forked from a forkserver that has already imported torch,
  mmdet and timm (a cold interpreter per measurement would spend about 6 s importing): the process builds the
  model and inputs, resets the kernel's high-water mark of its resident set (``/proc/self/clear_refs`` = 5, so
  that transient peaks while building do not hide the run's), runs, and reports ``VmHWM`` minus the resident size
  at the reset. Where the reset is not allowed it falls back to the increase of ``getrusage(RUSAGE_SELF).ru_maxrss``
  (which misses whatever stays below the build's own peak). A fresh process per measurement also keeps memory
  that glibc or the allocator kept from earlier models out of the numbers. The CPU number includes one-time costs
  of the first run, such as library code paged in and oneDNN's caches (about 15 MiB for a tiny input), and for
  ``--compile`` the compilation. On CUDA everything runs in this process and the number is
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` minus ``memory_allocated`` at the reset.

Ratios: every row is compared (latency, and in the JSON also MACs and params) with peers measured in the same
run at the same input, batch, mode and variant: backbones with ``timm ghostnet_100 (blocks 0-8)`` (timm's
GhostNet through the same stages as our default taps) and with mmdet's MobileNetV2, necks with mmdet's FPN of the
same setting, detectors with the MobileNetV2 + FPN detector of the same type (identical heads). Peers of the
models picked with ``--models`` are always measured too. A "targets" section closes the report with PASS / FAIL
per target from the measured numbers; a FAIL is a finding, not an error (the exit code is 1 only if a
measurement itself failed).

Backbones use the requested input size as it is; necks and detectors pad it to a multiple of 32 (the ``input``
column), as mmdet's data preprocessor does. The neck rows are fed random GhostNet 1.1x features
(``[28, 44, 124, 176]`` channels at strides 4/8/16/32). Models are randomly initialised (``init_weights``), so a
detector's post-processing time reflects how many of its random boxes pass the score threshold.

Threads: ``--threads`` (default: torch's choice). On a machine whose cores are shared with other work, OpenMP
threads spin-waiting for a descheduled sibling can make small ops orders of magnitude slower; the header warns
when the load average is high (use ``--threads 1`` or ``OMP_WAIT_POLICY=PASSIVE`` there).

CUDA options: ``--bf16-channels-last`` (autocast to bfloat16 and channels-last tensors, also allowed on CPU),
``--cuda-graph`` (capture batch-1 backbone inference once, time ``graph.replay()``) and ``--compile``
(``torch.compile`` default mode, batch-1 backbone inference; also works on CPU with a C++ compiler). Those rows
report their gain over eager (``x eager``). On CUDA, cuDNN autotuning (``cudnn.benchmark``) is on; the warm-up runs
absorb it, as they absorb compilation.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import gc
import json
import multiprocessing
import os
import platform
import re
import resource
import statistics
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[1]
PARTS = ('backbone', 'neck', 'detector')
MODES = ('inference', 'train')
Size = Tuple[int, int]

DEFAULT_SIZES: Tuple[Size, ...] = ((320, 320), (640, 640), (800, 1333))
DEFAULT_BATCH_SIZES = (1, 8)
TARGET_SIZE: Size = (800, 1333)
# Modules the forkserver imports once, so that every forked measurement process starts warm.
PRELOAD = ('__main__', 'torch', 'timm', 'mmengine.analysis', 'mmengine.config', 'mmdet.models', 'mmdet.structures',
           'mmdet_ghostnet')

# ------------------------------------------------------------------------------------------------ the models
TIMM_TRUNK = 'timm ghostnet_100 (blocks 0-8)'
MNV2 = 'mmdet MobileNetV2 1.0x'
BACKBONE_PEERS = {'timm': TIMM_TRUNK, 'MNv2': MNV2}
GHOSTNET_WIDTHS = (0.5, 1.0, 1.1, 1.3)

NECK_IN_CHANNELS = (28, 44, 124, 176)  # GhostNet(widen_factor=1.1).out_channels, strides 4/8/16/32
NECK_STRIDES = (4, 8, 16, 32)
NECK_SETTINGS: Dict[str, dict] = {
    'RetinaNet': dict(out_channels=256, start_level=1, add_extra_convs='on_input', num_outs=5),
    'Faster R-CNN': dict(out_channels=256, start_level=0, num_outs=5),
}

DETECTOR_CONFIGS = {
    'RetinaNet': 'configs/retinanet_ghostnet_fpn_coco.py',
    'Faster R-CNN': 'configs/faster-rcnn_ghostnet_fpn_coco.py',
}
MNV2_BODY = 'MobileNetV2 + FPN'
# Backbone + neck of each detector: None keeps the config's own (GhostNet 1.1x + GhostFPN); otherwise the backbone
# config and its out_channels, fed to an mmdet FPN with the config's other neck settings. Heads stay identical.
# Like the configs' GhostNet, the replacements freeze their stem and first stage and keep BatchNorms in eval mode.
DETECTOR_BODIES: Dict[str, Optional[Tuple[dict, List[int]]]] = {
    'GhostNet 1.1x + GhostFPN': None,
    MNV2_BODY: (dict(type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 7), frozen_stages=1,
                     norm_eval=True), [24, 32, 96, 1280]),
    'ResNet-50 + FPN': (dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                             norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True, style='pytorch',
                             init_cfg=None), [256, 512, 1024, 2048]),
}
NUM_GT_BOXES = 5


class TimmGhostNetTrunk(nn.Module):
    """timm's ``ghostnet_100`` through its stem and ``blocks.0-8``, returning the outputs of blocks 2, 4, 6 and 8.

    That is exactly the compute of our ``GhostNet(widen_factor=1.0)`` with its default taps ``(3, 5, 7, 9)``,
    which makes it the fair peer (timm's ``features_only`` taps blocks 1-4 as the first group of each stride).
    """

    TAPS = (2, 4, 6, 8)

    def __init__(self) -> None:
        super().__init__()
        import timm
        full = timm.create_model('ghostnet_100', pretrained=False)
        self.conv_stem, self.bn1, self.act1 = full.conv_stem, full.bn1, full.act1
        self.blocks = full.blocks[:self.TAPS[-1] + 1]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.act1(self.bn1(self.conv_stem(x)))
        outs = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.TAPS:
                outs.append(x)
        return tuple(outs)


def _timm_features() -> nn.Module:
    """timm's ``ghostnet_100`` with ``features_only=True, out_indices=(1, 2, 3, 4)`` (strides 4-32)."""
    import timm
    return timm.create_model('ghostnet_100', pretrained=False, features_only=True, out_indices=(1, 2, 3, 4))


def _build_registered(cfg: Mapping) -> nn.Module:
    """Build ``cfg`` from ``mmdet.registry.MODELS`` (with this plugin's ``GhostNet`` and ``GhostFPN`` registered)."""
    import mmdet_ghostnet  # noqa: F401  (registers GhostNet and GhostFPN)
    from mmdet.registry import MODELS
    return MODELS.build(cfg)


def _registered(**cfg: Any) -> Callable[[], nn.Module]:
    return partial(_build_registered, cfg)


def _build_detector(config: str, body: str) -> nn.Module:
    """The model of ``config``, its backbone and neck replaced as ``DETECTOR_BODIES[body]`` says."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / config)).model
    if DETECTOR_BODIES[body] is not None:
        backbone, in_channels = DETECTOR_BODIES[body]
        cfg.backbone = backbone
        cfg.neck = dict(cfg.neck, type='FPN', in_channels=in_channels)
    return _build_registered(cfg)


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked model: its row name, part, builder, peers (ratio label -> peer row name) and modes."""

    name: str
    part: str
    build: Callable[[], nn.Module]
    peers: Mapping[str, str] = field(default_factory=dict)
    deploy: bool = False  # fold BatchNorms into convs after initialisation (inference only)

    @property
    def modes(self) -> Tuple[str, ...]:
        return ('inference', ) if self.deploy else MODES


SPECS: Tuple[ModelSpec, ...] = (
    *(ModelSpec(f'GhostNet {w}x', 'backbone', _registered(type='GhostNet', widen_factor=w), BACKBONE_PEERS)
      for w in GHOSTNET_WIDTHS),
    ModelSpec('GhostNet 1.0x deploy', 'backbone', _registered(type='GhostNet', widen_factor=1.0), BACKBONE_PEERS,
              deploy=True),
    ModelSpec(MNV2, 'backbone', _registered(type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 7)),
              BACKBONE_PEERS),
    *(ModelSpec(f'mmdet ResNet-{depth}', 'backbone', _registered(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3)),
                BACKBONE_PEERS) for depth in (18, 50)),
    ModelSpec(TIMM_TRUNK, 'backbone', TimmGhostNetTrunk, BACKBONE_PEERS),
    ModelSpec('timm ghostnet_100 features_only (1-4)', 'backbone', _timm_features, BACKBONE_PEERS),
    *(ModelSpec(f'{neck} ({setting})', 'neck', _registered(type=neck, in_channels=list(NECK_IN_CHANNELS), **kwargs),
                {'FPN': f'FPN ({setting})'})
      for setting, kwargs in NECK_SETTINGS.items() for neck in ('GhostFPN', 'FPN')),
    *(ModelSpec(f'{detector} {body}', 'detector', partial(_build_detector, config, body),
                {'MNv2 det': f'{detector} {MNV2_BODY}'})
      for detector, config in DETECTOR_CONFIGS.items() for body in DETECTOR_BODIES),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
QUICK_MODELS = ('GhostNet 1.0x', 'GhostNet 1.0x deploy', TIMM_TRUNK, MNV2, 'GhostFPN (RetinaNet)', 'FPN (RetinaNet)',
                'RetinaNet GhostNet 1.1x + GhostFPN', f'RetinaNet {MNV2_BODY}')


def build_model(spec: ModelSpec) -> nn.Module:
    """Build ``spec``'s model under mmdet's default scope, initialise its weights, and fold it if ``deploy``."""
    from mmengine.model import BaseModule
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    model = spec.build()
    if isinstance(model, BaseModule):
        model.init_weights()
    if spec.deploy:
        from mmdet_ghostnet import fuse_for_deploy
        fuse_for_deploy(model)
    return model


# --------------------------------------------------------------------------------------------- the workloads
def padded(size: Size, multiple: int) -> Size:
    return tuple(-(-side // multiple) * multiple for side in size)


class Workload:
    """How the models of one part are fed, run, differentiated and traced for FLOPs (here: a backbone)."""

    pad = 1  # inputs are padded to a multiple of this
    body: Tuple[str, ...] = ()  # submodules whose cost is also reported on their own

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device) -> Any:
        return torch.randn(batch, 3, *padded(size, self.pad), device=device)

    def forward(self, model: nn.Module, inputs: Any) -> Any:
        return model(inputs)

    def loss(self, model: nn.Module, inputs: Any) -> Tensor:
        return sum(out.float().mean() for out in self.forward(model, inputs))

    def traced(self, model: nn.Module, inputs: Any) -> Tuple[nn.Module, tuple]:
        """The module and positional inputs for ``FlopAnalyzer``."""
        return model, (inputs, )


class NeckWorkload(Workload):
    """Random GhostNet 1.1x features of a padded image."""

    pad = 32

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device) -> Tuple[Tensor, ...]:
        height, width = padded(size, self.pad)
        return tuple(
            torch.randn(batch, channels, height // stride, width // stride, device=device)
            for channels, stride in zip(NECK_IN_CHANNELS, NECK_STRIDES))


class TensorForward(nn.Module):
    """A detector's raw tensor forward (backbone, neck, heads; no post-processing) as ``forward(x)``."""

    def __init__(self, detector: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.detector = detector
        self.data_samples = data_samples

    def forward(self, x: Tensor) -> Any:
        return self.detector._forward(x, self.data_samples)


class DetectorWorkload(Workload):
    """A padded random batch with ``DetDataSample``s holding image metainfo and a few random boxes."""

    pad = 32
    body = ('backbone', 'neck')

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device) -> Tuple[Tensor, list]:
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        head = model.bbox_head if hasattr(model, 'bbox_head') else model.roi_head.bbox_head
        pad_shape = padded(size, self.pad)
        scale = torch.tensor([size[1], size[0]], dtype=torch.float32)
        samples = []
        for _ in range(batch):
            corner = torch.rand(NUM_GT_BOXES, 2) * 0.6 * scale
            extent = (0.1 + 0.3 * torch.rand(NUM_GT_BOXES, 2)) * scale
            sample = DetDataSample(metainfo=dict(img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0),
                                                 pad_shape=pad_shape, batch_input_shape=pad_shape))
            sample.gt_instances = InstanceData(bboxes=torch.cat([corner, corner + extent], dim=1),
                                               labels=torch.randint(head.num_classes, (NUM_GT_BOXES, )))
            samples.append(sample.to(device))
        return torch.randn(batch, 3, *pad_shape, device=device), samples

    def forward(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Any:
        return model.predict(*inputs)

    def loss(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Tensor:
        return model.parse_losses(model.loss(*inputs))[0]

    def traced(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Tuple[nn.Module, tuple]:
        return TensorForward(model, inputs[1]), (inputs[0], )


WORKLOADS: Dict[str, Workload] = {'backbone': Workload(), 'neck': NeckWorkload(), 'detector': DetectorWorkload()}


# ------------------------------------------------------------------------------------ measuring (in a worker)
@dataclass(frozen=True)
class Settings:
    """What applies to every measurement of a run."""

    device: str
    threads: Optional[int]
    warmup: int
    repeats: int
    bf16_channels_last: bool


@dataclass(frozen=True)
class Job:
    """One timed measurement: a model at one size, batch and mode; variant 'eager', 'cuda-graph' or 'compile'."""

    model: str
    size: Size
    batch: int
    mode: str
    variant: str = 'eager'


def _prepare_worker(threads: Optional[int]) -> None:
    """Seed, thread count and quiet logs: the same starting point for every measurement."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('benchmark', log_level='ERROR')  # becomes 'current': hides init_weights messages
    warnings.filterwarnings('ignore')
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)


def _multiply_adds(counts: Mapping[str, int]) -> int:
    return counts.get('conv', 0) + counts.get('linear', 0)


def measure_cost(model_name: str, size: Size, threads: Optional[int]) -> Dict[str, Any]:
    """Params and FLOPs of ``model_name`` at batch 1 (always on CPU: the counts do not depend on the device)."""
    from mmengine.analysis import FlopAnalyzer, parameter_count
    _prepare_worker(threads)
    spec = SPECS_BY_NAME[model_name]
    workload = WORKLOADS[spec.part]
    model = build_model(spec)
    model.eval()
    module, inputs = workload.traced(model, workload.inputs(model, size, 1, torch.device('cpu')))
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
    if job.variant == 'compile':
        torch._dynamo.reset()  # in-process (CUDA) runs: earlier models' graphs would use up the recompile limit
    runner = torch.compile(model) if job.variant == 'compile' else model

    def inference_step() -> None:
        with torch.no_grad(), autocast():
            workload.forward(runner, inputs)

    return _capture_cuda_graph(inference_step) if job.variant == 'cuda-graph' else inference_step


def _time_runs(step: Callable[[], None], warmup: int, repeats: int, device: torch.device) -> List[float]:
    """Milliseconds of each of ``repeats`` calls of ``step`` after ``warmup`` untimed ones."""
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
        return [start.elapsed_time(end) for start, end in events]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def _to_channels_last(inputs: Any) -> Any:
    if isinstance(inputs, Tensor):
        return inputs.contiguous(memory_format=torch.channels_last) if inputs.dim() == 4 else inputs
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_to_channels_last(item) for item in inputs)
    return inputs


def measure_run(job: Job, settings: Settings) -> Dict[str, Any]:
    """Build the model of ``job``, then time it and track its peak memory; returns the row's measured fields."""
    _prepare_worker(settings.threads)
    device = torch.device(settings.device)
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels during the warm-up
    spec = SPECS_BY_NAME[job.model]
    workload = WORKLOADS[spec.part]
    model = build_model(spec).to(device)
    model.train(job.mode == 'train')  # not chained: some backbones' train() (mmdet's MobileNetV2) returns None
    inputs = workload.inputs(model, job.size, job.batch, device)
    if settings.bf16_channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = _to_channels_last(inputs)
    with PeakMemory(device) as memory:
        step = _make_step(workload, model, inputs, job, settings)
        times = _time_runs(step, settings.warmup, settings.repeats, device)
    p25, median, p75 = statistics.quantiles(times, n=4, method='inclusive') if len(times) > 1 else times * 3
    return dict(latency_median_ms=median, latency_p25_ms=p25, latency_p75_ms=p75, latency_iqr_ms=p75 - p25,
                latency_min_ms=min(times), throughput_img_s=job.batch / median * 1e3, peak_mem_mb=memory.peak_mib,
                memory_method=memory.method, latency_samples_ms=times)


# ------------------------------------------------------------------------------------------- running the jobs
Outcome = Tuple[Optional[Dict[str, Any]], Optional[str]]  # (result, error traceback)


def run_here(fn: Callable[..., Dict[str, Any]], *args: Any) -> Outcome:
    """Run ``fn(*args)`` in this process, catching its error."""
    try:
        return fn(*args), None
    except Exception:  # a failed measurement is reported, the run goes on
        return None, traceback.format_exc()


def _run_and_send(connection: Any, fn: Callable[..., Dict[str, Any]], *args: Any) -> None:
    connection.send(run_here(fn, *args))
    connection.close()


class IsolatedRunner:
    """Runs each job in a fresh process forked from a forkserver that preloaded ``PRELOAD``."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context('forkserver')
        self._context.set_forkserver_preload(list(PRELOAD))

    def __call__(self, fn: Callable[..., Dict[str, Any]], *args: Any) -> Outcome:
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_run_and_send, args=(sender, fn, *args), daemon=True)
        process.start()
        sender.close()
        try:
            outcome = receiver.recv()
        except EOFError:  # killed, e.g. by the kernel's OOM killer
            outcome = None
        process.join()
        return outcome or (None, f'worker process died with exit code {process.exitcode}')


def plan(specs: Sequence[ModelSpec], sizes: Sequence[Size], batch_sizes: Sequence[int], modes: Sequence[str],
         variants: Sequence[str]) -> List[Tuple[ModelSpec, Size, List[Job]]]:
    """Per model and size: the timed jobs (extra ``variants`` only for batch-1 backbone inference)."""
    work = []
    for spec in specs:
        for size in sizes:
            jobs = []
            for batch in batch_sizes:
                for mode in (m for m in modes if m in spec.modes):
                    jobs.append(Job(spec.name, size, batch, mode))
                    if spec.part == 'backbone' and mode == 'inference' and batch == 1:
                        jobs += [Job(spec.name, size, batch, mode, variant) for variant in variants]
            work.append((spec, size, jobs))
    return work


def size_text(size: Size) -> str:
    return f'{size[0]}x{size[1]}'


def _last_line(error: str) -> str:
    return error.strip().splitlines()[-1]


def run_all(work: List[Tuple[ModelSpec, Size, List[Job]]], settings: Settings,
            runner: Callable[..., Outcome]) -> List[Dict[str, Any]]:
    """Run every cost and timed job in order, printing one line each; returns one row per timed job."""
    total = sum(1 + len(jobs) for _, _, jobs in work)
    done = 0
    rows = []

    def progress(what: str, error: Optional[str], text: Callable[[], str]) -> None:
        print(f'[{done:>{len(str(total))}}/{total}] {what}: {f"FAILED: {_last_line(error)}" if error else text()}',
              flush=True)

    for spec, size, jobs in work:
        done += 1
        cost, error = runner(measure_cost, spec.name, size, settings.threads)
        progress(f'{spec.name} | {size_text(size)} cost', error,
                 lambda: f"{cost['params'] / 1e6:.2f} M params, {cost['flops_mac'] / 1e9:.3f} GMAC "
                 f"({cost['flops_all'] / 1e9:.3f} GFLOP all)")
        cost = cost or dict(cost_error=error)
        for job in jobs:
            done += 1
            measured, error = runner(measure_run, job, settings)
            row = dict(part=spec.part, model=spec.name, size=size_text(size),
                       input=size_text(padded(size, WORKLOADS[spec.part].pad)), batch=job.batch, mode=job.mode,
                       variant=job.variant, **cost, **(measured or dict(error=error)))
            rows.append(row)
            progress(f'{spec.name} | {size_text(size)} b{job.batch} {job.mode} {job.variant}', error,
                     lambda: f"{row['latency_median_ms']:.2f} ms (p25-p75 {row['latency_p25_ms']:.2f}-"
                     f"{row['latency_p75_ms']:.2f}), {row['throughput_img_s']:.1f} img/s, "
                     f"peak +{row['peak_mem_mb']:.0f} MiB")
    return rows


# --------------------------------------------------------------------------------------------- the report
def _key(row: Mapping[str, Any]) -> Tuple:
    return row['model'], row['size'], row['batch'], row['mode'], row['variant']


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return numerator / denominator if numerator is not None and denominator else None


def add_ratios(rows: List[Dict[str, Any]]) -> None:
    """Per row: ``ratios[label]`` against each peer at the same size/batch/mode/variant; ``gain_vs_eager``."""
    index = {_key(row): row for row in rows}
    for row in rows:
        row['ratios'] = {}
        for label, peer in SPECS_BY_NAME[row['model']].peers.items():
            other = index.get((peer, ) + _key(row)[1:], {})
            row['ratios'][label] = dict(
                peer=peer, **{metric: _ratio(row.get(field_), other.get(field_))
                              for metric, field_ in (('latency', 'latency_median_ms'), ('flops_mac', 'flops_mac'),
                                                     ('params', 'params'))})
        if row['variant'] != 'eager':
            eager = index.get(_key(row)[:4] + ('eager', ), {})
            row['gain_vs_eager'] = _ratio(eager.get('latency_median_ms'), row.get('latency_median_ms'))


def _fmt(value: Optional[float], spec: str, scale: float = 1.0) -> str:
    return '-' if value is None else format(value / scale, spec)


# Table columns: header and how a row shows in it.
COLUMNS: Tuple[Tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ('model', lambda r: r['model']),
    ('input', lambda r: r['input']),
    ('bs', lambda r: str(r['batch'])),
    ('mode', lambda r: r['mode'] if r['variant'] == 'eager' else f"{r['mode']}+{r['variant']}"),
    ('params M', lambda r: _fmt(r.get('params'), '.2f', 1e6)),
    ('GMAC', lambda r: _fmt(r.get('flops_mac'), '.3f', 1e9)),
    ('GFLOP all', lambda r: _fmt(r.get('flops_all'), '.3f', 1e9)),
    ('bb+neck GMAC', lambda r: _fmt(r.get('flops_mac_backbone_neck'), '.3f', 1e9)),
    ('median ms', lambda r: _fmt(r.get('latency_median_ms'), '.2f')),
    ('p25-p75 ms', lambda r: '-' if 'error' in r else f"{r['latency_p25_ms']:.2f}-{r['latency_p75_ms']:.2f}"),
    ('img/s', lambda r: _fmt(r.get('throughput_img_s'), '.1f')),
    ('peak MiB', lambda r: _fmt(r.get('peak_mem_mb'), '.0f')),
    ('x eager', lambda r: _fmt(r.get('gain_vs_eager'), '.2f')),
)


def _latency_ratio_column(label: str) -> Tuple[str, Callable[[Mapping[str, Any]], str]]:
    return f't/{label}', lambda r: _fmt(r['ratios'].get(label, {}).get('latency'), '.2f')


def _failures(row: Mapping[str, Any]) -> List[str]:
    return [_last_line(row[key]) for key in ('cost_error', 'error') if key in row]


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Aligned table of ``rows`` with a latency ratio column per peer label; columns empty for all rows dropped."""
    labels = dict.fromkeys(label for row in rows for label in row['ratios'])
    columns = list(COLUMNS) + [_latency_ratio_column(label) for label in labels]
    cells = [[show(row) for _, show in columns] for row in rows]
    keep = [i for i in range(len(columns)) if any(line[i] != '-' for line in cells)]
    table = [[columns[i][0] for i in keep]] + [[line[i] for i in keep] for line in cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(keep))]
    text = ['  '.join([line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])])
            for line in table]
    text.insert(1, '-' * len(text[0]))
    failures = dict.fromkeys(f"  FAILED {row['model']} {row['size']} b{row['batch']} {row['mode']}: {failure}"
                             for row in rows for failure in _failures(row))
    return '\n'.join(text + list(failures))


@dataclass(frozen=True)
class Target:
    """``metric(numerator) / metric(denominator)`` must be ``<=`` or ``>=`` ``limit``."""

    name: str
    numerator: str
    denominator: str
    metric: str  # 'latency_median_ms' (batch 1, eager inference) or a cost field
    op: str
    limit: float
    also: Optional[Tuple[str, str]] = None  # (metric, label) of a second ratio reported alongside


TARGETS = (
    Target('GhostNet 1.0x eager latency / timm blocks 0-8', 'GhostNet 1.0x', TIMM_TRUNK, 'latency_median_ms', '<=',
           1.0),
    Target('GhostNet 1.0x deploy speed-up over timm blocks 0-8', TIMM_TRUNK, 'GhostNet 1.0x deploy',
           'latency_median_ms', '>=', 1.25),
    *(Target(f'{det}: GhostNet 1.1x+GhostFPN / MobileNetV2+FPN backbone+neck MACs',
             f'{det} GhostNet 1.1x + GhostFPN', f'{det} {MNV2_BODY}', 'flops_mac_backbone_neck', '<=', 0.5,
             also=('flops_mac', 'whole detector MACs')) for det in DETECTOR_CONFIGS),
    *(Target(f'GhostFPN / FPN MACs ({setting})', f'GhostFPN ({setting})', f'FPN ({setting})', 'flops_mac', '<=', 0.25)
      for setting in NECK_SETTINGS),
    *(Target(f'GhostNet {w}x / MobileNetV2 latency', f'GhostNet {w}x', MNV2, 'latency_median_ms', '<=', 1.0)
      for w in (1.0, 1.1)),
)
METRIC_UNITS = {'latency_median_ms': (1.0, 'ms'), 'flops_mac': (1e9, 'GMAC'), 'flops_mac_backbone_neck': (1e9, 'GMAC')}


def evaluate_targets(rows: Sequence[Mapping[str, Any]], size: str) -> List[Dict[str, Any]]:
    """PASS / FAIL / SKIP of every target at ``size``, batch 1, eager inference."""
    index = {_key(row): row for row in rows}
    results = []
    for target in TARGETS:
        pair = [index.get((model, size, 1, 'inference', 'eager'), {}) for model in (target.numerator,
                                                                                    target.denominator)]
        value = _ratio(pair[0].get(target.metric), pair[1].get(target.metric))
        result = dict(asdict(target), size=size, value=value, status='SKIP', detail='not measured in this run')
        if value is not None:
            passed = value <= target.limit if target.op == '<=' else value >= target.limit
            scale, unit = METRIC_UNITS[target.metric]
            result['status'] = 'PASS' if passed else 'FAIL'
            result['detail'] = (f'{value:.3f} (needed {target.op} {target.limit}) = '
                                f'{pair[0][target.metric] / scale:.3f} / {pair[1][target.metric] / scale:.3f} {unit}')
            if target.also:
                metric, label = target.also
                result['also_value'] = _ratio(pair[0].get(metric), pair[1].get(metric))
                result['detail'] += f"; {label}: {_fmt(result['also_value'], '.3f')}"
        results.append(result)
    return results


def machine_info(settings: Settings) -> Dict[str, Any]:
    """CPU, cores, library versions, device, threads and the date, for the header and the JSON."""
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            cpu = next(line.split(':', 1)[1].strip() for line in cpuinfo if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    info = dict(cpu=cpu, logical_cores=os.cpu_count(), usable_cores=usable,
                python=platform.python_version(), torch=torch.__version__,
                **{name: metadata.version(name) for name in ('mmcv', 'mmengine', 'mmdet', 'timm')},
                device=settings.device, threads=torch.get_num_threads(), load_average_1min=os.getloadavg()[0],
                date=datetime.datetime.now().isoformat(timespec='seconds'))
    if settings.device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info


def write_outputs(path: Path, report: Dict[str, Any]) -> None:
    """The report as JSON at ``path`` and its rows (without raw samples) as CSV next to it."""
    path.write_text(json.dumps(report, indent=2))
    flat = []
    for row in report['rows']:
        line = {k: v for k, v in row.items() if k not in ('ratios', 'latency_samples_ms')}
        for label, ratio in row['ratios'].items():
            line.update({f'ratio_{label}_{metric}': ratio[metric] for metric in ('latency', 'flops_mac', 'params')})
        flat.append(line)
    with open(path.with_suffix('.csv'), 'w', newline='') as stream:
        writer = csv.DictWriter(stream, fieldnames=list(dict.fromkeys(k for line in flat for k in line)))
        writer.writeheader()
        writer.writerows(flat)


def plot_backbones(rows: Sequence[Mapping[str, Any]], path: Path) -> Optional[str]:
    """Latency against MACs of every backbone (largest size, batch 1, eager inference); returns the size used."""
    points = [r for r in rows if r['part'] == 'backbone' and r['batch'] == 1 and r['mode'] == 'inference'
              and r['variant'] == 'eager' and 'error' not in r and 'flops_mac' in r]
    if not points:
        return None
    largest = max({r['size'] for r in points}, key=lambda s: int(s.split('x')[0]) * int(s.split('x')[1]))
    points = [r for r in points if r['size'] == largest]
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt
    figure, axes = plt.subplots(figsize=(9, 5.5))
    markers = 'osD^vP*Xhp<>'
    for number, row in enumerate(points):
        axes.scatter(row['flops_mac'] / 1e9, row['latency_median_ms'], s=60, marker=markers[number % len(markers)],
                     color=plt.get_cmap('tab10')(number % 10), label=row['model'])
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xlabel('GMAC (conv + linear multiply-adds, batch 1, log scale)')
    axes.set_ylabel('median latency, ms (log scale)')
    axes.set_title(f"Backbones at {largest}, batch 1 eager inference, {points[0]['device']}")
    axes.grid(alpha=0.3, which='both')
    axes.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.02, 0.5))  # names without overlapping labels
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return largest


# ----------------------------------------------------------------------------------------------------- the CLI
def _size_arg(text: str) -> Size:
    match = re.fullmatch(r'(\d+)[xX](\d+)', text.strip())
    if not match or 0 in (int(match[1]), int(match[2])):
        raise argparse.ArgumentTypeError(f'invalid size {text!r}: expected HxW with positive integers, e.g. 800x1333')
    return int(match[1]), int(match[2])


def _int_arg(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f'invalid value {text!r}: expected an integer >= {minimum}')
        return value

    return parse


def _writable_file(text: str) -> Path:
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f'invalid path {text!r}: folder {str(path.parent)!r} does not exist')
    return path


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS), help='what to measure')
    parser.add_argument('--models', nargs='+', metavar='TEXT',
                        help='only rows whose name contains one of these (case-insensitive); peers are added')
    parser.add_argument('--sizes', nargs='+', type=_size_arg, metavar='HxW',
                        help='input sizes (default 320x320 640x640 800x1333)')
    parser.add_argument('--batch-sizes', nargs='+', type=_int_arg(1), metavar='N', help='default 1 8')
    parser.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES))
    parser.add_argument('--repeats', type=_int_arg(1), help='timed runs per measurement (default 20)')
    parser.add_argument('--warmup', type=_int_arg(0), help='untimed runs before them (default 5)')
    parser.add_argument('--device', choices=('cpu', 'cuda'), help='default: cuda if available, else cpu')
    parser.add_argument('--threads', type=_int_arg(1), help='torch.set_num_threads (default: torch\'s choice)')
    parser.add_argument('--bf16-channels-last', action='store_true', help='autocast to bfloat16, channels-last')
    parser.add_argument('--cuda-graph', action='store_true', help='also batch-1 backbone inference in a CUDA graph')
    parser.add_argument('--compile', action='store_true', help='also batch-1 backbone inference with torch.compile')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: 64x64, batch 1, warmup 1, repeats 2, 1 thread, a few models (explicit '
                        'options win)')
    parser.add_argument('--out', type=_writable_file, metavar='FILE.json', help='write the report (and FILE.csv)')
    parser.add_argument('--plot', type=_writable_file, metavar='FILE.png', help='latency vs MACs of the backbones')
    args = parser.parse_args(argv)

    args.sizes = args.sizes or ([(64, 64)] if args.quick else list(DEFAULT_SIZES))
    args.batch_sizes = list(dict.fromkeys(args.batch_sizes or ([1] if args.quick else DEFAULT_BATCH_SIZES)))
    args.repeats = args.repeats or (2 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    args.threads = args.threads or (1 if args.quick else None)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    elif args.device == 'cuda' and not torch.cuda.is_available():
        parser.error("argument --device: invalid choice 'cuda': torch.cuda.is_available() is False")
    if args.cuda_graph and args.device != 'cuda':
        parser.error(f'argument --cuda-graph: needs --device cuda (device is {args.device!r})')
    args.specs = _select(parser, args)
    return args


def _select(parser: argparse.ArgumentParser, args: argparse.Namespace) -> List[ModelSpec]:
    """The specs of ``--parts`` matching ``--models`` (or the quick set), plus their peers, in table order."""
    candidates = [spec for spec in SPECS if spec.part in args.parts]
    if args.models:
        for pattern in args.models:
            if not any(pattern.lower() in spec.name.lower() for spec in candidates):
                parser.error(f'argument --models: {pattern!r} matches no model of parts {", ".join(args.parts)}; '
                             f'models: {", ".join(spec.name for spec in candidates)}')
        chosen = {s.name for s in candidates if any(p.lower() in s.name.lower() for p in args.models)}
    else:
        chosen = {s.name for s in candidates if not args.quick or s.name in QUICK_MODELS}
    chosen |= {peer for name in chosen for peer in SPECS_BY_NAME[name].peers.values()}
    return [spec for spec in candidates if spec.name in chosen]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = Settings(args.device, args.threads, args.warmup, args.repeats, args.bf16_channels_last)
    variants = [name for name, wanted in (('cuda-graph', args.cuda_graph), ('compile', args.compile)) if wanted]
    machine = machine_info(settings)
    isolated = settings.device == 'cpu'
    print(f"mmdet-ghostnet benchmark, {machine['date']}\n"
          f"machine: {machine['cpu']}, {machine['logical_cores']} logical cores ({machine['usable_cores']} usable)"
          f"{', GPU ' + machine['gpu'] if 'gpu' in machine else ''}\n"
          f"software: python {machine['python']}, torch {machine['torch']}, mmcv {machine['mmcv']}, "
          f"mmengine {machine['mmengine']}, mmdet {machine['mmdet']}, timm {machine['timm']}\n"
          f"device: {settings.device}, threads: {machine['threads']}, "
          f"{'bf16 autocast + channels-last' if settings.bf16_channels_last else 'fp32'}, "
          f"variants: {', '.join(['eager'] + variants)}\n"
          f"runs: warmup {settings.warmup}, repeats {settings.repeats}; memory: "
          f"{'one fresh process per measurement, peak RSS' if isolated else 'CUDA allocator peak'} "
          f"above the post-build baseline\n"
          f"sizes: {' '.join(map(size_text, args.sizes))}; batch sizes: {' '.join(map(str, args.batch_sizes))}; "
          f"modes: {' '.join(args.modes)}\n"
          f"models: {', '.join(spec.name for spec in args.specs)}", flush=True)
    if machine['threads'] > 1 and machine['load_average_1min'] > 0.5 * machine['usable_cores']:
        print(f"WARNING: load average {machine['load_average_1min']:.1f} on {machine['usable_cores']} cores before "
              f"starting: other processes compete for the cores, and OpenMP threads that spin-wait for a descheduled "
              f"sibling can make small ops orders of magnitude slower (use --threads 1, or OMP_WAIT_POLICY=PASSIVE)")
    print(flush=True)

    work = plan(args.specs, args.sizes, args.batch_sizes, args.modes, variants)
    rows = run_all(work, settings, IsolatedRunner() if isolated else run_here)
    for row in rows:
        row['device'] = settings.device
    add_ratios(rows)

    for part in PARTS:
        part_rows = [row for row in rows if row['part'] == part]
        if part_rows:
            print(f'\n== {part}s ({settings.device}; t/X = median latency / that of peer X) ==')
            print(format_table(part_rows))

    target_size = TARGET_SIZE if TARGET_SIZE in args.sizes else max(args.sizes, key=lambda s: s[0] * s[1])
    targets = evaluate_targets(rows, size_text(target_size))
    print(f'\n== targets at {size_text(target_size)}, batch 1, eager inference, {settings.device} ==')
    for target in targets:
        print(f"{target['status']:<4}  {target['name']}: {target['detail']}")

    if args.out:
        write_outputs(args.out, dict(machine=machine, settings=dict(asdict(settings), sizes=list(map(
            size_text, args.sizes)), batch_sizes=args.batch_sizes, modes=args.modes, variants=variants), rows=rows,
                                     targets=targets))
        print(f'\nwrote {args.out} and {args.out.with_suffix(".csv")}')
    if args.plot:
        plotted = plot_backbones(rows, args.plot)
        print(f'wrote {args.plot} (backbones at {plotted})' if plotted else 'no backbone rows to plot')
    return 1 if any(_failures(row) for row in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
