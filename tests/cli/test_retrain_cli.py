"""``nas retrain``: a tiny real search retrained with a tiny full schedule writes its table and
the report's "after full training" section; bad arguments are one line and exit code 2."""

from __future__ import annotations

import pandas as pd
import pytest

from nas.cli import main

SEARCH = ["--epochs", "2", "--n-train", "16", "--n-val", "8", "--train-size", "64x64",
          "--threads", "1", "--data", "synthetic:64,16", "--budget", "2GFLOPs", "--quiet",
          "--no-baselines", "--no-report", "--trials", "2", "--name", "r"]
TINY = ["--epochs", "2", "--input", "48x48", "--n-train", "16", "--n-val", "8", "--threads", "1"]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("retrain") / "run"
    assert main(["search", *SEARCH, "--out", str(out)]) == 0
    return out


def test_retrain_writes_table_and_report_section(searched, capsys):
    front = pd.read_parquet(searched / "trials.parquet").query("pareto")["number"].tolist()
    assert front
    assert main(["retrain", str(searched), "--pareto", "--seeds", "0,1", *TINY]) == 0
    table = pd.read_parquet(searched / "retrain.parquet")
    assert sorted(zip(table["number"], table["seed"], strict=True)) == sorted(
        (n, s) for n in front for s in (0, 1))
    assert (table["status"] == "ok").all() and table["miou_full"].between(0, 1).all()
    assert table["miou_proxy"].notna().all()
    assert pd.read_csv(searched / "retrain.csv")["miou_full"].tolist() == pytest.approx(
        table["miou_full"].tolist())
    md = (searched / "report.md").read_text()
    assert "## After full training" in md
    assert md.index("## The front") < md.index("## After full training")
    assert 'id="retrained"' in (searched / "report.html").read_text()
    # finished pairs are read back, not trained again
    stamp = (searched / "retrain" / f"trial-{front[0]}-seed-0" / "metrics.json").stat().st_mtime
    capsys.readouterr()
    assert main(["retrain", str(searched), "--pareto", "--seeds", "0,1", *TINY]) == 0
    assert (searched / "retrain" / f"trial-{front[0]}-seed-0" /
            "metrics.json").stat().st_mtime == stamp
    # ... and never mixed with results of another schedule
    capsys.readouterr()
    longer = [a if a != "2" else "3" for a in TINY]
    assert main(["retrain", str(searched), "--pareto", "--seeds", "0", *longer]) == 2
    err = capsys.readouterr().err
    assert "retrained with another schedule" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv, message", [
    (["--trial", "999"], "no trial 999"),
    (["--baselines"], "no completed baselines"),
    ([], "nothing to retrain"),
    (["--pareto", "--seeds", "a"], "--seeds"),
    (["--pareto", "--data", "camvid:/no/such/dir"], "does not exist"),
])
def test_retrain_bad_arguments_are_one_line(searched, capsys, argv, message):
    capsys.readouterr()
    before = (searched / "trials.parquet").read_bytes()
    assert main(["retrain", str(searched), *argv, *TINY]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert (searched / "trials.parquet").read_bytes() == before


def test_retrain_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("not a run")
    assert main(["retrain", str(tmp_path), "--pareto"]) == 2
    err = capsys.readouterr().err
    assert "trials.parquet" in err and err.count("\n") == 1, err
    assert main(["retrain", str(tmp_path / "missing"), "--pareto"]) == 2
    assert "does not exist" in capsys.readouterr().err
