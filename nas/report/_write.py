"""``write_report(run_dir)``: compute the report, then draw and write every file of it."""

from __future__ import annotations

import os
from pathlib import Path

from nas.report._compute import ReportData, compute_report
from nas.report._run import RunData

__all__ = ["write_report"]


def write_report(run_dir: str | Path | RunData, importance: bool = True,
                 data: ReportData | None = None) -> Path:
    """Write ``report.html``, ``report.md``, ``pareto.png`` and ``diagrams/trial-<N>.svg|png``
    into the run folder and return the path of ``report.html``. Files are replaced atomically,
    so a reader (or a search writing its report on Ctrl-C) never sees half a report."""
    from nas.report._diagram import diagram_figure
    from nas.report._html import render_html
    from nas.report._markdown import render_markdown
    from nas.report._plots import (
        hypervolume_figure,
        importance_figure,
        pareto_figure,
        save_png,
        to_svg,
    )

    data = data if data is not None else compute_report(run_dir, importance=importance)
    out = Path(data.run_dir)
    figures: dict[str, str] = {}
    images: dict[str, str] = {}
    fig = pareto_figure(data.fronts)
    figures["pareto"] = to_svg(fig, "pareto")
    _atomic_png(fig, out / "pareto.png", save_png)
    images["pareto"] = "pareto.png"
    figures["hypervolume"] = to_svg(hypervolume_figure(data.hypervolume), "hv")
    imp = importance_figure(data.importance)
    if imp is not None:
        figures["importance"] = to_svg(imp, "importance")
    diagrams: dict[int, str] = {}
    ddir = out / "diagrams"
    ddir.mkdir(exist_ok=True)
    size = _input(data)
    for n, arch in data.members.items():
        if arch is None:
            continue
        dfig = diagram_figure(arch, size, title=f"trial {n}")
        svg = to_svg(dfig, f"trial{n}")
        diagrams[n] = svg
        _atomic_text(ddir / f"trial-{n}.svg", '<?xml version="1.0" encoding="utf-8"?>\n'
                     + svg.replace('<svg class="plot" style="max-width:100%;height:auto" ',
                                   "<svg ", 1))
        _atomic_png(dfig, ddir / f"trial-{n}.png", save_png)
        images[f"diagram-{n}"] = f"diagrams/trial-{n}.png"
    page = render_html(data, figures, diagrams)
    _atomic_text(out / "report.md", render_markdown(data, images))
    return _atomic_text(out / "report.html", page)


def _input(data: ReportData) -> tuple[int, int]:
    from nas.metrics import parse_size

    return parse_size(data.summary.get("input", "512x512"))


def _atomic_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _atomic_png(fig, path: Path, save) -> Path:
    tmp = path.with_name(path.stem + ".tmp.png")
    save(fig, tmp)
    os.replace(tmp, path)
    return path
