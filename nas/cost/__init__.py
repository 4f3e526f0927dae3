"""What a candidate costs, before and after it is built.

* Analytic (no model built): :func:`estimate` -> :class:`Cost` (exact FLOPs by fvcore's
  convention, exact params), from per-module formulas.
* Ground truth (model built): :func:`count_flops` (fvcore), :func:`count_params`,
  :func:`measure`, :func:`measure_latency`.
* Budgets: :class:`Budget` (``Budget.parse("5GFLOPs, 30ms")``) and the gate :func:`violation`.
  Budget-aware sampling from a space (``sample_within``, ``cheapest``) is in :mod:`nas.search`.
"""

from nas.cost._budget import Budget, Limit, parse_budgets
from nas.cost._estimate import Cost, estimate
from nas.cost._fingerprint import device_fingerprint
from nas.cost._fvcore import count_flops, count_params, parse_size
from nas.cost._gate import BudgetInfeasibleError, describe_cost, violation
from nas.cost._latency import Latency, measure_latency
from nas.cost._latency_table import LatencyTable, build_table, predict_latency
from nas.cost._measure import Measured, measure
from nas.cost._profiling import profile
from nas.cost._scale import scale_to_fit

__all__ = [
    "Budget",
    "BudgetInfeasibleError",
    "Cost",
    "Latency",
    "LatencyTable",
    "Limit",
    "Measured",
    "build_table",
    "describe_cost",
    "device_fingerprint",
    "count_flops",
    "count_params",
    "estimate",
    "measure",
    "measure_latency",
    "parse_budgets",
    "parse_size",
    "predict_latency",
    "profile",
    "scale_to_fit",
    "violation",
]
