"""``nas profile``: measure the units of reference and sampled architectures into this machine's
latency table (``results/latency/<fingerprint>/<H>x<W>.json``), for ``predict_latency``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nas._timing_env import apply_timing_env, spins
from nas.errors import NasError

Opt = typer.Option


def profile_cmd(
    device: Annotated[str, Opt(
        "--device", help="cpu, cuda or cuda:N (PyTorch), or ort-cpu (the exported ONNX graph in "
        "onnxruntime).")] = "cpu",
    threads: Annotated[int, Opt(
        "--threads", help="CPU threads, torch's or onnxruntime's (part of the fingerprint).")] = 2,
    input: Annotated[str, Opt("--input", help="Input size HxW.")] = "512x512",
    space: Annotated[str, Opt("--space", help="Space to sample (name or YAML file).")] = "hybrid",
    n: Annotated[int, Opt("--n", help="How many samples of the space (0: none).")] = 50,
    seed: Annotated[int, Opt("--seed", help="Seed of the first draw (then seed+1, ...).")] = 0,
    budget_gflops: Annotated[float | None, Opt(
        "--budget-gflops", help="Keep only samples within this many GFLOPs (at --input).")] = None,
    refs: Annotated[bool, Opt("--refs/--no-refs", help="Also profile the ten references.")] = True,
    out: Annotated[Path, Opt("--out", help="Folder of latency tables.")] = Path("results/latency"),
    runs: Annotated[int, Opt("--runs", help="Timed runs per unit (median kept).")] = 20,
    warmup: Annotated[int, Opt("--warmup", help="Untimed runs per unit first.")] = 5,
    calibrate: Annotated[int, Opt(
        "--calibrate", help="Also time the first K samples whole and fit the correction.")] = 0,
    noise_repeats: Annotated[int, Opt(
        "--noise-repeats", help="Time the first architecture whole in this many fresh "
        "processes and store the device's repeat noise (0: skip).")] = 3,
) -> None:
    """Profile unit latencies into this machine's latency table; keys already there are skipped."""
    # first, before torch loads: units timed as the timing workers time whole models (on cpu,
    # OpenMP's threads spinning; nas._timing_env)
    apply_timing_env(spin=spins(device))
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nas.cli._paths import check_device, writable_dir
    from nas.cost import LatencyTable, parse_size, profile
    from nas.space import load_space

    if n < 0:
        raise NasError(f"--n must be >= 0, got {n}")
    if budget_gflops is not None and not budget_gflops > 0:
        raise NasError(f"--budget-gflops must be > 0, got {budget_gflops}")
    size = parse_size(input)
    check_device(device, latency=True)
    sampled = load_space(space) if n else None  # a bad --space fails before any progress bar
    writable_dir(out)
    console = Console(stderr=True)
    labels = {"units": "profiling units", "verify": "re-checking units",
              "calibrate": "timing whole models"}
    bar: Progress | None = None  # started on the first report: an early error prints one line
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=console, transient=True)
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        result = profile(device, threads, size, space=sampled, n=n, seed=seed,
                         budget_gflops=budget_gflops, refs=refs, out=out, runs=runs,
                         warmup=warmup, calibrate=calibrate, noise_repeats=noise_repeats,
                         progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    if n and result.samples < n:
        typer.echo(f"note: only {result.samples} of {n} samples fit {budget_gflops} GFLOPs "
                   "within the draws allowed", err=True)
    typer.echo(f"latency table: {result.path}")
    typer.echo(f"fingerprint:   {result.fingerprint}")
    typer.echo(f"{result.added} entries added ({result.entries} in all) from {result.units} "
               f"unique units of {result.archs} architectures in {result.seconds:.1f} s")
    noise = LatencyTable.load(result.path).meta.get("noise") if noise_repeats else None
    if noise:
        typer.echo(f"repeat noise:  {noise['arch']} in {noise['repeats']} fresh processes: "
                   + ", ".join(f"{m:.2f}" for m in noise["medians_ms"])
                   + f" ms (spread {100 * noise['repeat_spread']:.1f}%; CPU time per pass "
                   f"spread {100 * noise.get('cpu_repeat_spread', 0.0):.1f}%)")
    if result.correction is not None:
        c = result.correction
        form = (" + ".join(f"{v:.3f} * {k}" for k, v in (c.kinds or {}).items())
                if c.form == "kinds" else f"{c.a:.4f} * sum {c.b:+.3f} ms * units")
        typer.echo(f"correction:    {c.form}: {form} {c.c:+.3f} ms (fitted on {c.n_archs} "
                   f"architectures; relative error {100 * c.rel_rmse:.1f}%, leave-one-out "
                   f"{100 * c.loo_rel_rmse:.1f}%)")
