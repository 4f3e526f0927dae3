"""A learned latency for units the table has not measured yet, so that a search can price a
candidate at once and time its new units only when it is about to train it.

Each :class:`~nas.cost.Entry` records what its unit is: kind (``stem``, ``fusion``,
``cell:hr``, ``cell:freq``, ``head``, ...), analytic FLOPs, params and input elements. The model
is a ridge regression (scikit-learn) of log latency on the logs of those three, with one set of
coefficients per kind plus a shared set, so that a kind with few measured units borrows from the
others and an unseen kind still gets the shared estimate. Log-log because unit latency spans
three orders of magnitude and grows as a power of the work. Fitted on the table's own entries,
refitted when the table has grown (cached on the table object).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.cost._latency_table import Entry, LatencyTable, unit_features
from nas.models import Unit

__all__ = ["MIN_ENTRIES", "UnitModel"]

MIN_ENTRIES = 8
"""Fewer measured units (with features) than this: no model, missing units must be measured."""

_ALPHA = 0.1


class UnitModel:
    """``UnitModel.fit(table)`` -> a model of unit latency, or None when the table has fewer than
    :data:`MIN_ENTRIES` entries with features. ``predict(units)`` -> milliseconds."""

    def __init__(self, kinds: Sequence[str], regressor, n: int, rel_rmse: float):
        self.kinds = list(kinds)
        self.regressor = regressor
        self.n = n  # entries fitted on
        self.rel_rmse = rel_rmse  # in-sample relative error of the fit (exp(residual) - 1)

    @classmethod
    def fit(cls, table: LatencyTable) -> UnitModel | None:
        cached = getattr(table, "_unit_model", None)
        if cached is not None and cached.n == _usable(table.entries.values()):
            return cached
        rows = [e for e in table.entries.values() if e.kind and e.median_ms > 0]
        if len(rows) < MIN_ENTRIES:
            return None
        from sklearn.linear_model import Ridge

        kinds = sorted({e.kind for e in rows})
        x = _design([(e.kind, e.flops, e.params, e.elems) for e in rows], kinds)
        y = np.log([e.median_ms for e in rows])
        reg = Ridge(alpha=_ALPHA).fit(x, y)
        resid = np.exp(reg.predict(x) - y) - 1
        model = cls(kinds, reg, len(rows), float(np.sqrt(np.mean(resid ** 2))))
        table._unit_model = model  # noqa: SLF001  (a cache on the table object, never saved)
        return model

    def predict(self, units: Sequence[Unit]) -> np.ndarray:
        if not units:
            return np.zeros(0)
        x = _design([unit_features(u) for u in units], self.kinds)
        return np.exp(self.regressor.predict(x))

    def __repr__(self) -> str:
        return (f"UnitModel({len(self.kinds)} kinds, fitted on {self.n} units, "
                f"rel. error {100 * self.rel_rmse:.1f}%)")


def _usable(entries) -> int:
    return sum(1 for e in entries if isinstance(e, Entry) and e.kind and e.median_ms > 0)


def _design(feats: Sequence[tuple[str, int, int, int]], kinds: Sequence[str]) -> np.ndarray:
    """Columns: [shared: 1, log flops, log params, log elems] + the same block per kind (zero
    outside that kind)."""
    index = {k: i for i, k in enumerate(kinds)}
    x = np.zeros((len(feats), 4 * (1 + len(kinds))))
    for r, (kind, flops, params, elems) in enumerate(feats):
        block = np.array([1.0, math.log1p(flops), math.log1p(params), math.log1p(elems)])
        x[r, :4] = block
        if kind in index:
            j = 4 * (1 + index[kind])
            x[r, j:j + 4] = block
    return x
