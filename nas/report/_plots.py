"""Matplotlib figures of a computed report; they only draw what :mod:`._compute` computed.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state) and turned
into inline SVG text (fonts as text, so an SVG is a few tens of kB) or PNG files.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib import rc_context
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from nas.report._compute import Front, Hypervolume
    from nas.report._importance import Importance

__all__ = ["STYLE", "hypervolume_figure", "importance_figure", "pareto_figure", "save_png",
           "to_svg"]

# kind -> (marker, face colour, edge colour, size, legend label)
STYLE = {
    "search": ("o", "#9db4cc", "#6d87a3", 22, "complete (dominated)"),
    "front": ("o", "#1f5fbf", "#0b2f66", 40, "Pareto front"),
    "baseline": ("*", "#f28e2b", "#8a4500", 130, "baseline (published design)"),
    "pruned": ("v", "none", "#7f7f7f", 26, "pruned (last intermediate mIoU)"),
    "failed": ("X", "#d62728", "#d62728", 30, "failed"),
    "infeasible": ("x", "#8c564b", "#8c564b", 22, "infeasible: over budget, never trained"),
}
_RC = {"svg.fonttype": "none", "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
       "legend.fontsize": 7, "xtick.labelsize": 7, "ytick.labelsize": 7}


def _styled(fn):
    """Build the figure under the report's rc settings (sizes are read when artists are made)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with rc_context(_RC):
            return fn(*args, **kwargs)

    return wrapper


@_styled
def pareto_figure(fronts: list[Front]) -> Figure:
    """mIoU against each cost metric, every trial state drawn distinctly, budget lines."""
    n = max(1, len(fronts))
    fig = Figure(figsize=(5.4 * n, 4.3), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    if not fronts:
        axes[0].text(0.5, 0.5, "no trial has a cost yet", ha="center", transform=axes[0].transAxes)
        return fig
    for ax, fr in zip(axes, fronts):
        _pareto_axes(ax, fr)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)),
               frameon=False)
    return fig


def _pareto_axes(ax, fr: Front) -> None:
    pts = fr.points
    scored = pts["y"].dropna()
    lo, hi = (float(scored.min()), float(scored.max())) if len(scored) else (0.0, 1.0)
    span = max(hi - lo, 0.02)
    rug = lo - 0.12 * span
    for kind in ("search", "infeasible", "failed", "pruned", "baseline", "front"):
        sub = pts[pts["kind"] == kind]
        if sub.empty:
            continue
        marker, face, edge, size, label = STYLE[kind]
        y = sub["y"].fillna(rug).to_numpy()
        colours = {"c": edge} if marker in ("x", "+") else {"c": face, "edgecolors": edge}
        ax.scatter(sub["x"], y, marker=marker, s=size, linewidths=0.8, label=label,
                   zorder=4 if kind == "front" else 3, **colours)
        if kind == "baseline":
            _label(ax, sub["x"].to_numpy(), y, [t or "baseline" for t in sub["label"]], span)
    front = fr.front
    if len(front) > 1:
        ax.step(front["x"], front["y"], where="post", color="#1f5fbf", lw=1.0, alpha=0.6,
                zorder=2)
    if (pts["y"].isna()).any():
        ax.axhline(lo - 0.06 * span, color="#bbbbbb", lw=0.6, ls=":")
        ax.text(0.01, rug, " no score", transform=ax.get_yaxis_transform(), fontsize=6,
                va="center", color="#777777")
    if fr.budget is not None:
        ax.axvline(fr.budget, color="#d62728", lw=1.2, ls="--", label="budget", zorder=1)
        ax.axvspan(fr.budget, max(fr.budget, float(pts["x"].max())) * 1.05, color="#d62728",
                   alpha=0.05, zorder=0)
        ax.text(fr.budget, 0.985, f" budget {fr.budget:.3g} {fr.x_label}", fontsize=7,
                transform=ax.get_xaxis_transform(), color="#d62728", va="top", ha="left")
    xs = pts["x"][pts["x"] > 0]
    if len(xs) and xs.max() / xs.min() > 20:
        ax.set_xscale("log")
    ax.set_ylim(rug - 0.06 * span, hi + 0.08 * span)
    ax.set_xlabel(fr.x_label)
    ax.set_ylabel("mIoU")
    ax.set_title(f"mIoU vs {fr.x_label}")
    ax.grid(alpha=0.25, lw=0.5)


