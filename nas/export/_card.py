"""The model card written beside every exported architecture (markdown)."""

from __future__ import annotations

import math
import platform
from typing import Any

__all__ = ["model_card"]


def _num(v: Any, fmt: str = "{:.4f}") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(f) else fmt.format(f)


def _versions(info: dict[str, Any]) -> dict[str, str]:
    out = {}
    v = info.get("versions")
    if isinstance(v, dict):
        out.update({str(k): str(x) for k, x in v.items()})
    import nas

    out.setdefault("nas", nas.__version__)
    out["exported with"] = f"nas {nas.__version__}, python {platform.python_version()}"
    return out


def model_card(chosen: Any, run: Any, files: dict[str, str], cost: Any,
               onnx_diff: float | None) -> str:
    """Markdown for one export. ``files``: role -> file name; ``cost``: ``nas.cost.Cost`` of the
    architecture at the deployment input."""
    from nas.report import arch_summary

    row, arch, info = chosen.row, chosen.arch, run.info
    name = arch.name
    h, w = cost.input_size
    lines = [f"# nas_{name}", "",
             f"Trial {chosen.number} of the search run `{run.name}`"
             + (f" (baseline {row['baseline_name']})" if row.get("baseline") else "")
             + f", exported by `nas export`. Architecture from {chosen.source}.", ""]
    lines += ["## Use", "", "```python", "import nas",
              f'model = nas.build_model(nas.load_arch("{files["config"]}"))']
    if "weights" in files:
        lines += ["from nas.proxy import load_weights",
                  f'load_weights(model, "{files["weights"]}")  # strict key matching']
    lines += ["", "import timm  # or through timm, after registering the folder",
              'nas.register_timm(".")',
              f'model = timm.create_model("nas_{name}", num_classes={arch.num_classes}'
              + (", pretrained=True" if "weights" in files else "") + ")",
              f'backbone = timm.create_model("nas_{name}", features_only=True)', "```", ""]
    lines += ["## Proxy metrics", "", "| metric | value |", "|---|---|",
              f"| mIoU (validation) | {_num(row.get('miou'))} |",
              f"| pixel accuracy | {_num(row.get('pixel_acc'))} |",
              f"| epochs | {_num(row.get('epochs_run'), '{:.0f}')} |"]
    epochs = [c for c in row.index if str(c).startswith("miou_e") and not _isnan(row[c])]
    if epochs:
        lines.append("| mIoU per epoch | " + ", ".join(_num(row[c]) for c in epochs) + " |")
    lines += [f"| training time | {_num(row.get('train_s'), '{:.1f}')} s |",
              f"| Pareto front member | {'yes' if row.get('pareto') else 'no'} |", ""]
    lat = cost.latency_ms if cost.latency_ms is not None else row.get("latency_ms")
    lines += [f"## Cost at {h}x{w} (deployment input)", "", "| | value |", "|---|---|",
              f"| FLOPs (fvcore convention) | {cost.flops:,} ({cost.flops / 1e9:.3f} G) |",
              f"| parameters | {cost.params:,} ({cost.params / 1e6:.3f} M) |",
              f"| latency (predicted) | {_num(lat, '{:.2f}')} ms |", ""]
    budget = run.budget
    if budget:
        from nas.budget import Budget

        lines += [f"Budget: {Budget.from_dict(budget)} -> "
                  + ("within budget." if row.get("feasible", True) else "OVER budget."), ""]
    lines += ["## Architecture", "", f"`{arch_summary(arch)}`", "",
              f"{len(arch.stages)} stages, strides {list(arch.feature_strides)}, feature "
              f"channels {list(arch.feature_channels)}, {arch.head.type} head, "
              f"{arch.num_classes} classes. The full config is `{files['config']}`.", ""]
    lines += ["## Run", "", "| | |", "|---|---|"]
    for key in ("data", "seed", "command", "strategy", "space", "space_hash", "schedule",
                "machine"):
        if info.get(key) not in (None, ""):
            lines.append(f"| {key} | {_inline(info[key])} |")
    for k, v in _versions(info).items():
        lines.append(f"| version: {k} | {v} |")
    lines.append("")
    lines += ["## Files", ""] + [f"- {role}: `{f}`" for role, f in files.items()]
    if onnx_diff is not None:
        lines += ["", f"ONNX (opset 17, dynamic batch, input `image` (B, 3, {h}, {w}), output "
                  f"`logits`): max abs difference to PyTorch {onnx_diff:.3g} (fp32, "
                  "onnxruntime CPU)."]
    if "weights" not in files:
        lines += ["", "No weights in this export" + (
            " (the run kept none for this trial)." if chosen.weights is None else
            "; pass --weights to add them.")]
    return "\n".join(lines) + "\n"


def _isnan(v: Any) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def _inline(v: Any) -> str:
    import json

    text = " ".join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else (
        v if isinstance(v, str) else json.dumps(v, sort_keys=True))
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"
