"""Where a module is timed: PyTorch on ``cpu`` / ``cuda[:N]``, or its exported ONNX graph in
onnxruntime on ``ort-cpu`` (how users deploy). One dispatch, :func:`time_module`, serves the unit
timings of the latency table and whole-model latencies::

    times = time_module(unit.make(), xs, "ort-cpu", threads=2, warmup=5, runs=20)  # ms each
    lat = measure_latency(model, (512, 512), "ort-cpu", threads=2)                  # Latency
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import nn

from nas.cost._latency import check_timing, minor_faults, time_call, timing_threads
from nas.cost._onnx import input_names, onnx_bytes, ort_session
from nas.errors import NasError

__all__ = ["ort_graph", "tensor_device", "time_module"]


def tensor_device(device: str) -> str:
    """The torch device that a module and its inputs live on while timed on ``device``: ``cpu``
    for ``ort-cpu`` (the module is exported from there), ``device`` itself otherwise."""
    return "cpu" if device == "ort-cpu" else device


def ort_graph(module: nn.Module, inputs: Sequence[torch.Tensor]) -> bytes:
    """The ONNX graph that ``ort-cpu`` times for ``module`` at the inputs' (static) shapes."""
    xs = tuple(x.detach().cpu() for x in inputs)
    try:
        return onnx_bytes(module.cpu().eval(), xs)
    except NasError as exc:
        raise NasError(f"{exc}; --device ort-cpu times the exported graph, so this module cannot "
                       "be timed there (time it on cpu, and report the architecture)") from None


def time_module(module: nn.Module, inputs: Sequence[torch.Tensor], device: str = "cpu",
                threads: int = 2, warmup: int = 5, runs: int = 20,
                faults: list[int] | None = None, graph: bytes | None = None,
                cpu: list[float] | None = None) -> list[float]:
    """Milliseconds of each of ``runs`` calls ``module(*inputs)``, after ``warmup`` untimed ones;
    the module is in eval mode meanwhile (its mode is restored afterwards).

    ``cpu`` / ``cuda[:N]``: PyTorch under ``inference_mode``, the module and inputs moved to the
    device, ``threads`` CPU threads (the caller's count is restored), CUDA events with
    synchronisation. ``ort-cpu``: the module is exported once to ONNX at the inputs' (static)
    shapes and each call is ``session.run`` of an onnxruntime CPU session with ``threads``
    intra-op threads (:func:`~nas.cost.ort_session`) on the inputs as numpy arrays; ``graph``
    (from :func:`ort_graph` of the same module and inputs) skips the export. With ``faults``
    (PyTorch, POSIX), the minor page faults of the timed calls are appended to it; with ``cpu``,
    the process CPU time (ms, all threads) of the timed calls, which time-slicing by other
    processes does not lengthen as it lengthens the wall-clock timings."""
    check_timing(warmup, runs, threads, device)
    was_training = module.training
    try:
        if device == "ort-cpu":
            data = graph if graph is not None else ort_graph(module, inputs)
            return _time_ort(data, tuple(inputs), threads, warmup, runs, cpu)
        module = module.to(device).eval()
        xs = [x.to(device) for x in inputs]
        with timing_threads(device, threads), torch.inference_mode():
            for _ in range(warmup):
                module(*xs)
            before, cpu0 = minor_faults(), time.process_time()
            times = [time_call(lambda: module(*xs), device) for _ in range(runs)]
            after, cpu1 = minor_faults(), time.process_time()
        if cpu is not None:
            cpu.append((cpu1 - cpu0) * 1e3)
        if faults is not None and before is not None and after is not None:
            faults.append(after - before)
        return times
    finally:
        module.train(was_training)


def _time_ort(data: bytes, xs: tuple[torch.Tensor, ...], threads: int, warmup: int,
              runs: int, cpu: list[float] | None = None) -> list[float]:
    sess = ort_session(data, threads)
    graph = {i.name for i in sess.get_inputs()}  # the exporter drops inputs the graph never reads
    feeds = {n: x.detach().cpu().numpy() for n, x in zip(input_names(len(xs)), xs)
             if n in graph}
    for _ in range(warmup):
        sess.run(None, feeds)
    cpu0 = time.process_time()
    times = [time_call(lambda: sess.run(None, feeds), "cpu") for _ in range(runs)]
    if cpu is not None:
        cpu.append((time.process_time() - cpu0) * 1e3)
    return times
