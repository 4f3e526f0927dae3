"""``nas search --budget 5GFLOPs``: the main job."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from nas.cli._train import _DATA_HELP


def _opt(flag: str, text: str, *alias: str):
    return typer.Option(flag, *alias, help=text)


def search_cmd(
    budget: Annotated[list[str] | None, _opt(
        "--budget", "A budget (repeatable): 5GFLOPs, 3.5Mparams, 30ms, or several "
        "comma-separated. Default: 5GFLOPs.")] = None,
    space: Annotated[str, _opt("--space", "Search space: a name (hybrid, hrvit, mpvit, "
                               "afformer) or a YAML file.")] = "hybrid",
    data: Annotated[str, _opt("--data", _DATA_HELP)] = "synthetic",
    val_data: Annotated[str | None, _opt("--val-data", "Validation data (default: --data's "
                                         "val split).")] = None,
    input: Annotated[str, _opt("--input", "Deployment resolution HxW the budget applies to."
                               )] = "512x512",
    objectives: Annotated[str | None, _opt(
        "--objectives", "Comma-separated: miou plus any of flops, params, latency. Default: "
        "miou,flops (+latency with a latency budget).")] = None,
    trials: Annotated[int | None, _opt("--trials", "Candidates to train (infeasible ones "
                                       "and baselines come on top). Default 40.")] = None,
    time: Annotated[str | None, _opt("--time", "Time limit, e.g. 30m, 1.5h, 90s (stops at "
                                     "whichever of --trials/--time comes first). Default 30m."
                                     )] = None,
    strategy: Annotated[str, _opt("--strategy", "evolution (constrained, surrogate-assisted; "
                                  "the default), nsga2, tpe or random.")] = "evolution",
    population: Annotated[int | None, _opt("--population", "Size of the first population "
                                           "(and of NSGA-II's generations).")] = None,
    runner: Annotated[str, _opt("--runner", "Runner profile: local, ray-local, ray-cluster "
                                "or a YAML file.")] = "local",
    storage: Annotated[str | None, _opt("--storage", "Optuna storage URL (default: SQLite "
                                        "in the run folder; journal:PATH for a journal file)."
                                        )] = None,
    workers: Annotated[int | None, _opt("--workers", "Worker processes on this machine.")
                       ] = None,
    name: Annotated[str | None, _opt("--name", "Run name (default: <space>-<budget>). The "
                                     "same name again continues that run.")] = None,
    out: Annotated[Path | None, _opt("--out", "Run folder (default: results/<name>).")] = None,
    seed: Annotated[int, _opt("--seed", "Seed of the sampler and of every proxy run.")] = 0,
    resume: Annotated[bool, _opt("--resume", "Continue the run in the folder (an error if "
                                 "there is none).")] = False,
    baselines: Annotated[bool, _opt("--baselines/--no-baselines", "Also train the published "
                                    "designs (scaled to fit) as baselines.")] = True,
    pruning: Annotated[bool, _opt("--pruning/--no-pruning", "Stop candidates that cheaper "
                                  "ones clearly beat at the same epoch.")] = True,
    epochs: Annotated[int | None, _opt("--epochs", "Proxy epochs.")] = None,
    train_size: Annotated[str | None, _opt("--train-size", "Proxy training crop HxW.")] = None,
    n_train: Annotated[int | None, _opt("--n-train", "Proxy training images (0: all).")
                       ] = None,
    n_val: Annotated[int | None, _opt("--n-val", "Proxy validation images (0: all).")] = None,
    batch_size: Annotated[int | None, _opt("--batch-size", "Proxy batch size.")] = None,
    lr: Annotated[float | None, _opt("--lr", "Proxy peak learning rate.")] = None,
    threads: Annotated[int | None, _opt("--threads", "torch CPU threads per worker.")] = None,
    device: Annotated[str, _opt("--device", "cpu, cuda or cuda:N.")] = "cpu",
    latency_device: Annotated[str | None, _opt(
        "--latency-device", "Device a latency budget is for: cpu, ort-cpu (ONNX Runtime), "
        "cuda or cuda:N. Default: --device.")] = None,
    report: Annotated[bool, _opt("--report/--no-report", "Write the report at the end.")
                      ] = True,
    quiet: Annotated[bool, _opt("--quiet", "No live view.")] = False,
) -> None:
    """Search the space for the architectures with the best mIoU for their cost, within the
    budget; leave the study, the trials table, the Pareto set and a report in the run folder."""
    from nas.cli._paths import check_device
    from nas.cost import parse_size
    from nas.proxy import DEFAULT_SCHEDULE
    from nas.search import (
        SearchSettings,
        check_study_file,
        load_runner,
        parse_duration,
        run_search,
    )

    budgets = tuple(budget) if budget else ("5GFLOPs",)
    profile = load_runner(runner)
    check_device(device)
    if latency_device is not None:
        check_device(latency_device, latency=True, option="--latency-device")
    schedule = DEFAULT_SCHEDULE.replace(
        epochs=epochs, batch_size=batch_size, lr=lr, threads=threads,
        train_size=parse_size(train_size) if train_size else None)
    for field, value in (("n_train", n_train), ("n_val", n_val)):
        if value is not None:
            schedule = schedule.replace(**{field: value}) if value else _unset(schedule, field)
    if trials is None and time is None:
        trials_v, time_s = 40, 30 * 60.0
    else:
        trials_v, time_s = trials, parse_duration(time)
    settings = SearchSettings(
        name=name or _default_name(space, budgets), out=out, space=space, data=data,
        val_data=val_data, input_size=parse_size(input), budgets=budgets,
        objectives=objectives, trials=trials_v, time_s=time_s, strategy=strategy,  # type: ignore[arg-type]
        population=population, runner=runner, storage=storage,
        workers=workers or profile.workers, seed=seed, resume=resume, baselines=baselines,
        pruning=pruning, schedule=schedule, device=device, latency_device=latency_device,
        command=" ".join(["nas", *map(shlex.quote, sys.argv[1:])]))
    if settings.storage_url.startswith("sqlite:///"):  # a damaged study is never written to
        check_study_file(settings.storage_url.removeprefix("sqlite:///"))
    result = run_search(settings, quiet=quiet)  # the runner follows from the settings
    if report:
        _write_report(result.run_dir)
    _summary(result)
    if result.status == "interrupted":
        raise typer.Exit(130)


def _default_name(space: str, budgets: tuple[str, ...]) -> str:
    import re

    slug = "_".join(re.sub(r"[^A-Za-z0-9.]+", "", b) for b in budgets)
    return f"{Path(space).stem}-{slug}"[:100]


def _unset(schedule, field: str):
    import dataclasses

    return dataclasses.replace(schedule, **{field: None})


def _write_report(run_dir: Path) -> None:
    """The report, when the run has something to report (a search stopped before its first
    trial finished has not: say so, keep the exit code of the search)."""
    from nas.errors import NasError
    from nas.report import write_report

    try:
        write_report(run_dir)
    except NasError as exc:
        print(f"nas: no report for {run_dir}: {exc}", file=sys.stderr)


def _summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(stderr=True)
    df = result.trials
    c = result.counts
    con.print(f"[bold]{result.status}[/]: {c.trained} trained ({c.complete} complete, "
              f"{c.pruned} pruned, {c.failed} failed), {c.infeasible} over budget (not trained)")
    if not df.empty and df["pareto"].any():
        front = df[df["pareto"]].sort_values("gflops")
        table = Table(title="Pareto front")
        for col in ("trial", "mIoU", "GFLOPs", "M params", "baseline"):
            table.add_column(col)
        for r in front.itertuples():
            table.add_row(str(r.number), f"{r.miou:.4f}", f"{r.gflops:.3f}",
                          f"{r.mparams:.2f}", r.baseline_name or "")
        con.print(table)
    con.print(f"results in {result.run_dir}/")
