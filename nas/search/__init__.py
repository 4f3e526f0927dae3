"""The search: the YAML space drives Optuna define-by-run; every candidate is priced by the
analytic cost model, gated against the budget (over budget: recorded, never trained), then
proxy-trained and scored; the run folder (``results/<name>/``, see results/README.md) is kept
up to date after every trial.

>>> from nas.search import SearchSettings, run_search
>>> result = run_search(SearchSettings(name="demo", budgets=("5GFLOPs",), trials=20))
>>> result.trials[result.trials.pareto][["number", "miou", "gflops"]]
"""

from nas.metrics import hypervolume, pareto_mask
from nas.search._evaluate import Evaluator, ScoreFn
from nas.search._integrity import check_study_file
from nas.search._measured import measure_front, measured_latency
from nas.search._outputs import read_run, trials_frame, write_outputs, write_run
from nas.search._prologue import make_evaluator
from nas.search._pruner import FrontPruner, History
from nas.search._run import SearchResult, run_search
from nas.search._runner import RunnerProfile, load_runner, runner_names
from nas.search._settings import (
    OBJECTIVES,
    STRATEGIES,
    Objective,
    SearchSettings,
    parse_duration,
    parse_objectives,
)
from nas.search._strategy import (
    STRATEGY_TYPES,
    Proposal,
    SearchContext,
    Strategy,
    arch_hash,
    register,
)
from nas.search._study import Counts, counts, make_storage, storage_seconds
from nas.search._within import SpaceReport, cheapest, sample_within, space_report

__all__ = [
    "Evaluator",
    "make_evaluator",
    "measure_front",
    "measured_latency",
    "OBJECTIVES",
    "STRATEGIES",
    "STRATEGY_TYPES",
    "Counts",
    "FrontPruner",
    "History",
    "check_study_file",
    "Objective",
    "Proposal",
    "RunnerProfile",
    "ScoreFn",
    "SearchContext",
    "SearchResult",
    "SearchSettings",
    "SpaceReport",
    "Strategy",
    "arch_hash",
    "cheapest",
    "counts",
    "hypervolume",
    "load_runner",
    "make_storage",
    "pareto_mask",
    "parse_duration",
    "parse_objectives",
    "read_run",
    "register",
    "run_search",
    "runner_names",
    "sample_within",
    "space_report",
    "storage_seconds",
    "trials_frame",
    "write_outputs",
    "write_run",
]
