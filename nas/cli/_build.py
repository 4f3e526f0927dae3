"""``nas build ARCH``: params, fvcore FLOPs, output and feature shapes of one architecture."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def build_cmd(
    arch: Annotated[str, typer.Argument(
        help="A reference name (e.g. afformer_base) or a config file.")],
    input: Annotated[str, typer.Option("--input", help="Input size HxW.")] = "512x512",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Build ARCH and report params, fvcore FLOPs, output shape and feature shapes."""
    from nas.arch import load_arch
    from nas.cost import measure, parse_size

    size = parse_size(input)
    result = measure(load_arch(arch), size)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    console = Console()
    table = Table(title=f"{result.name or arch} at {size[0]}x{size[1]}", show_header=False)
    table.add_row("params", f"{result.params:,}")
    table.add_row("  backbone / head", f"{result.backbone_params:,} / {result.head_params:,}")
    table.add_row("FLOPs (fvcore)", f"{result.flops:,} ({result.flops / 1e9:.3f} G)")
    table.add_row("output", " x ".join(map(str, result.output_shape)))
    for i, f in enumerate(result.features, start=1):
        table.add_row(f"branch {i} (1/{f['stride']})", " x ".join(map(str, f["shape"])))
    console.print(table)
