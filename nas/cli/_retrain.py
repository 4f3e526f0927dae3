"""``nas retrain RUN_DIR``: train chosen members of a finished search with the full schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _opt(flag: str, text: str):
    return typer.Option(flag, help=text)


def retrain_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by nas search.")],
    pareto: Annotated[bool, _opt("--pareto", "Retrain every member of the Pareto front.")] = False,
    trial: Annotated[list[int] | None, _opt("--trial", "A trial number (repeatable).")] = None,
    baselines: Annotated[bool, _opt("--baselines", "Also the run's completed baselines.")] = False,
    seeds: Annotated[str, _opt("--seeds", "Seeds, comma-separated (e.g. 0,1).")] = "0",
    data: Annotated[str | None, _opt(
        "--data", "Dataset spec (default: the run's, from run.json).")] = None,
    epochs: Annotated[int | None, _opt(
        "--epochs", "Epochs (default: the full schedule's).")] = None,
    input: Annotated[str | None, _opt("--input", "Training crop HxW.")] = None,
    eval_size: Annotated[str | None, _opt("--eval-size", "Evaluation size HxW.")] = None,
    n_train: Annotated[int | None, _opt("--n-train", "Training images used (0: all).")] = None,
    n_val: Annotated[int | None, _opt("--n-val", "Validation images used (0: all).")] = None,
    threads: Annotated[int, _opt("--threads", "torch CPU threads.")] = 2,
    device: Annotated[str, _opt("--device", "cpu, cuda or cuda:N.")] = "cpu",
) -> None:
    """Retrain trials of RUN_DIR with the full schedule; writes retrain.parquet/.csv there and
    the report's "after full training" section. Rerun the same command to resume."""
    import dataclasses

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from nas.cost import parse_size
    from nas.errors import NasError
    from nas.proxy import FULL_SCHEDULE
    from nas.report import retrained_table, write_report
    from nas.retrain import plan_retrain, retrain_run

    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        raise NasError(f"--seeds {seeds!r}: give integers separated by commas, e.g. 0,1") from None
    if device != "cpu" and not device.startswith("cuda"):
        raise NasError(f"--device {device!r}: use cpu, cuda or cuda:N")
    schedule = FULL_SCHEDULE.replace(
        epochs=epochs, threads=threads, train_size=parse_size(input) if input else None,
        eval_size=parse_size(eval_size) if eval_size else None)
    for name, value in (("n_train", n_train), ("n_val", n_val)):
        if value is not None:
            schedule = dataclasses.replace(schedule, **{name: value or None})
    plan = plan_retrain(run_dir, trial or (), pareto=pareto, baselines=baselines,
                        seeds=seed_list, data=data)
    plan.check(schedule)
    # bad or missing data fails here, in one line, before anything is trained
    from nas.proxy import load_splits

    load_splits(plan.data, None, dataclasses.replace(schedule, n_train=1, n_val=1))

    err = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("retrain", total=None, info="")
        state = {"label": ""}

        def on_start(i: int, total: int, number: int, seed: int) -> None:
            state["label"] = f"[{i + 1}/{total}] trial {number} seed {seed}"
            progress.reset(task, total=None, info=state["label"])

        def on_step(epoch: int, step: int, per_epoch: int, loss: float) -> None:
            progress.update(task, total=per_epoch * schedule.epochs,
                            completed=(epoch - 1) * per_epoch + step,
                            info=f"{state['label']} epoch {epoch}/{schedule.epochs}")

        table = retrain_run(run_dir, schedule=schedule, device=device, plan=plan,
                            on_start=on_start, on_step=on_step)
    write_report(plan.run.run_dir)
    shown = retrained_table(plan.run.run_dir)
    err.print(shown.to_string(index=False) if len(shown) else "no retrained trial finished",
              soft_wrap=True)
    failed = table[table["status"] != "ok"] if len(table) else table
    for _, row in failed.iterrows():
        err.print(f"[red]trial {row['number']} seed {row['seed']} {row['status']}:[/red] "
                  f"{row['reason']}", soft_wrap=True)
    err.print(f"-> {plan.run.run_dir}/retrain.parquet, retrain.csv, report.html")
