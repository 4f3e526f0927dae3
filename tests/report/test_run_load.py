"""Reading run folders: tolerant of run.json's forms, one-line errors for what is missing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nas.errors import NasError
from nas.report import load_run
from nas.report._run import parse_objectives


@pytest.mark.parametrize("spec", [
    None, ["miou:maximize", "flops:minimize"], ["maximize miou", "flops"],
    [{"name": "miou", "direction": "maximize", "column": "miou"},
     {"name": "flops", "direction": "minimize", "column": "gflops"}],
    {"miou": "maximize", "flops": "minimize"}, "miou,flops",
])
def test_objective_forms(spec) -> None:
    got = parse_objectives(spec)
    assert [(o.name, o.direction) for o in got] == [("miou", "maximize"), ("flops", "minimize")]


def test_latency_objective() -> None:
    (o,) = parse_objectives([{"name": "latency", "direction": "minimize"}])
    assert o.name == "latency_ms" and o.label == "ms"


def _folder(tmp_path, info, rows):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "run.json").write_text(json.dumps(info))
    pd.DataFrame(rows).to_csv(tmp_path / "trials.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("info,budget", [
    ({"budget": {"flops": 5e9}}, {"flops": 5e9}),
    ({"budgets": ["5GFLOPs", "3.5M params"]}, {"flops": 5e9, "params": 3.5e6}),
    ({"budgets": "5GFLOPs, 30ms"}, {"flops": 5e9, "latency_ms": 30.0}),
    ({}, {}),
])
def test_budget_forms(tmp_path, info, budget) -> None:
    run = load_run(_folder(tmp_path, {**info, "input": "256x320"},
                           [{"number": 0, "state": "complete", "miou": 0.1, "flops": 1e9}]))
    assert run.budget == budget and run.input_size == (256, 320)
    assert run.trials["state"].tolist() == ["COMPLETE"] and not run.trials["baseline"].any()


def test_missing_columns_get_defaults(tmp_path) -> None:
    run = load_run(_folder(tmp_path, {}, [{"number": 1, "state": "INFEASIBLE", "flops": 9e9}]))
    row = run.row(1)
    assert not row["feasible"] and row["baseline_name"] == "" and pd.isna(row["miou"])
    with pytest.raises(NasError, match="no trial 7 .*numbered 1..1"):
        run.row(7)


@pytest.mark.parametrize("make,match", [
    (lambda p: p / "nope", "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "is empty"),
    (lambda p: (p / "f").write_text("x") and p / "f", "is not a folder"),
    (lambda p: _folder(p / "r", {}, []) and (p / "r" / "trials.csv").unlink() or p / "r",
     "no trials.parquet or trials.csv"),
])
def test_errors_are_one_line(tmp_path, make, match) -> None:
    with pytest.raises(NasError, match=match) as err:
        load_run(make(tmp_path))
    assert "\n" not in str(err.value)


def test_empty_table_and_bad_run_json(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "trials.csv").write_text("number,state\n")
    with pytest.raises(NasError, match="empty"):
        load_run(tmp_path / "a")
    d = _folder(tmp_path / "b", {}, [{"number": 0}])
    (d / "run.json").write_text("{not json")
    with pytest.raises(NasError, match="unreadable run record"):
        load_run(d)
