"""glibc's allocator setting for CPU work: keep freed memory for reuse instead of returning it to the kernel.

By default glibc serves large blocks (a feature map of a few MiB) with ``mmap`` and unmaps them when freed, and
trims the top of its heap, so every forward and backward pass faults its activations in again as fresh zeroed
pages: 23-53% of a CPU forward pass in the benchmark (docs/benchmarks.md). How many blocks take that path depends
on the order and sizes of earlier allocations (glibc's threshold adapts), not on the model's compute. With
``mmap`` off and trimming disabled, warm iterations reuse the heap and fault in nothing; the process keeps its
peak memory. ``tools/train.py`` and ``tools/test.py`` do this by default (``--no-keep-freed-memory`` leaves
glibc's default), ``tools/benchmark.py`` with ``--keep-freed-memory``. It changes no result: only where memory
comes from.
"""
import ctypes
import ctypes.util

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
LARGEST_TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory() -> None:
    """Switch glibc's ``mmap`` for large blocks off and never trim the heap, for this process and the processes
    it forks from now on (data loader workers). Raises ``RuntimeError`` where glibc's ``mallopt`` is missing or
    refuses."""
    library = ctypes.util.find_library('c')
    mallopt = getattr(ctypes.CDLL(library), 'mallopt', None) if library else None
    if mallopt is None or not (mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, LARGEST_TRIM_THRESHOLD)):
        raise RuntimeError('keeping freed memory needs glibc\'s mallopt (M_MMAP_MAX, M_TRIM_THRESHOLD), which is '
                           f'missing or failed (C library: {library!r}); run with --no-keep-freed-memory')
