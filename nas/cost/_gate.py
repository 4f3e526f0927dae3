"""The budget gate: does a candidate fit its budget. Budget-aware sampling from a search space
(``sample_within``, ``cheapest``, ``space_report``) lives on the search side, in
:mod:`nas.search`, where both the space and the cost model are known.
"""

from __future__ import annotations

from nas.cost._budget import Budget
from nas.cost._estimate import Cost
from nas.errors import NasError

__all__ = ["BudgetInfeasibleError", "describe_cost", "violation"]


class BudgetInfeasibleError(NasError):
    """No architecture of the space fits the budget."""


def violation(budget: Budget, cost: Cost) -> float:
    """max over limits of value / limit: <= 1 means within every limit."""
    metrics = cost.metrics()
    budget.constraints(metrics)  # a clear error if a metric is not available
    return max(metrics[lim.metric] / lim.value for lim in budget.limits)


def describe_cost(budget: Budget, cost: Cost) -> str:
    """``cost`` in the units of ``budget``'s limits, e.g. ``4.31 GFLOPs at 512x512``."""
    parts = []
    for lim in budget.limits:
        if lim.metric == "flops":
            parts.append(f"{cost.flops / 1e9:.2f} GFLOPs")
        elif lim.metric == "params":
            parts.append(f"{cost.params / 1e6:.2f}M params")
        elif cost.latency_ms is not None:
            parts.append(f"{cost.latency_ms:.1f} ms")
    h, w = cost.input_size
    return f"{', '.join(parts)} at {h}x{w}"
