"""``nas export RUN_DIR``: the chosen trials as ArchConfig + model card, weights, ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["export_cmd"]


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by 'nas search'.")],
    trial: Annotated[int | None, typer.Option("--trial", help="Export trial N.")] = None,
    best: Annotated[bool, typer.Option(
        "--best", help="Export the best complete trial (highest mIoU within budget).")] = False,
    pareto: Annotated[bool, typer.Option(
        "--pareto", help="Export every member of the Pareto front (the default).")] = False,
    fmt: Annotated[str, typer.Option(
        "--format", help="yaml or json (the ArchConfig), or onnx (adds ONNX at the run's "
        "deployment input, checked with onnxruntime).")] = "yaml",
    weights: Annotated[bool, typer.Option(
        "--weights", help="Add the proxy-trained weights (safetensors).")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Output folder (default: RUN_DIR/export).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Export trials of RUN_DIR: ArchConfig and model card; --weights, --format onnx add more."""
    from nas.export import export, timm_name

    results = export(run_dir, trial=trial, best=best, pareto=pareto, fmt=fmt.lower(),
                     weights=weights, out=out, force=force, log=typer.echo)
    folder = next(iter(results[0].files.values())).parent
    names = ", ".join(timm_name(r.name) for r in results)
    typer.echo(f"exported {len(results)} architecture(s) to {folder}; timm: "
               f"nas.register_timm('{folder}') then timm.create_model(<{names}>)")
