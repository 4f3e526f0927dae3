"""``nas report RUN_DIR``: write report.html, report.md, pareto.png and diagrams/ of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["report_cmd"]


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by 'nas search' "
                                            "(results/<name>).")],
    no_importance: Annotated[bool, typer.Option(
        "--no-importance", help="Skip parameter importance (faster on large studies).")] = False,
) -> None:
    """Write the report of RUN_DIR (HTML, markdown, Pareto PNG, architecture diagrams)."""
    from nas.report import compute_report, write_report

    data = compute_report(run_dir, importance=not no_importance)
    page = write_report(run_dir, data=data)
    for line in data.findings:
        typer.echo(f"- {line}")
    typer.echo(f"report: {page} (and report.md, pareto.png, diagrams/ beside it)")
