"""The ONNX graph of a module, and onnxruntime sessions on CPU: what ``--device ort-cpu`` times
(:func:`~nas.cost.measure_unit`, :func:`~nas.cost.measure_latency`) and what ``nas export
--format onnx`` writes (:func:`export_onnx`: a segmentor at a fixed resolution with a dynamic
batch, checked against PyTorch with onnxruntime, fp32).

Torch's TorchScript-based exporter is used (the dynamo one needs ``onnxscript`` and, on these
networks, specialises the batch and fails on several cells). Two of its gaps are closed for the
duration of an export only: ``aten::floor_divide`` is exported as a true floor division (it
truncates, which breaks ceil-division padding arithmetic such as ``-(-n // w) * w`` in the
cross-shaped window attention), and adaptive average pooling to sizes that do not divide the
input (AFFormer's low-pass grids) is traced as two matrix products with pooling matrices built
from the (traced) input size, which ONNX expresses exactly.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from nas.errors import NasError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

__all__ = ["ONNX_TOL", "OPSET", "export_onnx", "input_names", "onnx_bytes", "ort_session"]

ONNX_TOL = 1e-4
OPSET = 17
Inputs = torch.Tensor | Sequence[torch.Tensor]


def input_names(n: int) -> list[str]:
    """The graph input names :func:`onnx_bytes` gives by default: ``x0 .. x{n-1}``."""
    return [f"x{i}" for i in range(n)]


def onnx_bytes(model: nn.Module, inputs: Inputs, *, names: Sequence[str] | None = None,
               outputs: Sequence[str] | None = None, dynamic_batch: bool = False) -> bytes:
    """``model`` as an ONNX graph (opset :data:`OPSET`, constants folded), traced in eval mode
    under ``no_grad`` on the example ``inputs`` (one tensor, or a tuple: ``model(*inputs)``) with
    the two exporter gaps closed. Inputs are named ``names`` (default :func:`input_names`), outputs
    ``outputs`` (default torch's); shapes are those of ``inputs`` unless ``dynamic_batch`` (axis 0
    of every input and named output). NasError (one line) when the exporter fails."""
    xs = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    in_names = list(names) if names is not None else input_names(len(xs))
    out_names = list(outputs) if outputs is not None else None
    axes = ({n: {0: "batch"} for n in [*in_names, *(out_names or [])]} if dynamic_batch
            else None)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad(), _exportable():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, xs, buf, dynamo=False, opset_version=OPSET,
                              input_names=in_names, output_names=out_names,
                              dynamic_axes=axes, do_constant_folding=True)
    except Exception as exc:
        raise NasError(f"ONNX export failed ({type(exc).__name__}: {_text(exc)})") from None
    return buf.getvalue()


def ort_session(data: bytes, threads: int = 2) -> InferenceSession:
    """An onnxruntime CPU session of the ONNX graph ``data``: ``threads`` intra-op threads, one
    inter-op thread, sequential execution, all graph optimisations (``ORT_ENABLE_ALL``), warnings
    not logged. NasError (one line) when onnxruntime cannot load the graph."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise NasError(f"onnxruntime cannot load the ONNX graph ({type(exc).__name__}: "
                       f"{_text(exc)})") from None


def export_onnx(model: nn.Module, path: Path, size: tuple[int, int], check_batch: int = 2,
                seed: int = 0) -> float:
    """Write ``model`` (eval mode, fp32) to ``path`` for input (B, 3, H, W) with B dynamic and
    return the max abs difference between onnxruntime and PyTorch on a seeded batch of
    ``check_batch`` images. Raises NasError (and writes nothing) when it is not under
    :data:`ONNX_TOL` or the exporter fails."""
    import onnx

    model = model.eval().float()
    h, w = size
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(check_batch, 3, h, w, generator=gen)
    try:
        data = onnx_bytes(model, x[:1], names=["image"], outputs=["logits"], dynamic_batch=True)
    except NasError as exc:
        raise NasError(f"{exc}; export the YAML instead and report the architecture") from None
    try:
        onnx.checker.check_model(onnx.load_from_string(data))
        sess = ort_session(data, max(1, torch.get_num_threads()))
        got = sess.run(None, {"image": x.numpy()})[0]
    except Exception as exc:  # an invalid graph, or one that fails at a batch of 2
        why = str(exc) if isinstance(exc, NasError) else f"{type(exc).__name__}: {_text(exc)}"
        raise NasError(f"the exported ONNX graph does not run in onnxruntime ({why}); the file "
                       "was not written") from None
    with torch.no_grad():
        ref = model(x).numpy()
    if got.shape != ref.shape:
        raise NasError(f"ONNX output shape {got.shape} differs from PyTorch's {ref.shape}")
    diff = float(np.max(np.abs(got - ref)))
    if not diff < ONNX_TOL:
        raise NasError(f"ONNX output differs from PyTorch by {diff:.3g} (max abs, fp32), over "
                       f"the {ONNX_TOL:g} tolerance; the file was not written")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return diff


def _text(exc: BaseException, limit: int = 300) -> str:
    return " ".join(str(exc).split())[:limit]


@contextlib.contextmanager
def _exportable():
    """Patch the two gaps (see the module docstring) while an export runs; undo afterwards."""
    import torch.nn.functional as F

    original = F.adaptive_avg_pool2d
    names = ("aten::floor_divide", "aten::floordiv")
    F.adaptive_avg_pool2d = _adaptive_avg_pool2d
    for name in names:
        torch.onnx.register_custom_op_symbolic(name, _floor_divide_symbolic, OPSET)
    try:
        yield
    finally:
        F.adaptive_avg_pool2d = original
        for name in names:
            torch.onnx.unregister_custom_op_symbolic(name, OPSET)


def _floor_divide_symbolic(g, self, other):
    """Floor division in ONNX: ``Div`` truncates integers, so subtract one when the signs
    differ and the division is not exact."""
    from torch.onnx import symbolic_helper as sh

    if sh._is_fp(self) or sh._is_fp(other):
        a, b = (g.op("Cast", v, to_i=1) for v in (self, other))  # FLOAT
        return g.op("Floor", g.op("Div", a, b))
    a, b = (g.op("Cast", v, to_i=7) for v in (self, other))  # INT64
    div = g.op("Div", a, b)
    zero = g.op("Constant", value_t=torch.tensor(0, dtype=torch.int64))
    negative = g.op("Xor", g.op("Less", a, zero), g.op("Less", b, zero))
    inexact = g.op("Not", g.op("Equal", g.op("Sub", a, g.op("Mul", div, b)), zero))
    fix = g.op("Cast", g.op("And", negative, inexact), to_i=7)
    return g.op("Sub", div, fix)


def _adaptive_avg_pool2d(x: torch.Tensor, output_size) -> torch.Tensor:
    """``F.adaptive_avg_pool2d`` as ``P_h @ x @ P_w^T`` (same bins as PyTorch's)."""
    sh, sw = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = x.shape[-2], x.shape[-1]
    sh = h if sh is None else sh
    sw = w if sw is None else sw
    return _pool_matrix(h, sh, x).matmul(x).matmul(_pool_matrix(w, sw, x).transpose(0, 1))


def _pool_matrix(n, s: int, x: torch.Tensor) -> torch.Tensor:
    """(s, n): row i averages positions floor(i n / s) .. ceil((i + 1) n / s) - 1."""
    i = torch.arange(s, device=x.device)
    start = (i * n) // s
    end = ((i + 1) * n + s - 1) // s
    j = torch.arange(n, device=x.device)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return inside.to(x.dtype) / (end - start).to(x.dtype)[:, None]
