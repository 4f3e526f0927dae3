"""``nas space show|sample``: inspect and sample a search space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nas.errors import NasError

space_app = typer.Typer(help="Inspect and sample search spaces.", no_args_is_help=True)

SpaceArg = Annotated[str, typer.Argument(
    help="A space name (hybrid, hrvit, mpvit, afformer) or a YAML file.")]


@space_app.command("show")
def show_cmd(
    space: SpaceArg = "hybrid",
    budget: Annotated[list[str] | None, typer.Option(
        "--budget", help="e.g. 5GFLOPs; repeatable.")] = None,
    input: Annotated[str, typer.Option(
        "--input", help="Input size HxW for the budget.")] = "512x512",
    n: Annotated[int, typer.Option("--n", help="Samples for the feasible fraction.")] = 500,
) -> None:
    """List the dimensions of SPACE, their choices and conditions, and its size; with --budget,
    the cost range of the space and the share of it inside the budget."""
    from nas.cost import parse_budgets, parse_size
    from nas.search import space_report
    from nas.space import load_space

    if n < 1:
        raise NasError(f"--n must be >= 1 (samples for the feasible share), got {n}")
    limits = parse_budgets(budget or [])  # bad input fails before anything is printed
    size = parse_size(input)
    sp = load_space(space)
    table = Table(title=f"search space {sp.name}")
    for col in ("dimension", "choices", "condition"):
        table.add_column(col)
    for row in sp.describe():
        table.add_row(*(str(row[k]) for k in ("label", "choices", "condition")))
    console = Console()
    console.print(table)
    console.print(
        f"{len(sp.dimensions)} dimensions; size: 10^{sp.size_log10:.1f} distinct architectures"
    )
    if limits:
        console.print(space_report(sp, limits, size, n=n).text())


@space_app.command("sample")
def sample_cmd(
    space: SpaceArg = "hybrid",
    n: Annotated[int, typer.Option("--n", help="How many architectures.")] = 1,
    seed: Annotated[int, typer.Option(
        "--seed", help="Seed of the first sample (then seed+1, ...).")] = 0,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write one YAML file per sample here.")] = None,
) -> None:
    """Sample N architectures from SPACE (YAML documents on stdout, or files with --out)."""
    if n < 1:
        raise NasError(f"--n must be >= 1, got {n}")
    from nas.space import load_space

    sp = load_space(space)
    archs = [sp.sample(seed + i) for i in range(n)]
    if out is None:
        typer.echo("---\n".join(a.to_yaml() for a in archs), nl=False)
        return
    if out.exists() and not out.is_dir():
        raise NasError(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    for i, arch in enumerate(archs):
        path = out / f"{sp.name}_seed{seed + i}.yaml"
        path.write_text(f"# sampled from {sp.name} with seed {seed + i}\n" + arch.to_yaml())
        typer.echo(str(path))
