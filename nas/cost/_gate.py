"""The budget gate: does a candidate fit its budget. Budget-aware sampling from a search space
(``sample_within``, ``cheapest``, ``space_report``) lives on the search side, in
:mod:`nas.search`, where both the space and the cost model are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from nas.arch import ArchConfig
from nas.budget import Budget
from nas.cost._estimate import Cost
from nas.errors import NasError
from nas.metrics import format_metric, size_text

__all__ = ["BudgetInfeasibleError", "SpaceLike", "describe_cost", "violation"]


class SpaceLike(Protocol):
    """What the cost side asks of a search space (``nas.space.SearchSpace`` has it): the cost
    model does not import ``nas.space``; the space and the cost model are siblings."""

    name: str
    dimensions: Mapping[str, Any]

    def params(self, arch: ArchConfig) -> dict[str, Any] | None: ...

    def sample(self, seed: int, num_classes: int = ...) -> ArchConfig: ...


class BudgetInfeasibleError(NasError):
    """No architecture of the space fits the budget."""


def violation(budget: Budget, cost: Cost) -> float:
    """max over limits of value / limit: <= 1 means within every limit."""
    metrics = cost.metrics()
    budget.constraints(metrics)  # a clear error if a metric is not available
    return max(metrics[lim.metric] / lim.value for lim in budget.limits)


def describe_cost(budget: Budget, cost: Cost) -> str:
    """``cost`` in the units of ``budget``'s limits, e.g. ``4.31 GFLOPs at 512x512``."""
    values = cost.metrics()
    parts = [format_metric(lim.metric, values[lim.metric], 2) for lim in budget.limits
             if values.get(lim.metric) is not None]
    return f"{', '.join(parts)} at {size_text(cost.input_size)}"
