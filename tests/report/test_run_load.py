"""Reading run folders: tolerant of run.json's forms, one-line errors for what is missing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nas.errors import NasError
from nas.record import RunRecord
from nas.report import load_run


def _folder(tmp_path, info, rows):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "run.json").write_text(json.dumps(info))
    pd.DataFrame(rows).to_csv(tmp_path / "trials.csv", index=False)
    return tmp_path


_ROW = [{"number": 0, "state": "complete", "miou": 0.1, "flops": 1e9}]


def test_reads_what_the_writer_writes(tmp_path) -> None:
    """The record the search writes (RunRecord, as nas.search.write_run builds it) comes back
    whole: objectives, budget and input size in their one form."""
    from nas.metrics import Objective

    rec = RunRecord(name="r", input=(256, 320), budgets=["5GFLOPs", "30ms"],
                    budget={"flops": 5e9, "latency_ms": 30.0},
                    objectives=(Objective("miou"), Objective("latency")), counts={"trained": 1})
    run = load_run(_folder(tmp_path, rec.to_dict(), _ROW))
    assert run.budget == {"flops": 5e9, "latency_ms": 30.0} and run.input_size == (256, 320)
    assert [(o.name, o.direction, o.label) for o in run.objectives] == [
        ("miou", "maximize", "mIoU"), ("latency_ms", "minimize", "ms")]
    assert run.info["counts"] == {"trained": 1} and run.info["record_version"] == 1
    assert run.trials["state"].tolist() == ["COMPLETE"] and not run.trials["baseline"].any()


def test_no_run_json_means_the_defaults(tmp_path) -> None:
    _folder(tmp_path, {}, _ROW)
    (tmp_path / "run.json").unlink()
    run = load_run(tmp_path)
    assert [(o.name, o.direction) for o in run.objectives] == [("miou", "maximize"),
                                                               ("flops", "minimize")]
    assert run.budget == {} and run.input_size is None


@pytest.mark.parametrize("info,match", [
    ({"objectives": ["miou:maximize", "flops:minimize"]}, "objectives"),
    ({"objectives": [{"name": "speed"}]}, "unknown metric 'speed'"),
    ({"budget": {"gflops": 5}}, "budget metric 'gflops'"),
    ({"budgets": "5GFLOPs, 30ms"}, "budgets"),
    ({"input": "256x320"}, "input"),
    ({"record_version": 9}, "newer nas"),
])
def test_other_forms_are_refused_in_one_line(tmp_path, info, match) -> None:
    with pytest.raises(NasError, match=match) as err:
        load_run(_folder(tmp_path, info, _ROW))
    assert "\n" not in str(err.value) and "run.json" in str(err.value)


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
