"""The report of a run folder: compute first (:func:`compute_report`, plain data that tests
check), render second (``report.html``, ``report.md``, ``pareto.png``, ``diagrams/``).

>>> from nas.report import write_report
>>> write_report("results/example")        # -> results/example/report.html
"""

from nas.report._compute import (
    SECTIONS,
    Front,
    Hypervolume,
    ReportData,
    arch_summary,
    compute_report,
)
from nas.report._importance import Importance, param_importance
from nas.report._retrained import RETRAIN_TABLE, retrained_table
from nas.report._run import Objective, RunData, load_run

__all__ = [
    "RETRAIN_TABLE",
    "SECTIONS",
    "Front",
    "Hypervolume",
    "Importance",
    "Objective",
    "ReportData",
    "RunData",
    "arch_summary",
    "compute_report",
    "load_run",
    "param_importance",
    "retrained_table",
    "write_report",
]


def __getattr__(name: str):
    if name == "write_report":  # matplotlib loads only when something is drawn
        from nas.report._write import write_report

        return write_report
    raise AttributeError(f"module 'nas.report' has no attribute {name!r}")
