"""``report.html``: one self-contained page (inline SVG figures, inline CSS and a few lines of
script to sort tables); nothing is fetched, so it works offline and stays small."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from nas.report._compute import ReportData

__all__ = ["render_html", "table_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:14px 28px}header h1{margin:0;font-size:21px}
header nav a{color:#cde;margin-right:14px;font-size:13px}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:6px 18px 14px;
margin:16px 0}
h2{font-size:17px;border-bottom:1px solid #eee;padding-bottom:4px}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f0f3f7;cursor:default}table.sortable th{cursor:pointer}
table.sortable th[data-dir=asc]::after{content:" \\25B2"}
table.sortable th[data-dir=desc]::after{content:" \\25BC"}
td.t{text-align:left;font-family:ui-monospace,Menlo,monospace;font-size:11.5px}
table.kv td:first-child{font-weight:600;text-align:left}table.kv td{text-align:left}
.note{color:#666;font-size:12.5px}.good{color:#1a7f37}.bad{color:#b3261e}
figure{margin:8px 0}figcaption{font-size:12.5px;color:#555}
.diagrams figure{border-top:1px solid #eee;padding-top:6px}
"""

_JS = """
document.querySelectorAll("table.sortable th").forEach(function(th){
th.addEventListener("click",function(){
var t=th.closest("table"),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),
asc=th.getAttribute("data-dir")!=="asc";
t.querySelectorAll("th").forEach(function(h){h.removeAttribute("data-dir")});
th.setAttribute("data-dir",asc?"asc":"desc");
var rows=Array.prototype.slice.call(b.rows);
rows.sort(function(x,y){var p=x.cells[i].getAttribute("data-v"),q=y.cells[i].getAttribute("data-v");
var a=parseFloat(p),c=parseFloat(q),r;
if(isNaN(a)&&isNaN(c)){r=x.cells[i].textContent.localeCompare(y.cells[i].textContent)}
else if(isNaN(a)){r=1}else if(isNaN(c)){r=-1}else{r=a-c}
return asc?r:-r});
rows.forEach(function(r){b.appendChild(r)})})});
"""


def _fmt(v: Any) -> tuple[str, str]:
    """(display text, sort value) of one cell."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "", ""
    if isinstance(v, (bool,)):
        return ("yes" if v else "no"), ("1" if v else "0")
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1000):
        return f"{int(v)}", f"{v}"
    if isinstance(v, float):
        return f"{v:.4g}", f"{v!r}"
    try:
        if pd.isna(v):
            return "", ""
    except (TypeError, ValueError):
        pass
    return str(v), ""


def table_html(df: pd.DataFrame, sortable: bool = False, table_id: str = "",
               text_cols: tuple[str, ...] = ()) -> str:
    """An HTML table of ``df``; numbers carry their raw value for sorting."""
    cls = ' class="sortable"' if sortable else ""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for _, row in df.iterrows():
        cells = []
        for c in df.columns:
            text, key = _fmt(row[c])
            attr = f' data-v="{html.escape(key)}"' if key else ""
            klass = ' class="t"' if c in text_cols else ""
            cells.append(f"<td{klass}{attr}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table{ident}{cls}><thead><tr>{head}</tr></thead><tbody>" + "".join(body)
            + "</tbody></table>")


def render_html(data: ReportData, figures: dict[str, str], diagrams: dict[int, str]) -> str:
    """The page. ``figures``: section -> inline SVG; ``diagrams``: trial -> inline SVG."""
    e = html.escape
    nav = "".join(f'<a href="#{s}">{s}</a>' for s in data.sections)
    kv = pd.DataFrame({"": list(data.summary), " ": list(data.summary.values())})
    out = [f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width,initial-scale=1">'
           f"<title>NAS report: {e(data.name)}</title><style>{_CSS}</style></head><body>",
           f"<header><h1>NAS report: {e(data.name)}</h1><nav>{nav}</nav></header><main>"]
    out.append('<section id="summary"><h2>Summary</h2><ul>'
               + "".join(f"<li>{e(f)}</li>" for f in data.findings) + "</ul>"
               + table_html(kv).replace("<table>", '<table class="kv">') + "</section>")
    out.append('<section id="states"><h2>Trials by state</h2>' + table_html(data.counts)
               + '<p class="note">INFEASIBLE: priced over a budget by the analytic cost model '
               "and never trained. PRUNED: stopped early by the pruner. FAIL: raised, ran out "
               "of memory or went NaN.</p></section>")
    out.append('<section id="pareto"><h2>Pareto front</h2><figure id="pareto-plot">'
               + figures.get("pareto", "") + "<figcaption>mIoU against each cost at the "
               "deployment input. Trials without a score (infeasible, failed) sit on the "
               "'no score' rug under the axis; the dashed red line is the budget; stars are "
               "the published baselines.</figcaption></figure></section>")
    hv = data.hypervolume
    ref = ", ".join(f"{k} {v:.4g}" for k, v in hv.reference.items())
    out.append('<section id="hypervolume"><h2>Hypervolume</h2><figure id="hypervolume-plot">'
               + figures.get("hypervolume", "") + "</figure>"
               + f"<p><b>{e(hv.verdict)}</b></p><p class='note'>Final {hv.final:.4f}. "
               f"Costs are divided by their reference ({e(ref)}), mIoU counts from 0.</p>"
               "</section>")
    imp = data.importance
    body = (figures.get("importance", "") if imp.targets else "")
    if imp.targets:
        top = pd.DataFrame([{"target": t, "parameter": k, "importance": v}
                            for t, vals in imp.targets.items() for k, v in list(vals.items())[:8]])
        body += table_html(top, sortable=True, text_cols=("target", "parameter"))
    note = e(imp.reason) if imp.reason else e(imp.evaluator)
    out.append(f'<section id="importance"><h2>Parameter importance</h2>{body}'
               f'<p class="note">{note}</p></section>')
    out.append('<section id="front"><h2>The front</h2>'
               + (table_html(data.front_table, sortable=True, table_id="front-table",
                             text_cols=("architecture",))
                  if len(data.front_table) else "<p>No front yet.</p>")
               + '<p class="note">Click a header to sort. Architecture: per stage, cell type, '
               "output width and blocks of each branch (~: fusion), then the head.</p></section>")
    if len(data.retrained):
        out.append('<section id="retrained"><h2>After full training</h2>'
                   + table_html(data.retrained, sortable=True,
                                text_cols=("baseline", "per seed", "plateaued"))
                   + '<p class="note">Retrained with the full schedule (nas retrain): '
                   "validation mIoU of the EMA model, mean over the seeds; test mIoU of the "
                   "final model.</p></section>")
    out.append('<section id="baselines"><h2>Baselines at equal cost</h2>'
               + (table_html(data.baselines, sortable=True, text_cols=("baseline", "state"))
                  if len(data.baselines) else "<p>No baselines in this run.</p>")
               + '<p class="note">"search at equal cost": the best search trial costing no more '
               'than the baseline; "same mIoU for": the cheapest search trial scoring at least '
               "as well, with its cost ratio to the baseline.</p></section>")
    figs = "".join(f'<figure id="diagram-{n}">{svg}<figcaption>trial {n}</figcaption></figure>'
                   for n, svg in diagrams.items())
    out.append('<section id="diagrams" class="diagrams"><h2>Architectures on the front</h2>'
               + (figs or "<p>No front yet.</p>") + "</section>")
    out.append(f"</main><script>{_JS}</script></body></html>")
    return "\n".join(out)
