"""The analytic cost model: FLOPs and params of a candidate from its ArchConfig alone.

Every module class owns its formula (``cost`` static methods in ``nas.models``, NNI's
``_count_flops`` idea); :func:`estimate` walks the same structural plan as the builder and sums
them. Nothing is built and no tensor is allocated, so it is thousands of times faster than
building the model and tracing it with fvcore, and it is exact: params equal ``numel`` and FLOPs
equal fvcore's count (including fvcore's rounding of einsum costs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nas.arch import ArchConfig
from nas.models import analytic_cost

__all__ = ["Cost", "estimate"]


@dataclass(frozen=True)
class Cost:
    """What a candidate costs at ``input_size``: FLOPs (fvcore convention), params, and the
    backbone's share. ``latency_ms`` is filled by a latency predictor when one is used."""

    flops: int
    params: int
    backbone_flops: int
    backbone_params: int
    input_size: tuple[int, int]
    latency_ms: float | None = None

    def metrics(self) -> dict[str, float]:
        """Values by budget metric name (``flops``, ``params``, ``latency_ms`` when known)."""
        out: dict[str, float] = {"flops": self.flops, "params": self.params}
        if self.latency_ms is not None:
            out["latency_ms"] = self.latency_ms
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(arch: ArchConfig, input_size: tuple[int, int] = (512, 512)) -> Cost:
    """FLOPs and params of ``build_model(arch)`` at ``input_size`` (H, W), batch 1."""
    backbone, total = analytic_cost(arch, tuple(input_size))
    return Cost(total.flops, total.params, backbone.flops, backbone.params, tuple(input_size))