def _label(ax, xs, ys, texts, span: float) -> None:
    """Baseline names beside their stars, nudged apart vertically so they do not overlap (a
    thin leader joins a moved label to its point)."""
    from matplotlib.transforms import offset_copy

    shifted = offset_copy(ax.transData, fig=ax.figure, x=7, y=0, units="points")
    gap = 0.05 * span
    placed: list[float] = []
    for i in sorted(range(len(xs)), key=lambda i: ys[i]):
        y = ys[i] if not placed else max(ys[i], placed[-1] + gap)
        placed.append(y)
        leader = {"arrowstyle": "-", "lw": 0.4, "color": "#c9a27e"} if y != ys[i] else None
        ax.annotate(texts[i], xy=(xs[i], ys[i]), xytext=(xs[i], y), textcoords=shifted,
                    fontsize=6.5, color="#8a4500", ha="left", va="center",
                    arrowprops=leader, annotation_clip=False)


@_styled
def hypervolume_figure(hv: Hypervolume) -> Figure:
    """Hypervolume after each trial and over wall time (is the search still improving?)."""
    fig = Figure(figsize=(8.4, 3.0), layout="constrained")
    a, b = fig.subplots(1, 2)
    t = hv.by_trial
    if len(t):
        a.step(t["number"], t["hypervolume"], where="post", color="#1f5fbf", lw=1.4,
               label="search front")
    if hv.baselines is not None:
        for ax in (a, b):
            ax.axhline(hv.baselines, color="#f28e2b", ls="--", lw=1.0, label="baselines alone")
    a.set_xlabel("trial number")
    a.set_ylabel("hypervolume (normalised)")
    a.set_title("hypervolume over trials")
    tt = hv.by_time
    if len(tt):
        b.step(tt["seconds"] / 60.0, tt["hypervolume"], where="post", color="#2ca02c", lw=1.4,
               label="search front")
    else:
        b.text(0.5, 0.5, "no trial timestamps", ha="center", transform=b.transAxes)
    b.set_xlabel("wall time (minutes)")
    b.set_title("hypervolume over time")
    for ax in (a, b):
        ax.grid(alpha=0.25, lw=0.5)
        ax.set_ylim(bottom=0)
    if a.get_legend_handles_labels()[0]:
        a.legend(loc="lower right", frameon=False)
    return fig


@_styled
def importance_figure(imp: Importance, top: int = 12) -> Figure | None:
    """Horizontal bars of the most important parameters, one panel per target."""
    if not imp.targets:
        return None
    targets = list(imp.targets.items())[:3]
    fig = Figure(figsize=(4.2 * len(targets), 0.26 * top + 1.0), layout="constrained")
    axes = fig.subplots(1, len(targets), squeeze=False)[0]
    for ax, (name, values) in zip(axes, targets):
        items = list(values.items())[:top][::-1]
        ax.barh([k for k, _ in items], [v for _, v in items], color="#4c78a8")
        ax.set_title(f"importance for {name}")
        ax.set_xlabel("share of importance")
        ax.tick_params(axis="y", labelsize=6.5)
        ax.grid(axis="x", alpha=0.25, lw=0.5)
    return fig


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog; scales to its container)."""
    buf = io.StringIO()
    with rc_context({**_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text.replace("<svg ", '<svg class="plot" style="max-width:100%;height:auto" ', 1)


def save_png(fig: Figure, path: Path, dpi: int = 110) -> Path:
    with rc_context(_RC):
        fig.savefig(path, format="png", dpi=dpi)
    return path
