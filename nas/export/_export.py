"""``export(run_dir, ...)``: write the chosen trials' ArchConfig, model card, weights, ONNX.

For each trial, into ``out`` (default ``<run_dir>/export``): ``<run>_trial<N>.yaml`` (or
``.json``), ``<run>_trial<N>.md`` (model card), with ``weights`` ``<run>_trial<N>.safetensors``
(loaded into the rebuilt network with strict key matching before it is written), with
``fmt="onnx"`` ``<run>_trial<N>.onnx`` (checked with onnxruntime). Nothing is overwritten
without ``force``, every check runs before the first file is written, and no path may leave
``out``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nas.errors import NasError
from nas.export._select import Chosen, select
from nas.report import RunData, load_run

__all__ = ["FORMATS", "ExportResult", "export"]

FORMATS = ("yaml", "json", "onnx")
DEFAULT_INPUT = (512, 512)


@dataclass
class ExportResult:
    """What one trial's export wrote."""

    trial: int
    name: str  # the architecture's name; timm model "nas_<name>"
    files: dict[str, Path] = field(default_factory=dict)  # config, card, weights, onnx
    onnx_max_abs_diff: float | None = None


def export(run_dir: str | Path, trial: int | None = None, best: bool = False,
           pareto: bool = False, fmt: str = "yaml", weights: bool = False,
           out: str | Path | None = None, force: bool = False,
           log: Callable[[str], None] | None = None) -> list[ExportResult]:
    """Export trial ``trial``, the best one (``best``) or the Pareto front (``pareto``, also
    the default) of the run in ``run_dir``; returns one :class:`ExportResult` per trial."""
    if fmt not in FORMATS:
        raise NasError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    run = load_run(run_dir)
    chosen = select(run, trial, best, pareto)
    out = Path(out) if out is not None else run.run_dir / "export"
    if out.exists() and not out.is_dir():
        raise NasError(f"--out {out} exists and is not a folder; choose another --out")
    if weights:
        missing = [c.number for c in chosen if c.weights is None]
        if missing:
            nums = ", ".join(map(str, missing))
            raise NasError(f"no weights for trial {nums} in {run.run_dir / 'weights'} (a search "
                           "keeps weights for the front's members only); export without "
                           "--weights, or train it with 'nas train' on the exported YAML")
    plans = [(c, _targets(c, out, fmt, weights)) for c in chosen]
    _check_free(out, [p for _, t in plans for p in t.values()], force)
    # rebuild (and strictly load) every network before the first file is written
    models = [_model(c) if weights or fmt == "onnx" else None for c in chosen]
    say = log or (lambda _msg: None)
    out.mkdir(parents=True, exist_ok=True)
    return [_export_one(run, c, t, m, say) for (c, t), m in zip(plans, models)]


def _targets(c: Chosen, out: Path, fmt: str, weights: bool) -> dict[str, Path]:
    name = c.arch.name
    t = {"config": out / f"{name}.{'json' if fmt == 'json' else 'yaml'}",
         "card": out / f"{name}.md"}
    if weights:
        t["weights"] = out / f"{name}.safetensors"
    if fmt == "onnx":
        t["onnx"] = out / f"{name}.onnx"
    return t


def _check_free(out: Path, paths: list[Path], force: bool) -> None:
    root = out.resolve()
    for p in paths:
        target = p.resolve()
        if target != root and root not in target.parents:
            raise NasError(f"refusing to write {p}: it resolves to {target}, outside --out "
                           f"{out} (a symbolic link?); choose another --out")
        if p.is_symlink() or (p.exists() and not p.is_file()):
            raise NasError(f"refusing to write {p}: it is a link or not a plain file; remove "
                           "it or choose another --out")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(p.name for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise NasError(f"{out} already holds {names}; pass --force to overwrite or choose "
                       "another --out")


def _export_one(run: RunData, c: Chosen, targets: dict[str, Path], model,
                say: Callable[[str], None]) -> ExportResult:
    from nas.cost import estimate

    arch = c.arch
    size = run.input_size or DEFAULT_INPUT
    res = ExportResult(c.number, arch.name)
    if "onnx" in targets:
        from nas.cost import export_onnx

        if c.weights is None:
            say(f"trial {c.number}: the run kept no weights, so the ONNX file holds a freshly "
                "initialised network (fine for latency, not for predictions)")
        res.onnx_max_abs_diff = export_onnx(model, targets["onnx"], size)
        res.files["onnx"] = targets["onnx"]
        say(f"trial {c.number}: ONNX at {size[0]}x{size[1]} matches PyTorch, max abs "
            f"difference {res.onnx_max_abs_diff:.3g} (tolerance 1e-4)")
    cfg_text = arch.to_json() + "\n" if targets["config"].suffix == ".json" else arch.to_yaml()
    _write_text(targets["config"], cfg_text)
    res.files["config"] = targets["config"]
    if "weights" in targets:
        from nas.proxy import save_weights

        meta = {"arch": arch.to_json(indent=None), "name": arch.name,
                "source": f"{run.name}/trial-{c.number}", "input": f"{size[0]}x{size[1]}"}
        save_weights(model, targets["weights"], metadata=meta)
        res.files["weights"] = targets["weights"]
    from nas.export._card import model_card

    names = {role: p.name for role, p in targets.items() if role != "card"}
    card = model_card(c, run, names, estimate(arch, size), res.onnx_max_abs_diff)
    _write_text(targets["card"], card)
    res.files["card"] = targets["card"]
    say(f"trial {c.number}: " + ", ".join(str(p) for p in res.files.values()))
    return res


def _model(c: Chosen):
    """The rebuilt network, with the run's weights (strict) when it kept them."""
    from nas.models import build_model
    from nas.proxy import load_weights

    model = build_model(c.arch)
    if c.weights is not None:
        try:
            load_weights(model, c.weights)
        except (RuntimeError, ValueError, KeyError) as exc:
            text = " ".join(str(exc).split())[:240]
            raise NasError(f"trial {c.number}: {c.weights.name} does not match its architecture "
                           f"({c.source}) under strict loading: {text}") from None
    return model.eval()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
