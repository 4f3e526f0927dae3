"""Measured latency of a model: warm-up, then a robust statistic over repeated runs."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from nas.errors import NasError

__all__ = ["Latency", "measure_latency"]


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
    afterwards). CUDA: CUDA events with synchronisation."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NasError(f"device {device!r} asked for, but no CUDA GPU is available; use --device cpu")
    if threads < 1 or runs < 1 or warmup < 0 or batch < 1:
        raise NasError("threads, runs and batch must be >= 1 and warmup >= 0")
    prev_threads = torch.get_num_threads()
    was_training = model.training
    model = model.to(device).eval()
    x = torch.randn(batch, 3, *input_size, device=device)
    times: list[float] = []
    try:
        if device == "cpu":
            torch.set_num_threads(threads)
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            for _ in range(runs):
                times.append(_time_once(model, x, device))
    finally:
        torch.set_num_threads(prev_threads)
        model.train(was_training)
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return Latency(statistics.median(times), q[0], q[2], runs, device, threads, batch)


def _time_once(model: nn.Module, x: torch.Tensor, device: str) -> float:
    if device.startswith("cuda"):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        model(x)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)
    t0 = time.perf_counter()
    model(x)
    return (time.perf_counter() - t0) * 1e3
