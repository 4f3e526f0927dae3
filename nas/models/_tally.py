"""FLOP and parameter tallies for the analytic cost formulas that each module class owns.

FLOPs follow fvcore's rules exactly (``fvcore/nn/jit_handles.py``): conv and linear/matmul/
einsum count multiply-adds (no bias); eval BatchNorm 2 per element; LayerNorm and GroupNorm 5 per
element; nearest upsampling 1 and bilinear 4 per output element; adaptive average pooling 1 per
input element; activations, softmax, elementwise add/mul, padding and dropout 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["HW", "Tally", "bn", "conv", "down", "einsum", "linear", "ln"]

HW = tuple[int, int]


@dataclass(frozen=True)
class Tally:
    flops: int = 0
    params: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.flops + other.flops, self.params + other.params)

    def times(self, n: int) -> Tally:
        """``n`` applications of the same module: FLOPs scale, parameters do not."""
        return Tally(self.flops * n, self.params)


def down(hw: HW, stride: int) -> HW:
    """Output size of a (k = 2p + 1 or k = stride + 1, p = k // 2) strided conv: ceil division."""
    return (-(-hw[0] // stride), -(-hw[1] // stride))


def conv(cin: int, cout: int, k: int, out: HW, groups: int = 1, bias: bool = True) -> Tally:
    return Tally(cout * (cin // groups) * k * k * out[0] * out[1],
                 cout * (cin // groups) * k * k + (cout if bias else 0))


def linear(cin: int, cout: int, tokens: int, bias: bool = True) -> Tally:
    return Tally(tokens * cin * cout, cin * cout + (cout if bias else 0))


def einsum(macs: int) -> Tally:
    """A two-operand einsum of ``macs`` multiply-adds as fvcore counts it: it parses numpy's
    printed ``einsum_path`` cost (2 x macs, shown as ``%.3e``) and halves it, so the count is
    rounded to 4 significant digits."""
    return Tally(int(math.floor(float(f"{2 * macs:.3e}") / 2)))


def bn(c: int, hw: HW | int) -> Tally:
    n = hw if isinstance(hw, int) else hw[0] * hw[1]
    return Tally(2 * c * n, 2 * c)


def ln(c: int, tokens: int) -> Tally:
    """LayerNorm (and GroupNorm) with affine parameters."""
    return Tally(5 * c * tokens, 2 * c)
