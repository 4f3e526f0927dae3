"""``SearchSettings``: everything one search needs, validated once, stored in ``run.json``."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from nas.budget import Budget, parse_budgets
from nas.errors import NasError
from nas.metrics import OBJECTIVES, Objective
from nas.proxy import DEFAULT_SCHEDULE, Schedule
from nas.record import STUDY_JOURNAL

__all__ = [
    "OBJECTIVES",
    "STRATEGIES",
    "Objective",
    "SearchSettings",
    "parse_duration",
    "parse_objectives",
]

Strategy = Literal["evolution", "nsga2", "tpe", "random"]
STRATEGIES: tuple[str, ...] = ("evolution", "nsga2", "tpe", "random")

# the default run: about 30 minutes on 2 cores with the default proxy schedule
DEFAULT_TRIALS = 40
DEFAULT_TIME_S = 30 * 60.0


def parse_objectives(text: str | None, budget: Budget) -> tuple[Objective, ...]:
    """``"miou,flops"`` -> objectives (mIoU first, always present; ``latency`` is the
    ``latency_ms`` metric of :mod:`nas.metrics`). None: mIoU and FLOPs, plus latency when the
    budget limits latency."""
    if text is None or not text.strip():
        names = ["miou", "flops"] + (["latency"] if budget.get("latency_ms") else [])
    else:
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        for n in names:
            if n not in OBJECTIVES and n != "latency_ms":
                raise NasError(f"--objectives: unknown objective {n!r}; use a comma-separated "
                               f"list of {', '.join(OBJECTIVES)} (e.g. 'miou,flops')")
        names = ["latency" if n == "latency_ms" else n for n in names]
        if len(set(names)) != len(names):
            raise NasError(f"--objectives {text!r} names an objective twice; list each once")
        if "miou" not in names:
            raise NasError(f"--objectives {text!r} must include miou (the search maximises it); "
                           "e.g. 'miou,flops'")
        names = ["miou"] + [n for n in names if n != "miou"]
    return tuple(Objective(n) for n in names)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}


def parse_duration(text: str | float | None) -> float | None:
    """``"30m"``, ``"1.5h"``, ``"90s"``, ``"600"`` (seconds) -> seconds; None stays None."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else float(text)
    m = _DURATION.match(text)
    if not m or float(m.group(1)) <= 0:
        raise NasError(f"--time {text!r}: give a positive duration such as 90s, 30m or 1.5h")
    return float(m.group(1)) * _UNIT_S[(m.group(2) or "s").lower()]


@dataclass(frozen=True)
class SearchSettings:
    """One search. ``trials`` counts proxy-trained candidates (complete, pruned or failed);
    infeasible candidates (over a budget, never trained) and baselines come on top."""

    name: str = "search"
    out: Path | None = None  # default results/<name>
    space: str = "hybrid"
    data: str = "synthetic"
    val_data: str | None = None
    input_size: tuple[int, int] = (512, 512)
    budgets: tuple[str, ...] = ("5GFLOPs",)
    objectives: str | None = None
    trials: int | None = DEFAULT_TRIALS
    time_s: float | None = DEFAULT_TIME_S
    strategy: Strategy = "evolution"
    population: int | None = None  # first population (default from trials)
    runner: str = "local"  # a runner profile: name or YAML path (nas.search.load_runner)
    storage: str | None = None  # URL; default SQLite (journal file with workers > 1)
    workers: int = 1
    seed: int = 0
    resume: bool = False
    baselines: bool = True
    pruning: bool = True
    schedule: Schedule = DEFAULT_SCHEDULE
    device: str = "cpu"  # where candidates train
    latency_device: str | None = None  # what latency budgets/objectives mean (default: device)
    latency_dir: Path = Path("results/latency")
    max_infeasible: int = 5000
    command: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", self.name):
            raise NasError(f"--name {self.name!r}: use letters, digits, '_', '-' and '.', "
                           "starting with a letter or digit")
        if self.trials is not None and self.trials < 1:
            raise NasError(f"--trials {self.trials}: give a positive number of trials")
        if self.trials is None and self.time_s is None:
            raise NasError("give --trials or --time (or both): the search needs a stopping rule")
        if self.time_s is not None and self.time_s <= 0:
            raise NasError(f"--time {self.time_s}: must be positive")
        if self.strategy not in STRATEGIES:
            raise NasError(f"--strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.workers < 1:
            raise NasError(f"--workers {self.workers}: give 1 or more worker processes")
        if self.population is not None and self.population < 2:
            raise NasError(f"--population {self.population}: give 2 or more")
        _ = self.objective_list  # validates --objectives against the budget
        _ = self.budget  # validates the budget strings

    # ------------------------------------------------------------------ derived
    @property
    def budget(self) -> Budget:
        return parse_budgets(list(self.budgets))

    @property
    def objective_list(self) -> tuple[Objective, ...]:
        return parse_objectives(self.objectives, self.budget)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objective_list]

    @property
    def needs_latency(self) -> bool:
        return any(o.name == "latency_ms" for o in self.objective_list) or bool(
            self.budget.get("latency_ms"))

    @property
    def run_dir(self) -> Path:
        return Path(self.out) if self.out is not None else Path("results") / self.name

    @property
    def storage_url(self) -> str:
        """The storage URL: ``--storage``, or a journal file in the run folder (one appended
        line per write: about 1 ms where SQLite takes 5-30 ms, and several processes share it
        safely), copied to ``study.db`` (SQLite) when the run stops."""
        if self.storage:
            return self.storage
        return f"journal:{(self.run_dir / STUDY_JOURNAL).resolve()}"

    @property
    def runner_profile(self) -> Any:
        """The runner profile ``runner`` names (``nas.search.RunnerProfile``)."""
        from nas.search._runner import load_runner

        return load_runner(self.runner)

    @property
    def latency_on(self) -> str:
        """The latency device: cpu, cuda[:N] (PyTorch) or ort-cpu (the exported ONNX graph)."""
        return self.latency_device or self.device

    @property
    def population_size(self) -> int:
        if self.population is not None:
            return self.population
        target = self.trials or 40
        return max(4, min(50, target // 4))

    def replace(self, **changes: Any) -> SearchSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.run_dir)
        d["latency_dir"] = str(self.latency_dir)
        d["schedule"] = self.schedule.to_dict()
        d["budget"] = {lim.metric: lim.value for lim in self.budget.limits}
        d["objective_directions"] = {o.name: o.direction for o in self.objective_list}
        d["storage_url"] = self.storage_url
        return d
