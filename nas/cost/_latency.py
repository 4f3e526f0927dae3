"""Measured latency of a model: warm-up, then a robust statistic over repeated runs, in this
process or in fresh worker processes (:mod:`nas.cost._worker`)."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nas._allocator import keep_freed_memory
from nas.arch import ArchConfig
from nas.cost._fingerprint import device_kind
from nas.errors import NasError

__all__ = [
    "Latency", "check_timing", "measure_latency", "minor_faults", "quartiles", "seeded",
    "time_call", "time_model", "timing_threads",
]


@dataclass(frozen=True)
class Latency:
    """Milliseconds per forward pass. ``median_ms``: the median of the timings (in one process),
    or the median of the per-process medians (``processes >= 1``, listed in
    ``process_medians``); ``q1_ms``/``q3_ms``: the quartiles of all ``runs`` timings."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    runs: int
    device: str
    threads: int
    batch: int
    process_medians: tuple[float, ...] = ()
    faults_per_pass: float | None = None  # minor page faults per timed pass (CPU, mean)
    process_cpu_ms: tuple[float, ...] = ()  # CPU time per timed pass, each process (all threads)

    @property
    def spread_ms(self) -> float:
        return self.q3_ms - self.q1_ms

    @property
    def repeat_spread(self) -> float:
        """(max - min) / median of the per-process medians: how far fresh-process repeats of
        the measurement disagree (0 when measured in one process)."""
        m = self.process_medians
        return (max(m) - min(m)) / self.median_ms if len(m) > 1 else 0.0

    @property
    def cpu_repeat_spread(self) -> float:
        """(max - min) / median of the processes' CPU time per pass: how far the work done per
        pass differs between repeats. Other processes time-slicing the cores lengthen the
        wall-clock timings, not this; extra page faults, cache misses or spinning do."""
        m = self.process_cpu_ms
        return (max(m) - min(m)) / statistics.median(m) if len(m) > 1 else 0.0


def measure_latency(
    model: nn.Module | ArchConfig, input_size: tuple[int, int] = (512, 512),
    device: str = "cpu", threads: int = 2, batch: int = 1, warmup: int = 5, runs: int = 20,
    processes: int = 0, affinity: Sequence[int] | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Latency:
    """Time ``model`` (a module, or an ArchConfig built with seed 0) in eval mode under
    ``inference_mode``. CPU: a fixed thread count (restored afterwards), the allocator set to
    keep freed memory (:func:`nas.keep_freed_memory`; without it every pass page-faults its
    activations in again, the main source of run-to-run noise). CUDA: CUDA events with
    synchronisation. ``ort-cpu``: its ONNX graph in an onnxruntime session with ``threads``
    intra-op threads (:func:`~nas.cost.time_module`).

    ``processes=0`` times in this process. ``processes=k`` times in k fresh Python processes,
    one after the other (each warms up, then times ``runs`` passes; ``affinity`` pins them to
    those CPUs): what the process did before, which units it profiled and what its allocator
    holds cannot leak into the figure, and ``repeat_spread`` says how far the repeats agree.
    The workers run in one controlled environment (:func:`nas._timing_env.timing_env`: huge
    pages for big tensors, OpenMP's threads spinning); ``env`` changes it for an experiment
    (``{"OMP_WAIT_POLICY": "PASSIVE"}``; a None value removes a name)."""
    check_timing(warmup, runs, threads, device)
    if batch < 1:
        raise NasError(f"batch must be >= 1, got {batch}")
    if processes < 0:
        raise NasError(f"processes must be >= 0, got {processes}")
    if env and not processes:
        raise NasError("env changes the fresh worker processes' environment: give processes >= 1")
    if processes:
        from nas.cost._worker import time_in_fresh_processes

        per = time_in_fresh_processes(model, input_size, device, threads, batch, warmup, runs,
                                      processes, affinity, env)
        times = [t for p in per for t in p["times"]]
        medians = tuple(statistics.median(p["times"]) for p in per)
        faults = [p["faults"] for p in per if p.get("faults") is not None]
        cpu = tuple(p["cpu_ms"] for p in per if p.get("cpu_ms") is not None)
        q = quartiles(times)
        return Latency(statistics.median(medians), q[0], q[2], len(times), device, threads,
                       batch, medians, sum(faults) / len(times) if len(faults) == len(per)
                       else None, cpu if len(cpu) == len(per) else ())
    counted: list[int] = []
    times = time_model(model, input_size, device, threads, batch, warmup, runs, faults=counted)
    q = quartiles(times)
    return Latency(statistics.median(times), q[0], q[2], runs, device, threads, batch,
                   faults_per_pass=counted[0] / runs if counted else None)


def time_model(model: nn.Module | ArchConfig, input_size: tuple[int, int], device: str,
               threads: int, batch: int, warmup: int, runs: int,
               faults: list[int] | None = None, cpu: list[float] | None = None) -> list[float]:
    """``runs`` timings (ms) of ``model`` in this process, after ``warmup`` untimed passes.
    On a POSIX CPU, the minor page faults of the timed passes are appended to ``faults``; the
    process CPU time of the timed passes (ms) to ``cpu``."""
    if device in ("cpu", "ort-cpu"):
        keep_freed_memory()  # before the model is built: its weights too come from the heap
    if isinstance(model, ArchConfig):
        from nas.models import build_model

        with seeded(0, device):
            model = build_model(model)
    from nas.cost._runtime import tensor_device, time_module

    where = tensor_device(device)
    with seeded(0, where):
        x = torch.randn(batch, 3, *input_size, device=where)
    return time_module(model, (x,), device, threads, warmup, runs, faults, cpu=cpu)


def minor_faults() -> int | None:
    """This process's minor page faults so far (None where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def quartiles(times: list[float]) -> list[float]:
    """[q1, median, q3] of ``times`` ("inclusive": within the timings even for very few)."""
    return (statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1
            else [times[0]] * 3)


def check_timing(warmup: int, runs: int, threads: int, device: str = "cpu") -> None:
    """NasError for a device that is unknown (not cpu, ort-cpu, cuda or cuda:N) or not there, or
    counts that cannot time anything."""
    device_kind(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NasError(f"device {device!r} asked for, but no CUDA GPU is available; "
                       "use --device cpu")
    if threads < 1 or runs < 1 or warmup < 0:
        raise NasError("threads and runs must be >= 1 and warmup >= 0")


@contextlib.contextmanager
def timing_threads(device: str, threads: int) -> Iterator[None]:
    """On CPU, ``threads`` intra-op threads for the block; the caller's count is restored."""
    prev = torch.get_num_threads()
    try:
        if device == "cpu":
            torch.set_num_threads(threads)
        yield
    finally:
        torch.set_num_threads(prev)


@contextlib.contextmanager
def seeded(seed: int, device: str = "cpu") -> Iterator[None]:
    """``torch.manual_seed(seed)`` inside the block only: the caller's RNG state (CPU and, when
    timing on CUDA, that device) is restored afterwards (``torch.random.fork_rng``)."""
    devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.manual_seed(seed)
        yield


def time_call(call: Callable[[], Any], device: str) -> float:
    """Milliseconds one ``call()`` takes. On CUDA, work already queued is finished before the
    clock starts and the call's own work before it stops (CUDA events)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        call()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)
    t0 = time.perf_counter()
    call()
    return (time.perf_counter() - t0) * 1e3
