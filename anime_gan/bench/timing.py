"""Timing with torch's own tool, ``torch.utils.benchmark.Timer``, on CPU and GPU alike (its clock
synchronises the GPU, so a block of calls is queued back to back and timed as a whole).

Every figure is a median over repeats after a warm-up call (which also absorbs one-off costs:
oneDNN kernel selection, cuDNN autotuning, torch.compile). Peak memory is the CUDA allocator's
peak on a GPU and the process's peak resident size on CPU (``getrusage``: it never goes down,
so on CPU it is the peak of everything measured so far, in the order the suite runs).

Own code only where Timer stops: the warm-up call, single calls for slow steps, the sync
count and the memory figures.
"""

import contextlib
import os
import platform
import resource
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.benchmark import Measurement, Timer


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued work (nothing to wait for on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(
    fn: Callable[[], Any], device: torch.device, min_run_time: float, max_repeats: int
) -> dict[str, float]:
    """Seconds per ``fn()`` call: the median and interquartile range over the timed runs
    (torch's ``Measurement``).

    One warm-up call first, then one timed call. A call longer than ``min_run_time`` is timed
    ``max_repeats`` times in all, one call at a time (a 128 px batch of 64 takes seconds on 2
    cores); a shorter one with ``blocked_autorange`` for at least ``min_run_time`` seconds. The
    Timer uses torch's current thread count (its default would be one thread). The CUDA peak
    memory is reset first, so :func:`peak_memory_mib` after it is this figure's.
    """
    reset_peak_memory(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    warmup = time.perf_counter() - start
    timer = Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    timed = timer.timeit(1)  # a warm call decides (the warm-up carries one-off costs)
    if timed.median >= min_run_time:
        timed = Measurement.merge([timed] + [timer.timeit(1) for _ in range(max_repeats - 1)])[0]
    else:
        timed = timer.blocked_autorange(min_run_time=min_run_time)
    return {
        "median_s": timed.median,
        "iqr_s": timed.iqr,
        "runs": len(timed.times),
        "warmup_s": warmup,
    }


@contextlib.contextmanager
def counting_host_syncs() -> Iterator[list[int]]:
    """Counts the host-GPU synchronisations (``.item()``, blocking copies) while open, as the
    warnings of CUDA's sync debug mode; the count is appended to the yielded list on closing."""
    count: list[int] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            yield count
        finally:
            torch.cuda.set_sync_debug_mode("default")
    count.append(sum("synchroniz" in str(w.message).lower() for w in caught))


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mib(device: torch.device) -> dict[str, Any]:
    """The peak memory figure of the device and what it measures."""
    if device.type == "cuda":
        return {
            "peak_mib": torch.cuda.max_memory_allocated(device) / 2**20,
            "scope": "torch.cuda.max_memory_allocated since this figure started",
        }
    return {
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scope": "process peak resident size (getrusage maxrss) up to this figure",
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info(device: torch.device) -> dict[str, Any]:
    """What ran the benchmark: CPU, cores, load, torch, and the GPU when there is one."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "loadavg_1_5_15": list(os.getloadavg()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
    }
    if device.type == "cuda":
        info.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return info


def row_key(
    name: str, model: dict[str, Any], device: torch.device, variant: str, batch: int
) -> dict[str, Any]:
    """The columns that name a bench row: model, resolution, device, variant, batch."""
    return {
        "model": name,
        "resolution": int(model["resolution"]),
        "device": device.type,
        "variant": variant,
        "batch": batch,
    }
