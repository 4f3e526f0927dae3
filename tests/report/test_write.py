"""Rendering: every file of the report, self-contained and small; the markdown carries the same
findings; the diagrams describe the architecture they draw."""

from __future__ import annotations

import re

import pytest

from nas.arch import load_arch, plan
from nas.report import SECTIONS, compute_report, write_report
from nas.report._diagram import diagram_figure, diagram_rows


@pytest.fixture(scope="module")
def written(built_run, tmp_path_factory):
    import shutil

    run = shutil.copytree(built_run, tmp_path_factory.mktemp("w") / "fixture")
    data = compute_report(run)
    return run, write_report(run, data=data), data


def test_files_and_size(written) -> None:
    from PIL import Image

    run, page, data = written
    assert page == run / "report.html"
    files = [run / "report.html", run / "report.md", run / "pareto.png"]
    for n in data.members:
        files += [run / "diagrams" / f"trial-{n}.svg", run / "diagrams" / f"trial-{n}.png"]
    assert all(f.is_file() and f.stat().st_size > 0 for f in files)
    assert sum(f.stat().st_size for f in files) < 2_000_000  # the whole report, not just HTML
    with Image.open(run / "pareto.png") as im:
        assert im.width > 600 and im.height > 300
    assert not list(run.glob("*.tmp")) and not list((run / "diagrams").glob("*.tmp*"))


def test_html_is_self_contained(written) -> None:
    run, page, data = written
    html = page.read_text()
    for s in SECTIONS:
        assert f'<section id="{s}"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html)
    assert "<link" not in html and "<img" not in html and "<script src" not in html
    assert html.count("<svg") >= 3 + len(data.members)  # pareto, hypervolume, importance
    assert 'id="front-table"' in html and 'class="sortable"' in html
    for f in data.findings:
        assert f.replace("&", "&amp;").replace("'", "&#x27;") in html


def test_markdown_has_the_same_findings(written) -> None:
    run, _, data = written
    md = (run / "report.md").read_text()
    for head in ("## Summary", "## Trials by state", "## Pareto front", "## Hypervolume",
                 "## Parameter importance", "## The front", "## Baselines at equal cost",
                 "## Architectures on the front"):
        assert head in md
    for f in data.findings:
        assert f"- {f}" in md
    assert "![Pareto front](pareto.png)" in md
    for n in data.members:
        assert f"diagrams/trial-{n}.png" in md and f"| {n} |" in md


def test_diagram_rows_follow_the_plan() -> None:
    arch = load_arch("hrvit_b1")
    rows = diagram_rows(arch)
    assert len(rows) == sum(len(s.branches) for s in arch.stages)
    assert all(r["live"] for r in rows)
    assert {r["cell"] for r in rows} == {"hr"} and "cswin" in rows[-1]["mixer"]
    from nas.space import load_space

    cls = load_space("hybrid").sample(seed=5)  # a CLS head: one cell nothing reads
    rows = diagram_rows(cls)
    assert sum(r["modules"] - r["kept"] for r in rows) == plan(cls).dropped == 1


def test_diagram_draws_every_cell() -> None:
    arch = load_arch("mpvit_tiny")
    fig = diagram_figure(arch, (512, 512), title="mpvit_tiny")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sum(t.startswith("MP x") for t in texts) == 4
    assert any("128x128" in t for t in texts) and any("segformer head" in t for t in texts)


def test_report_of_a_run_with_nothing_scored(tmp_path) -> None:
    """A search interrupted before any candidate trained still gets a report (Ctrl-C)."""
    import json

    import pandas as pd

    run = tmp_path / "early"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"name": "early", "budget": {"flops": 1e9}}))
    pd.DataFrame([
        {"number": 0, "state": "INFEASIBLE", "flops": 3e9, "params": 2e6},
        {"number": 1, "state": "FAIL", "flops": 5e8, "params": 1e6, "reason": "NaN loss"},
        {"number": 2, "state": "RUNNING", "flops": 6e8, "params": 1e6},
    ]).to_csv(run / "trials.csv", index=False)
    data = compute_report(run)
    assert data.front_table.empty and data.members == {} and data.hypervolume.final == 0.0
    assert "no front yet" in " ".join(data.findings)
    assert data.importance.reason and "too few" in data.hypervolume.verdict
    page = write_report(run, data=data)
    assert "No front yet." in page.read_text() and (run / "pareto.png").is_file()
