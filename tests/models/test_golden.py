"""The build computes what it computed before the speed work (golden outputs of commit 388d121).

One reference per family (hrvit_b1, mpvit_tiny, afformer_base) at an odd input size, with every
parameter re-drawn from a seeded generator by name (so the check does not depend on the order
in which modules are constructed, and no path is zero at init, as HRViT's zero-initialised
attention BatchNorm would make it): the eval-mode logits, the train-mode logits, and the
gradient of a cross-entropy loss on the train-mode logits w.r.t. every parameter, summarised
(sums, absolute sums and a seeded random projection per tensor, plus a few strided slices of the
logits) in ``golden.json``. Regenerate (only for an intended change of function) with
``python tests/models/test_golden.py``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nas.arch import ArchConfig, load_arch
from nas.models import build_model

GOLDEN = Path(__file__).with_name("golden.json")
NAMES = ("hrvit_b1", "mpvit_tiny", "afformer_base")
SIZE = (67, 93)
BATCH = 2
CLASSES = 11


def _redraw(model: torch.nn.Module, seed: int = 0) -> None:
    """Every parameter re-drawn by name: weights ~ N(0, 1/fan_in), biases ~ N(0, 0.1^2),
    norm scales (1-d ``weight``) ~ 1 + N(0, 0.1^2)."""
    with torch.no_grad():
        for i, (name, p) in enumerate(sorted(model.named_parameters())):
            g = torch.Generator().manual_seed(seed * 100_003 + i)
            r = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if p.dim() > 1:
                p.copy_(r / math.sqrt(p[0].numel()))
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * r)
            else:
                p.copy_(0.1 * r)


def _proj(t: torch.Tensor, seed: int) -> float:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(t.numel(), generator=g, dtype=torch.float64)
    return float(t.detach().double().flatten() @ w)


def _r(v: float) -> float:
    return float(f"{v:.9g}")  # 9 significant digits: well inside fp32 noise, a small file


def _tensor_summary(t: torch.Tensor, seed: int) -> list[float]:
    t = t.detach().double()
    return [_r(float(t.sum())), _r(float(t.abs().sum())), _r(_proj(t, seed))]


def summarise(name: str) -> dict:
    """The summary of one reference (see the module docstring)."""
    arch = load_arch(name)
    arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": CLASSES})
    torch.manual_seed(0)
    model = build_model(arch)
    _redraw(model)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, 3, *SIZE, generator=g)
    y = torch.randint(0, CLASSES, (BATCH, *SIZE), generator=g)
    model.eval()
    with torch.no_grad():
        ev = model(x)
    model.train()
    tr = model(x)
    loss = F.cross_entropy(tr, y)
    loss.backward()
    out = {
        "eval": _tensor_summary(ev, 7),
        "eval_slice": [_r(v) for v in ev[:, :3, ::16, ::16].flatten().tolist()],
        "train": _tensor_summary(tr, 7),
        "train_slice": [_r(v) for v in tr[:, :3, ::16, ::16].detach().flatten().tolist()],
        "loss": float(loss.detach()),
        "grads": {n: _tensor_summary(p.grad, i) for i, (n, p)
                  in enumerate(sorted(model.named_parameters())) if p.grad is not None},
    }
    return out


def _close(got: list[float], want: list[float], what: str) -> None:
    # sums can cancel: compare against the scale of the tensor (its absolute sum, index 1)
    scale = max(abs(want[1]), 1e-12)
    for a, b, kind in zip(got, want, ("sum", "abs sum", "projection"), strict=True):
        assert abs(a - b) <= 2e-4 * scale + 1e-6, f"{what} {kind}: {a!r} != golden {b!r}"


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_outputs_and_gradients_equal_golden(name, golden):
    want, got = golden[name], summarise(name)
    for mode in ("eval", "train"):
        _close(got[mode], want[mode], f"{name} {mode} logits")
        a, b = torch.tensor(got[f"{mode}_slice"]), torch.tensor(want[f"{mode}_slice"])
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * float(b.abs().max()))
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert sorted(got["grads"]) == sorted(want["grads"])
    for n, w in want["grads"].items():
        _close(got["grads"][n], w, f"{name} grad of {n}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    GOLDEN.write_text(json.dumps({n: summarise(n) for n in NAMES}, separators=(",", ":")) + "\n")
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)", file=sys.stderr)
