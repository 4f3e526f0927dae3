"""What a candidate costs, before and after it is built.

* Analytic (no model built): :func:`estimate` -> :class:`Cost` (exact FLOPs by fvcore's
  convention, exact params), from per-module formulas.
* Ground truth (model built): :func:`count_flops` (fvcore), :func:`count_params`,
  :func:`measure`, :func:`measure_latency`.
* Latency devices: ``cpu`` and ``cuda[:N]`` (PyTorch), ``ort-cpu`` (the exported ONNX graph in
  onnxruntime, as deployed): :func:`time_module` times a module on any of them,
  :func:`device_fingerprint` names the setting. ONNX: :func:`onnx_bytes`, :func:`ort_session`,
  :func:`export_onnx` (the file ``nas export --format onnx`` writes, checked against PyTorch).
* Predicted latency: :class:`LatencyTable` of measured units (``nas profile``: :func:`profile`),
  :func:`predict_latency`, :func:`fit_correction`; :class:`UnitModel` estimates units the
  table lacks, so a search prices candidates at once and times new units only before training.
* Whole models are timed in this process or in fresh worker processes
  (``measure_latency(..., processes=k)``), with the allocator set to keep freed memory
  (:func:`nas.keep_freed_memory`).
  A table is used only on the machine (device, threads, software) of its fingerprint.
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
    profile_units,
)
from nas.cost._measure import Measured, measure
from nas.cost._onnx import ONNX_TOL, export_onnx, onnx_bytes, ort_session
from nas.cost._predict import predict_latency, unit_sum, unit_sums
from nas.cost._profiling import (
    CORRECTION_FORMS,
    ProfileResult,
    fit_correction,
    profile,
    repeat_noise,
    sample_archs,
)
from nas.cost._runtime import time_module
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
    "ONNX_TOL",
    "ProfileResult",
    "SpaceLike",
    "describe_cost",
    "count_flops",
    "count_params",
    "device_fingerprint",
    "device_info",
    "estimate",
    "export_onnx",
    "fit_correction",
    "measure",
    "measure_latency",
    "measure_unit",
    "onnx_bytes",
    "ort_session",
    "parse_budgets",
    "parse_size",
    "predict_latency",
    "profile",
    "profile_units",
    "repeat_noise",
    "sample_archs",
    "scale_to_fit",
    "time_module",
    "unit_sum",
    "unit_sums",
    "violation",
]
