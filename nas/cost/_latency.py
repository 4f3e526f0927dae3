"""Measured latency of a model: warm-up, then a robust statistic over repeated runs."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nas.cost._fingerprint import device_kind
from nas.errors import NasError

__all__ = ["Latency", "check_timing", "measure_latency", "seeded", "time_call", "timing_threads"]


@dataclass(frozen=True)
class Latency:
    """Milliseconds per forward pass: median and inter-quartile range over ``runs`` timings."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    runs: int
    device: str
    threads: int
    batch: int

    @property
    def spread_ms(self) -> float:
        return self.q3_ms - self.q1_ms


def measure_latency(
    model: nn.Module, input_size: tuple[int, int] = (512, 512), device: str = "cpu",
    threads: int = 2, batch: int = 1, warmup: int = 5, runs: int = 20,
) -> Latency:
    """Time ``model`` in eval mode under ``inference_mode``. CPU: a fixed thread count (restored
    afterwards). CUDA: CUDA events with synchronisation. ``ort-cpu``: its ONNX graph in an
    onnxruntime session with ``threads`` intra-op threads (:func:`~nas.cost.time_module`)."""
    if device == "ort-cpu":
        from nas.cost._runtime import model_latency

        return model_latency(model, input_size, device, threads, batch, warmup, runs)
    check_timing(warmup, runs, threads, device)
    if batch < 1:
        raise NasError(f"batch must be >= 1, got {batch}")
    was_training = model.training
    model = model.to(device).eval()
    try:
        with timing_threads(device, threads), seeded(0, device):
            x = torch.randn(batch, 3, *input_size, device=device)
        with timing_threads(device, threads), torch.inference_mode():
            for _ in range(warmup):
                model(x)
            times = [time_call(lambda: model(x), device) for _ in range(runs)]
    finally:
        model.train(was_training)
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return Latency(statistics.median(times), q[0], q[2], runs, device, threads, batch)


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
