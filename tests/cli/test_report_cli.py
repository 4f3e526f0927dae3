"""``nas report RUN_DIR``: writes the report and prints its findings; one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nas.cli import main


def test_report_writes_every_file(built_run, tmp_path, capsys) -> None:
    run = Path(shutil.copytree(built_run, tmp_path / "fixture"))
    assert main(["report", str(run), "--no-importance"]) == 0
    out, err = capsys.readouterr()
    assert f"report: {run / 'report.html'}" in out
    assert "search trials:" in out and "The front has" in out
    for name in ("report.html", "report.md", "pareto.png"):
        assert (run / name).is_file()
    assert list((run / "diagrams").glob("trial-*.svg"))
    assert "not computed" in (run / "report.md").read_text()


@pytest.mark.parametrize("make,match", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "e").mkdir() or p / "e", "is empty"),
    (lambda p: (p / "j").mkdir() or (p / "j" / "run.json").write_text("{}") and p / "j",
     "no trials.parquet or trials.csv"),
])
def test_report_errors(tmp_path, capsys, make, match) -> None:
    assert main(["report", str(make(tmp_path))]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("nas: error: ") and match in err and err.count("\n") == 1
