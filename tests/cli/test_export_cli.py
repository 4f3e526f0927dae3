"""``nas export RUN_DIR``: selections, formats, and one-line errors with exit code 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from nas.arch import load_arch
from nas.cli import main


@pytest.fixture
def run_dir(built_run, tmp_path) -> Path:
    return Path(shutil.copytree(built_run, tmp_path / "fixture"))


def _front(run: Path) -> list[int]:
    df = pd.read_csv(run / "trials.csv")
    return sorted(df.loc[df["pareto"], "number"].astype(int))


def test_export_front_by_default(run_dir, capsys) -> None:
    assert main(["export", str(run_dir)]) == 0
    out, _ = capsys.readouterr()
    front = _front(run_dir)
    for n in front:
        arch = load_arch(run_dir / "export" / f"fixture_trial{n}.yaml")
        assert arch.name == f"fixture_trial{n}"
        assert (run_dir / "export" / f"fixture_trial{n}.md").is_file()
    assert f"exported {len(front)} architecture(s)" in out and "nas_fixture_trial" in out


def test_export_one_trial_as_json(run_dir, tmp_path, capsys) -> None:
    n = _front(run_dir)[0]
    out_dir = tmp_path / "o"
    assert main(["export", str(run_dir), "--trial", str(n), "--format", "json",
                 "--out", str(out_dir)]) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [f"fixture_trial{n}.json",
                                                         f"fixture_trial{n}.md"]
    assert main(["export", str(run_dir), "--trial", str(n), "--format", "json",
                 "--out", str(out_dir)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--trial", str(n), "--format", "json",
                 "--out", str(out_dir), "--force"]) == 0


@pytest.mark.parametrize("args,match", [
    (["--trial", "999"], "no trial 999"),
    (["--best", "--pareto"], "--best and --pareto conflict"),
    (["--trial", "0", "--pareto"], "--trial and --pareto conflict"),
    (["--format", "tflite"], "--format 'tflite'"),
    (["--best", "--weights"], "no weights for trial"),
])
def test_export_errors(run_dir, capsys, args, match) -> None:
    assert main(["export", str(run_dir), *args]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("nas: error: ") and match in err and err.count("\n") == 1


def test_export_incomplete_trial(run_dir, capsys) -> None:
    df = pd.read_csv(run_dir / "trials.csv")
    for state in ("INFEASIBLE", "PRUNED", "FAIL"):
        n = int(df.loc[df["state"] == state, "number"].iloc[0])
        assert main(["export", str(run_dir), "--trial", str(n)]) == 2
        err = capsys.readouterr().err
        assert f"trial {n} is {state}" in err and "not COMPLETE" in err


def test_export_empty_or_missing_folder(tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["export", str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "gone"), "--best"]) == 2
    assert "does not exist" in capsys.readouterr().err
