"""``report.md``: the report's findings as text (terminals, pull requests)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from nas.report._compute import ReportData

__all__ = ["md_table", "render_markdown"]


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{int(v)}" if v.is_integer() and abs(v) >= 1000 else f"{v:.4g}"
    return str(v).replace("|", "\\|")


def md_table(df: pd.DataFrame) -> str:
    """A GitHub pipe table of ``df``."""
    if df.empty:
        return "_(none)_"
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def render_markdown(data: ReportData, images: dict[str, str]) -> str:
    """The markdown report. ``images``: name -> relative path of a PNG to link."""
    out = [f"# NAS report: {data.name}", ""]
    out += [f"- {f}" for f in data.findings] + [""]
    out += ["## Summary", "", md_table(pd.DataFrame({"": list(data.summary),
                                                     "value": list(data.summary.values())})), ""]
    out += ["## Trials by state", "", md_table(data.counts), ""]
    out += ["## Pareto front", ""]
    if "pareto" in images:
        out += [f"![Pareto front]({images['pareto']})", ""]
    for fr in data.fronts:
        pts = fr.front[["number", "y", "x"]].rename(
            columns={"number": "trial", "y": "mIoU", "x": fr.x_label})
        budget = f" (budget {fr.budget:.4g})" if fr.budget is not None else ""
        out += [f"### mIoU vs {fr.x_label}{budget}", "", md_table(pts), ""]
    hv = data.hypervolume
    out += ["## Hypervolume", "", f"Final {hv.final:.4f}"
            + (f", baselines alone {hv.baselines:.4f}" if hv.baselines is not None else "")
            + f". {hv.verdict}.", ""]
    if len(hv.by_trial):
        step = max(1, len(hv.by_trial) // 10)
        out += [md_table(hv.by_trial.iloc[::step]), ""]
    out += ["## Parameter importance", ""]
    imp = data.importance
    if imp.targets:
        out += [imp.evaluator, ""]
        for target, vals in imp.targets.items():
            top = pd.DataFrame(list(vals.items())[:8], columns=["parameter", "importance"])
            out += [f"### {target}", "", md_table(top), ""]
    else:
        out += [f"Not computed: {imp.reason}.", ""]
    out += ["## The front", "", md_table(data.front_table), ""]
    if len(data.retrained):
        out += ["## After full training", "", md_table(data.retrained), "",
                "Retrained with the full schedule (`nas retrain`): validation mIoU of the EMA "
                "model, mean over the seeds; test mIoU of the final model.", ""]
    out += ["## Baselines at equal cost", "", md_table(data.baselines), ""]
    out += ["## Architectures on the front", ""]
    for n in data.members:
        key = f"diagram-{n}"
        out += [f"- trial {n}: ![trial {n}]({images[key]})" if key in images else f"- trial {n}"]
    return "\n".join(out) + "\n"
