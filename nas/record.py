"""``run.json``: the record of one search run, as one typed, versioned model (:class:`RunRecord`).

``nas search`` writes it (``nas.search.write_run``) and every reader (``nas.search.read_run``,
``nas.report.load_run``, the exporter) reads it through :meth:`RunRecord.read`, so the writer and
the readers cannot drift apart: one form of objectives (``[{"name", "direction", "column",
"unit"}]``), budgets (``budgets``: the texts as given, ``budget``: ``{metric: limit}``) and input
size (``[H, W]``). Keys the model does not name (``counts``, ``finished``, later additions) are
kept as they are. Pure Python (pydantic): no torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

from nas.budget import Budget
from nas.errors import NasError, validation_message
from nas.metrics import Objective

__all__ = ["MEASURED_LATENCY", "RECORD_VERSION", "RUN_FILE", "STUDY_DB", "STUDY_JOURNAL",
           "RunRecord", "study_storage"]

RUN_FILE = "run.json"
STUDY_JOURNAL = "study.journal"  # the live study (the default storage of a search)
STUDY_DB = "study.db"  # SQLite: the journal's copy at the end of a run, or a run's own storage
MEASURED_LATENCY = "latency_measured.csv"  # a latency-budgeted run's front, timed whole at the end
RECORD_VERSION = 1


class RunRecord(BaseModel):
    """What ``run.json`` holds (layout in results/README.md)."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    record_version: int = RECORD_VERSION
    name: str = ""
    command: str = ""
    seed: int = 0
    space: str = "hybrid"
    space_hash: str = ""
    input: tuple[int, int] | None = None
    budgets: list[str] = Field(default_factory=list)
    budget: dict[str, float] = Field(default_factory=dict)
    objectives: tuple[Objective, ...] = (Objective("miou"), Objective("flops"))
    strategy: str = ""
    runner: str = "local"
    data: str = ""
    schedule: dict[str, Any] = Field(default_factory=dict)
    storage: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str | None] = Field(default_factory=dict)
    machine: dict[str, Any] = Field(default_factory=dict)
    status: str = ""
    started: str | None = None
    updated: str | None = None
    invocations: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("record_version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v > RECORD_VERSION:
            raise ValueError(f"record_version {v} was written by a newer nas (this one reads "
                             f"{RECORD_VERSION}); upgrade nas")
        return v

    @field_validator("objectives", mode="before")
    @classmethod
    def _objectives(cls, v: Any) -> tuple[Objective, ...]:
        if not isinstance(v, (list, tuple)) or not v:
            raise ValueError("give a non-empty list of {name, direction}")
        out = []
        for item in v:
            if isinstance(item, Objective):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                out.append(Objective(item["name"], item.get("direction")))
            else:
                raise ValueError(f"objective {item!r}: give {{'name': ..., 'direction': ...}}")
        return tuple(out)

    @field_serializer("objectives")
    def _dump_objectives(self, v: tuple[Objective, ...]) -> list[dict[str, str]]:
        return [{"name": o.name, "direction": o.direction, "column": o.column, "unit": o.unit}
                for o in v]

    @field_validator("budget")
    @classmethod
    def _budget(cls, v: dict[str, float]) -> dict[str, float]:
        return Budget.from_dict(v).to_dict()  # known metrics, finite limits > 0

    @property
    def budget_limits(self) -> Budget:
        return Budget.from_dict(self.budget)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the form :meth:`read` accepts."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Any, source: str = RUN_FILE) -> RunRecord:
        if not isinstance(data, dict):
            raise NasError(f"{source}: a run record is a JSON object, got {type(data).__name__}; "
                           "re-run the search or restore the file")
        try:
            return cls.model_validate(data)
        except (ValidationError, NasError) as exc:
            detail = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
            raise NasError(f"{source}: {detail}; re-run the search or fix the file") from None

    @classmethod
    def read(cls, run_dir: str | Path) -> RunRecord | None:
        """The record of ``run_dir``; None when it has no ``run.json``; NasError (one line
        naming the file) when it cannot be read or is not a run record."""
        path = Path(run_dir) / RUN_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NasError(f"{path}: unreadable run record ({exc}); re-run the search or fix "
                           "the file") from None
        return cls.from_dict(data, str(path))

    def write(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/run.json`` atomically (temp file, then ``os.replace``)."""
        path = Path(run_dir) / RUN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        os.replace(tmp, path)
        return path



def study_storage(run_dir: str | Path, *, final_first: bool = False) -> Any:
    """The Optuna storage of a run folder's study: the live journal (``study.journal``), else
    ``study.db`` (a run that used SQLite); with ``final_first``, ``study.db`` first (the copy
    made when the run stopped). NasError when the folder has neither."""
    run_dir = Path(run_dir)
    journal, db = run_dir / STUDY_JOURNAL, run_dir / STUDY_DB
    for path in ((db, journal) if final_first else (journal, db)):
        if path.is_file():
            if path == db:
                return f"sqlite:///{db.resolve()}"
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            return JournalStorage(JournalFileBackend(str(journal)))
    raise NasError(f"{run_dir} has no {STUDY_JOURNAL} or {STUDY_DB}: not a search run folder")
