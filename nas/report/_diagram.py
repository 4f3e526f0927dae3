"""An architecture diagram drawn from an :class:`~nas.arch.ArchConfig` and its plan.

Rows are branches (stride 4 at the top, with their resolution at the deployment input),
columns are the stem, the stages and the head. Every active cell is a box coloured by its type
(HRViT ``hr``, MPViT ``mp``, AFFormer ``af``) with its modules, paths, widths, depths, mixer and
FFN; cells the head never reads (dropped by the plan) are greyed out; fusion is a bar across the
branches it mixes; arrows show where each cell reads from.
"""

from __future__ import annotations

from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["CELL_COLOURS", "diagram_figure", "diagram_rows"]

CELL_COLOURS = {"hr": "#cfe2f3", "mp": "#d9ead3", "af": "#fce5cd", "stem": "#eeeeee",
                "head": "#e6d9f2", "dropped": "#f4f4f4"}
_EDGE = {"hr": "#3d85c6", "mp": "#6aa84f", "af": "#e69138", "stem": "#888888",
         "head": "#8e7cc3", "dropped": "#bbbbbb"}
_CELL_NAME = {"hr": "HR cell (HRViT)", "mp": "MP cell (MPViT)", "af": "AF cell (AFFormer)"}
BOX_W, BOX_H, DX, DY = 1.75, 0.92, 2.15, 1.18


def _mixer_text(mx: Any) -> str:
    if mx is None:
        return "no blocks"
    if mx.type == "cswin":
        return f"cswin attn h{mx.heads} win{mx.window}"
    text = f"{'factorized attn' if mx.type == 'factorized' else 'freq filter'} h{mx.heads}"
    text += f" k{','.join(map(str, mx.hp_kernels or ()))}"
    if mx.type == "freq" and mx.lp_sizes:
        text += f" lp{','.join(map(str, mx.lp_sizes))}"
    return text


def diagram_rows(arch: Any) -> list[dict[str, Any]]:
    """One dict per (stage, active branch): what the box shows, and how many of its modules'
    cells the plan keeps (``kept`` of ``modules``; ``live``: any). Also what tests check (the
    drawing is only its picture)."""
    from nas.arch import plan

    kept: dict[tuple[int, int], int] = {}
    for m in plan(arch).modules:
        for c in m.cells:
            kept[(c.branch, id(c.cfg))] = kept.get((c.branch, id(c.cfg)), 0) + 1
    rows = []
    for s, st in enumerate(arch.stages):
        for b, br in enumerate(st.branches, start=st.first_branch(s)):
            head = f"{br.cell.upper()} x{st.modules}"
            if br.cell in ("mp", "af") and br.paths > 1:
                head += f", {br.paths} paths"
            if br.cell == "af" and br.proto_stride > 1:
                head += f", protos /{br.proto_stride}"
            width = f"w {br.width}" + (f" -> {br.out_width}" if br.out_width not in
                                       (None, br.width) else "")
            ffn = "" if br.ffn is None or not any(br.depths) else \
                f"{br.ffn.type} x{br.ffn.ratio:g}"
            rows.append({"stage": s, "branch": b, "cell": br.cell, "title": head,
                         "width": width, "depths": f"depth {'/'.join(map(str, br.depths))}",
                         "mixer": _mixer_text(br.mixer if any(br.depths) else None),
                         "ffn": ffn, "fusion": st.fusion, "opens": b == s,
                         "kept": kept.get((b, id(br)), 0), "modules": st.modules,
                         "live": kept.get((b, id(br)), 0) > 0})
    return rows


def diagram_figure(arch: Any, input_size: tuple[int, int] = (512, 512),
                   title: str | None = None) -> Figure:
    """The diagram of ``arch``; resolutions are given at ``input_size`` (H, W)."""
    with rc_context({"svg.fonttype": "none", "font.size": 7}):
        return _draw(arch, input_size, title)


