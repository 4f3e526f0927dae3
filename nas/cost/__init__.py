"""What a candidate costs, before and after it is built.

* Analytic (no model built): :func:`estimate` -> :class:`Cost` (exact FLOPs by fvcore's
  convention, exact params), from per-module formulas.
* Ground truth (model built): :func:`count_flops` (fvcore), :func:`count_params`,
  :func:`measure`, :func:`measure_latency`.
* Predicted latency: :class:`LatencyTable` of measured units (``nas profile``: :func:`profile`),
  :func:`predict_latency`, :func:`fit_correction`; :class:`UnitModel` estimates units the
  table lacks, so a search prices candidates at once and times new units only before training.
* Whole models are timed in this process or in fresh worker processes
  (``measure_latency(..., processes=k)``), with the allocator set to keep freed memory
  (:func:`nas.keep_freed_memory`).
* Budgets: :class:`Budget` (``Budget.parse("5GFLOPs, 30ms")``; defined in the torch-free
  :mod:`nas.budget`, re-exported here) and the gate :func:`violation`. Budget-aware sampling
  from a space (``sample_within``, ``cheapest``) is in :mod:`nas.search`.
"""

from nas.budget import Budget, Limit, parse_budgets
from nas.cost._estimate import Cost, estimate
from nas.cost._fingerprint import device_fingerprint, device_info
from nas.cost._fvcore import count_flops, count_params
from nas.cost._gate import BudgetInfeasibleError, SpaceLike, describe_cost, violation
from nas.cost._latency import Latency, measure_latency
from nas.cost._latency_table import (
    Correction,
    Entry,
    LatencyTable,
    measure_unit,
    predict_latency,
    profile_units,
    unit_sum,
    unit_sums,
)
from nas.cost._measure import Measured, measure
from nas.cost._profiling import (
    CORRECTION_FORMS,
    ProfileResult,
    fit_correction,
    profile,
    repeat_noise,
    sample_archs,
)
from nas.cost._scale import scale_to_fit
from nas.cost._unit_model import UnitModel
from nas.metrics import parse_size

__all__ = [
    "CORRECTION_FORMS",
    "Budget",
    "BudgetInfeasibleError",
    "Correction",
    "Cost",
    "Entry",
    "Latency",
    "LatencyTable",
    "Limit",
    "Measured",
    "UnitModel",
    "ProfileResult",
    "SpaceLike",
    "describe_cost",
    "count_flops",
    "count_params",
    "device_fingerprint",
    "device_info",
    "estimate",
    "fit_correction",
    "measure",
    "measure_latency",
    "measure_unit",
    "parse_budgets",
    "parse_size",
    "predict_latency",
    "profile",
    "profile_units",
    "repeat_noise",
    "sample_archs",
    "scale_to_fit",
    "unit_sum",
    "unit_sums",
    "violation",
]
