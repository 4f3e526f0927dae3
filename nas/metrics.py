"""What is measured and how results compare: metric names and units, objectives, Pareto
fronts, hypervolume, and the ``HxW`` input-size form. Pure Python and numpy: no torch.

One table (:data:`METRICS`) is the single source of truth for every metric the search optimises,
the budget limits, the report plots and the cost gate describes: its name (as in budgets,
``run.json`` and the trials table), the column holding it in display units, the unit, the scale
from the stored value to the display value, and the direction it is optimised in.

Pareto and hypervolume are written by hand (exact, a few lines of numpy) so that this module and
the report load no Optuna; ``optuna._hypervolume`` is private API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nas.errors import NasError

__all__ = [
    "METRICS",
    "OBJECTIVES",
    "Direction",
    "Metric",
    "Objective",
    "format_metric",
    "hypervolume",
    "metric",
    "pareto_mask",
    "parse_size",
    "size_text",
    "to_minimize",
]

Direction = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class Metric:
    """One metric: ``name`` (stored value, e.g. FLOPs as a count), ``column`` of the trials table
    holding it in display units, ``unit`` of that display value, ``scale`` from the stored value
    to the display value, the direction it is optimised in, and ``aliases`` a user may type."""

    name: str
    column: str
    unit: str
    scale: float
    direction: Direction
    aliases: tuple[str, ...] = ()

    def display(self, value: Any) -> Any:
        """``value`` (stored units, a number or an array) in display units."""
        return value * self.scale


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("miou", "miou", "mIoU", 1.0, "maximize", ("mIoU",)),
    Metric("flops", "gflops", "GFLOPs", 1e-9, "minimize", ("gflops",)),
    Metric("params", "mparams", "M params", 1e-6, "minimize", ("mparams",)),
    Metric("latency_ms", "latency_ms", "ms", 1.0, "minimize", ("latency",)),
)}
_ALIASES = {a.lower(): m.name for m in METRICS.values() for a in (m.name, *m.aliases)}
# what ``--objectives`` accepts (latency may be written latency or latency_ms)
OBJECTIVES: tuple[str, ...] = ("miou", "flops", "params", "latency")


def metric(name: str) -> Metric:
    """The metric ``name`` or one of its aliases (``latency``, ``gflops``, ``mIoU``)."""
    found = _ALIASES.get(str(name).lower())
    if found is None:
        raise NasError(f"unknown metric {name!r}; use one of {', '.join(OBJECTIVES)}")
    return METRICS[found]


def format_metric(name: str, value: float, digits: int = 3) -> str:
    """``format_metric("flops", 5e9)`` -> ``"5.000 GFLOPs"``; ``params`` -> ``"3.500M params"``
    (``digits`` decimals, in display units)."""
    m = metric(name)
    shown = m.display(value)
    if m.name == "params":
        return f"{shown:.{digits}f}M params"
    return f"{shown:.{digits}f} {m.unit}"


@dataclass(frozen=True)
class Objective:
    """One objective of a run: a metric of :data:`METRICS` and its direction (the metric's own
    unless given). ``Objective("latency")`` is the ``latency_ms`` metric."""

    name: str
    direction: Direction | None = None

    def __post_init__(self) -> None:
        m = metric(self.name)
        object.__setattr__(self, "name", m.name)
        direction = self.direction or m.direction
        if direction not in ("maximize", "minimize"):
            raise NasError(f"objective {m.name}: direction {direction!r}; use maximize or "
                           "minimize")
        object.__setattr__(self, "direction", direction)

    @property
    def metric(self) -> Metric:
        return METRICS[self.name]

    @property
    def column(self) -> str:
        """The trials-table column (display units)."""
        return self.metric.column

    @property
    def unit(self) -> str:
        return self.metric.unit

    @property
    def label(self) -> str:
        return self.metric.unit

    def display(self, values: Any) -> Any:
        return self.metric.display(values)


# ---------------------------------------------------------------------------- Pareto
def to_minimize(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """``values`` (n, m) with maximised columns negated, as float."""
    values = np.asarray(values, dtype=float).reshape(-1, len(directions))
    signs = np.array([_sign(d) for d in directions], dtype=float)
    return values * signs


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """A boolean mask of the non-dominated rows of ``values`` (n, m). Rows with a NaN are never
    on the front; duplicates of a front point are all on it. A point dominates another when it
    is no worse in every column and strictly better in one."""
    pts = to_minimize(values, directions)
    n = len(pts)
    ok = ~np.isnan(pts).any(axis=1)
    mask = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(ok):
        others = pts[ok]
        dominated = np.any(np.all(others <= pts[i], axis=1) & np.any(others < pts[i], axis=1))
        mask[i] = not dominated
    return mask


def hypervolume(values: np.ndarray, directions: Sequence[str], reference: Sequence[float]) -> float:
    """The volume dominated by ``values`` and bounded by ``reference`` (a point in the same units
    and directions as the values, worse than every point that should count: e.g. mIoU 0 and the
    FLOPs budget). Points that do not strictly beat the reference in every column add nothing."""
    pts = to_minimize(values, directions)
    ref = to_minimize(np.asarray(reference, dtype=float), directions)[0]
    pts = pts[~np.isnan(pts).any(axis=1)]
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts, ["minimize"] * pts.shape[1])]
    return float(_hv(pts, ref))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of minimisation points (all strictly below ``ref``), by slicing the last
    column: exact, O(n^(m-1) log n), plenty for fronts of a few hundred points."""
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        depth = upper - pts[i, -1]
        if depth > 0:
            total += depth * _hv(pts[: i + 1, :-1], ref[:-1])
    return total


def _sign(direction: str) -> float:
    if direction == "maximize":
        return -1.0
    if direction == "minimize":
        return 1.0
    raise ValueError(f"direction must be 'maximize' or 'minimize', not {direction!r}")


# ---------------------------------------------------------------------------- input size
_SIZE = re.compile(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?")


def parse_size(text: str | Sequence[int]) -> tuple[int, int]:
    """``"512x512"`` / ``"360x480"`` (H x W) / ``"512"`` / ``(360, 480)`` -> (H, W), both >= 32."""
    hw: list[int] = []
    if isinstance(text, str):
        m = _SIZE.fullmatch(text)
        if m:
            hw = [int(m[1]), int(m[2] or m[1])]
    elif isinstance(text, Sequence) and len(text) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in text):
        hw = [int(v) for v in text]
    if len(hw) != 2 or min(hw) < 32:
        raise NasError(f"input size {text!r}: give HxW with both sides >= 32, e.g. 512x512")
    return hw[0], hw[1]


def size_text(size: Sequence[int]) -> str:
    """(H, W) -> ``"HxW"``."""
    return f"{int(size[0])}x{int(size[1])}"