def _draw(arch: Any, input_size: tuple[int, int], title: str | None) -> Figure:
    n = len(arch.stages)
    rows = diagram_rows(arch)
    fig = Figure(figsize=(1.6 + DX * (n + 2) * 0.78, 0.9 + DY * n * 0.78))
    ax = fig.add_axes((0, 0, 1, 0.93 if title else 1))
    ax.set_xlim(-2.45, DX * (n + 1) + BOX_W / 2 + 0.1)
    ax.set_ylim(-DY * (n - 1) - BOX_H / 2 - 0.35, BOX_H / 2 + 0.3)
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9, y=0.99)
    h, w = input_size
    strides = [st.stride for st in arch.stages]
    for b, stride in enumerate(strides):
        ax.text(-2.4, -b * DY, f"branch {b + 1}\n1/{stride}: {h // stride}x{w // stride}",
                va="center", ha="left", fontsize=7, color="#444444")
    _box(ax, 0, 0, "stem", [f"stem w{arch.stem.width}", f"2 conv s2 {arch.stem.act}",
                            f"{h}x{w} -> {h // 4}x{w // 4}"])
    last: dict[int, tuple[float, float]] = {0: (0.0, 0.0)}
    for s in range(n):
        x = DX * (s + 1)
        prev = dict(last)  # cells read the previous stage's outputs
        cells = [r for r in rows if r["stage"] == s]
        if cells and cells[0]["fusion"]:
            top, bot = min(r["branch"] for r in cells), max(r["branch"] for r in cells)
            ax.plot([x - BOX_W / 2 - 0.12] * 2, [-top * DY + 0.35, -bot * DY - 0.35],
                    color="#8e7cc3", lw=3, solid_capstyle="round", alpha=0.8)
            ax.text(x - BOX_W / 2 - 0.18, -top * DY + 0.5, "fuse", fontsize=6, color="#8e7cc3",
                    ha="center")
        for r in cells:
            b, y = r["branch"], -r["branch"] * DY
            src = prev.get(b) if not r["opens"] or s == 0 else prev.get(b - 1)
            if src is not None:
                _arrow(ax, (src[0] + BOX_W / 2, src[1]), (x - BOX_W / 2, y),
                       f"/{arch.stages[s].stride // strides[s - 1]}" if r["opens"] and s else "")
            kind = r["cell"] if r["live"] else "dropped"
            lines = [r["title"], r["width"], r["depths"], r["mixer"], r["ffn"]]
            if not r["live"]:
                lines[-1] = "(unused by the head)"
            elif r["kept"] < r["modules"]:
                lines[0] += f" ({r['modules'] - r['kept']} unused)"
            _box(ax, x, y, kind, [t for t in lines if t])
            last[b] = (x, y)
    xh = DX * (n + 1)
    from nas.arch import head_inputs

    reads = head_inputs(arch)
    yh = -sum(reads) / len(reads) * DY
    _box(ax, xh, yh, "head", [f"{arch.head.type} head", f"w {arch.head.width}",
                              f"-> {arch.num_classes} classes", f"{h}x{w} logits"])
    for b in reads:
        if b in last:  # along the branch's row (no box there any more), then into the head
            xe, ye = last[b][0] + BOX_W / 2, last[b][1]
            bend = xh - BOX_W / 2 - 0.3
            if bend > xe:
                ax.plot([xe, bend], [ye, ye], color="#666666", lw=0.8)
                xe = bend
            _arrow(ax, (xe, ye), (xh - BOX_W / 2, yh), "")
    used = sorted({r["cell"] for r in rows})
    legend = "   ".join(f"{_CELL_NAME[c]}" for c in used) + "   grey: unused by the head"
    ax.text(0.0, -DY * (n - 1) - BOX_H / 2 - 0.28, legend, fontsize=6.5, color="#555555",
            va="center")
    return fig


def _box(ax, x: float, y: float, kind: str, lines: list[str]) -> None:
    ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=CELL_COLOURS[kind], ec=_EDGE[kind], lw=1.0,
                                ls="--" if kind == "dropped" else "-"))
    ax.text(x, y + BOX_H / 2 - 0.1, lines[0], ha="center", va="top", fontsize=7,
            fontweight="bold", color="#222222" if kind != "dropped" else "#999999")
    ax.text(x, y + BOX_H / 2 - 0.28, "\n".join(lines[1:]), ha="center", va="top",
            fontsize=6.2, linespacing=1.25, color="#333333" if kind != "dropped" else "#999999")


def _arrow(ax, a: tuple[float, float], b: tuple[float, float], label: str) -> None:
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=8, lw=0.8,
                                 color="#666666", shrinkA=1, shrinkB=1))
    if label:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, label, fontsize=6, color="#666666",
                ha="right", va="top")
