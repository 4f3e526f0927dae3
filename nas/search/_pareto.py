"""Pareto fronts and hypervolume of a set of objective vectors (pure numpy, no Optuna).

Directions are ``"maximize"`` or ``"minimize"`` per column. Internally every column is turned into
a minimisation (maximised columns negated), so a point ``a`` dominates ``b`` when it is no worse
in every column and strictly better in one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["hypervolume", "pareto_mask", "to_minimize"]


def to_minimize(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """``values`` (n, m) with maximised columns negated, as float."""
    values = np.asarray(values, dtype=float).reshape(-1, len(directions))
    signs = np.array([_sign(d) for d in directions], dtype=float)
    return values * signs


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """A boolean mask of the non-dominated rows of ``values`` (n, m). Rows with a NaN are never
    on the front; duplicates of a front point are all on it."""
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
