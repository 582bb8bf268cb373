"""Planning and running the measurements of a benchmark, in this process or each in a fresh one.

On CPU every measurement runs in a fresh process forked from a forkserver that has already imported torch, mmdet
and timm (a cold interpreter per measurement would spend about 6 s importing). A fresh process per measurement
keeps memory that glibc or the allocator kept from earlier models out of the peak-memory numbers. On CUDA
everything runs in this process.
"""
from __future__ import annotations

import multiprocessing
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .measure import RUNTIME_VARIANTS, Job, Settings, measure_cost, measure_run
from .models import ModelSpec
from .workloads import WORKLOADS, Size, padded, size_text

# Modules the forkserver imports once, so that every forked measurement process starts warm.
PRELOAD = ('torch', 'timm', 'mmengine.analysis', 'mmengine.config', 'mmdet.models', 'mmdet.structures',
           'mmdet_ghostnet', 'mmdet_ghostnet.benchmark.measure')
Outcome = Tuple[Optional[Dict[str, Any]], Optional[str]]  # (result, error traceback)
Work = List[Tuple[ModelSpec, Size, List[Job]]]
# The parts each extra variant also measures (RUNTIME_VARIANTS: at every batch size; the others: batch 1).
VARIANT_PARTS = {'cuda-graph': ('backbone', ), 'compile': ('backbone', ),
                 **{variant: ('backbone', 'detector') for variant in RUNTIME_VARIANTS}}


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


def _exports_as_its_twin(spec: ModelSpec, variant: str, names: Set[str]) -> bool:
    """Whether ``spec`` is a deploy row whose as-built row is also measured: the ONNX export folds BatchNorms
    itself, so both rows give the runtime the same graph, which is timed once (on the as-built row)."""
    return variant in RUNTIME_VARIANTS and spec.deploy and spec.name.removesuffix(' deploy') in names


def plan(specs: Sequence[ModelSpec], sizes: Sequence[Size], batch_sizes: Sequence[int], modes: Sequence[str],
         variants: Sequence[str]) -> Work:
    """Per model and size: the timed jobs (extra ``variants`` for the inference of ``VARIANT_PARTS``: at batch 1,
    or at every batch size for ``RUNTIME_VARIANTS``)."""
    names = {spec.name for spec in specs}
    work = []
    for spec in specs:
        for size in sizes:
            jobs = []
            for batch in batch_sizes:
                for mode in (m for m in modes if m in spec.modes):
                    jobs.append(Job(spec.name, size, batch, mode))
                    if mode == 'inference':
                        jobs += [Job(spec.name, size, batch, mode, variant) for variant in variants
                                 if spec.part in VARIANT_PARTS[variant] and (batch == 1 or variant in RUNTIME_VARIANTS)
                                 and not _exports_as_its_twin(spec, variant, names)]
            work.append((spec, size, jobs))
    return work


def last_line(error: str) -> str:
    """The last line of a traceback: the exception and its message."""
    return error.strip().splitlines()[-1]


def run_all(work: Work, settings: Settings, runner: Callable[..., Outcome]) -> List[Dict[str, Any]]:
    """Run every cost and timed job in order, printing one line each; returns one row per timed job."""
    total = sum(1 + len(jobs) for _, _, jobs in work)
    done = 0
    rows = []

    def progress(what: str, error: Optional[str], text: Callable[[], str]) -> None:
        print(f'[{done:>{len(str(total))}}/{total}] {what}: {f"FAILED: {last_line(error)}" if error else text()}',
              flush=True)

    for spec, size, jobs in work:
        done += 1
        cost, error = runner(measure_cost, spec.name, size, settings)
        progress(f'{spec.name} | {size_text(size)} cost', error,
                 lambda: f"{cost['params'] / 1e6:.2f} M params, {cost['flops_mac'] / 1e9:.3f} GMAC "
                 f"({cost['flops_all'] / 1e9:.3f} GFLOP all)")
        cost = cost or dict(cost_error=error)
        for job in jobs:
            done += 1
            measured, error = runner(measure_run, job, settings)
            row = dict(part=spec.part, model=spec.name, size=size_text(size),
                       input=size_text(padded(size, WORKLOADS[spec.part].pad)), batch=job.batch, mode=job.mode,
                       variant=job.variant, checkpoint=settings.checkpoint_for(spec.name), **cost,
                       **(measured or dict(error=error)))
            rows.append(row)
            progress(f'{spec.name} | {size_text(size)} b{job.batch} {job.mode} {job.variant}', error,
                     lambda: f"{row['latency_median_ms']:.2f} ms (p25-p75 {row['latency_p25_ms']:.2f}-"
                     f"{row['latency_p75_ms']:.2f}), {row['throughput_img_s']:.1f} img/s, "
                     f"peak +{row['peak_mem_mb']:.0f} MiB")
    return rows
