"""Training-free scores: a candidate scored at initialisation, in one forward/backward pass.

- :func:`synflow` (Tanaka et al. 2020, as a NAS proxy in Abdelfattah et al. 2021): the log of
  sum |theta * dR/dtheta| for R = the sum of the network's output on an all-ones input, with
  every weight replaced by its absolute value, in float64, BatchNorm in eval mode. Data-free.
- :func:`zico` (Li et al. 2023, ZiCo): sum over layers of log(sum over the layer's weights of
  mean|g| / std(g)), the gradient statistics taken over the samples of a batch (per-sample
  gradients from one vectorised backward pass, ``torch.func``).
- :func:`naswot` (Mellor et al. 2021): log-determinant of the kernel of the binary activation
  codes (unit on or off after each ReLU/GELU/Hardswish) of a batch, K = C C^T + (1-C)(1-C)^T.

Each returns a float (higher = predicted better), deterministic for a seed: the network is
initialised under ``torch.manual_seed(seed)`` and, without ``images``, the batch is drawn from
a generator seeded with ``seed`` (standard-normal images, uniform labels). The caller's RNG
state is left as it was. Hand-written: no maintained library computes these for arbitrary
PyTorch segmentation networks (the reference code ships with NAS-Bench harnesses).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nas.data import IGNORE_INDEX

__all__ = ["ZERO_COST_SCORES", "naswot", "synflow", "zico", "zero_cost_scores"]

_ACTS = (nn.ReLU, nn.GELU, nn.Hardswish, nn.SiLU)


@contextlib.contextmanager
def _seeded(seed: int, threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(before)


def _model(arch: Any, num_classes: int) -> nn.Module:
    from nas.arch import ArchConfig
    from nas.models import build_model

    if isinstance(arch, nn.Module):
        return arch
    if arch.num_classes != num_classes:
        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": num_classes})
    return build_model(arch)


def _batch(images, masks, input_size, batch, num_classes, seed):
    if images is not None:
        from nas.data import normalize

        x = normalize(images) if images.dtype == torch.uint8 else images.float()
        y = masks.long() if masks is not None else None
        return x, y
    g = torch.Generator().manual_seed(seed)
    h, w = input_size
    x = torch.randn(batch, 3, h, w, generator=g)
    y = torch.randint(0, num_classes, (batch, h, w), generator=g)
    return x, y


def synflow(arch: Any, input_size: tuple[int, int] = (64, 64), seed: int = 0, *,
            num_classes: int = 11, threads: int = 2) -> float:
    """log(SynFlow) of ``arch`` (ArchConfig, or an nn.Module: its weights are overwritten) at
    ``input_size`` (H, W). Computed in float32 (several times faster on CPU), again in float64
    when float32 overflows."""
    with _seeded(seed, threads):
        model = _model(arch, num_classes).eval()
        with torch.no_grad():
            for p in model.state_dict().values():
                if p.is_floating_point():
                    p.abs_()
        for dtype in (torch.float32, torch.float64):
            model.to(dtype).zero_grad(set_to_none=True)
            model(torch.ones(1, 3, *input_size, dtype=dtype)).sum().backward()
            total = sum(float((p.detach().double() * p.grad.double()).abs().sum())
                        for p in model.parameters() if p.grad is not None)
            if math.isfinite(total):
                break
    return math.log(total) if total > 0 else float("-inf")


def zico(arch: Any, images: torch.Tensor | None = None, masks: torch.Tensor | None = None,
         seed: int = 0, *, input_size: tuple[int, int] = (64, 64), batch: int = 8,
         splits: int = 2, num_classes: int = 11, threads: int = 2) -> float:
    """ZiCo of ``arch`` on a batch (``images`` uint8 or normalised float with ``masks``, or a
    seeded random batch of ``batch`` at ``input_size``), the gradient statistics taken over
    ``splits`` equal parts of the batch (one forward/backward each; ZiCo's mini-batches),
    BatchNorm in eval mode."""
    with _seeded(seed, threads):
        model = _model(arch, num_classes).eval()
        x, y = _batch(images, masks, input_size, batch, num_classes, seed)
        parts = max(2, min(splits, x.shape[0]))
        weights = [(n.rsplit(".", 1)[0], p) for n, p in model.named_parameters() if p.dim() > 1]
        grads: list[list[torch.Tensor]] = [[] for _ in weights]
        for xs, ys in zip(x.chunk(parts), y.chunk(parts), strict=True):
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(xs), ys, ignore_index=IGNORE_INDEX).backward()
            for i, (_, p) in enumerate(weights):
                grads[i].append(p.grad.detach().reshape(-1).double().clone()
                                if p.grad is not None else torch.zeros(p.numel()))
        layers: dict[str, float] = {}
        for (owner, _), gs in zip(weights, grads, strict=True):
            # mean and unbiased std over the parts, elementwise (Tensor.std(0) over a (k, N)
            # stack takes a slow strided path: ~10 s for a 19 M-parameter network)
            mean = sum(gs) / len(gs)
            std = (sum((g - mean) ** 2 for g in gs) / (len(gs) - 1)).sqrt_()
            abs_mean = sum(g.abs() for g in gs) / len(gs)
            keep = std > 0
            layers[owner] = layers.get(owner, 0.0) + float((abs_mean[keep] / std[keep]).sum())
    return float(sum(math.log(v) for v in layers.values() if v > 0))


def naswot(arch: Any, images: torch.Tensor | None = None, seed: int = 0, *,
           input_size: tuple[int, int] = (64, 64), batch: int = 8, num_classes: int = 11,
           threads: int = 2) -> float:
    """NASWOT log|K| of ``arch`` on a batch (``images``, or a seeded random batch)."""
    with _seeded(seed, threads):
        model = _model(arch, num_classes).eval()
        x, _ = _batch(images, None, input_size, batch, num_classes, seed)
        n = x.shape[0]
        kernel = torch.zeros(n, n, dtype=torch.float64)

        def hook(_module, _inputs, out):
            c = (out.detach().reshape(n, -1) > 0).double()
            kernel.add_(c @ c.T + (1 - c) @ (1 - c).T)

        handles = [m.register_forward_hook(hook) for m in model.modules()
                   if isinstance(m, _ACTS)]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for h in handles:
                h.remove()
        sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if float(sign) > 0 else float("-inf")


ZERO_COST_SCORES = {"synflow": synflow, "zico": zico, "naswot": naswot}
"""The training-free scores by name."""


def zero_cost_scores(arch: Any, seed: int = 0, *, input_size: tuple[int, int] = (64, 64),
                     batch: int = 8, num_classes: int = 11, threads: int = 2) -> dict[str, float]:
    """Every score of :data:`ZERO_COST_SCORES` for ``arch`` on a seeded random batch, the
    network built once (the same numbers as calling each function with ``seed``)."""
    with _seeded(seed, threads):
        model = _model(arch, num_classes)
    kw = {"input_size": input_size, "num_classes": num_classes, "threads": threads}
    out = {"naswot": naswot(model, seed=seed, batch=batch, **kw),
           "zico": zico(model, seed=seed, batch=batch, **kw)}
    out["synflow"] = synflow(model, seed=seed, **kw)  # last: it overwrites the weights
    return {name: out[name] for name in ZERO_COST_SCORES}
