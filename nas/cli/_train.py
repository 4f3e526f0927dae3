"""``nas train ARCH --data SPEC``: one proxy training run; weights and metrics to a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

_DATA_HELP = ("Dataset: synthetic[:N_TRAIN,N_VAL], camvid:PATH, ade20k:PATH, cityscapes:PATH, "
              "voc:PATH or folder:IMAGES,MASKS.")


def _opt(flag: str, text: str):
    return typer.Option(flag, help=text)


def train_cmd(
    arch: Annotated[str, typer.Argument(
        help="A reference name (e.g. afformer_tiny) or a config file.")],
    data: Annotated[str, _opt("--data", _DATA_HELP)] = "synthetic",
    schedule_name: Annotated[str, _opt(
        "--schedule", "proxy (the search's short run) or full (train to a plateau, EMA-scored, "
        "val and test, checkpointed every epoch: rerun to resume).")] = "proxy",
    val_data: Annotated[str | None, _opt(
        "--val-data", "Validation dataset spec (default: the val split of --data).")] = None,
    epochs: Annotated[int | None, _opt("--epochs", "Epochs (default: the schedule's).")] = None,
    input: Annotated[str | None, _opt("--input", "Training crop HxW.")] = None,
    eval_size: Annotated[str | None, _opt(
        "--eval-size", "Evaluation (and base training) size HxW; default: as stored.")] = None,
    batch_size: Annotated[int | None, _opt("--batch-size", "Training batch size.")] = None,
    lr: Annotated[float | None, _opt("--lr", "Peak learning rate (AdamW).")] = None,
    n_train: Annotated[int | None, _opt("--n-train", "Training images used (0: all).")] = None,
    n_val: Annotated[int | None, _opt("--n-val", "Validation images used (0: all).")] = None,
    seed: Annotated[int, _opt("--seed", "Seed of init, batches and augmentation.")] = 0,
    out: Annotated[Path | None, _opt(
        "--out", "Output folder (default: results/train/<arch>-<seed>).")] = None,
    threads: Annotated[int, _opt("--threads", "torch CPU threads.")] = 2,
    device: Annotated[str, _opt("--device", "cpu, cuda or cuda:N.")] = "cpu",
    bf16: Annotated[bool, _opt("--bf16", "bfloat16 autocast on CPU.")] = False,
    force: Annotated[bool, _opt("--force", "Overwrite an existing metrics.json.")] = False,
    as_json: Annotated[bool, _opt("--json", "Print the metrics as one JSON object.")] = False,
) -> None:
    """Train ARCH with a named schedule on --data; write weights.safetensors and metrics.json."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from nas.arch import load_arch
    from nas.cli._paths import writable_dir
    from nas.cost import parse_size
    from nas.errors import NasError
    from nas.proxy import (
        CHECKPOINT_FILE,
        FullSchedule,
        check_out_dir,
        get_schedule,
        load_splits,
        load_test_split,
        train_to_dir,
    )

    base = get_schedule(schedule_name)
    config = load_arch(arch)
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise NasError(f"--device {device}: CUDA is not available on this machine")
    elif device != "cpu":
        raise NasError(f"--device {device!r}: use cpu, cuda or cuda:N")
    schedule = base.replace(
        epochs=epochs, batch_size=batch_size, lr=lr, threads=threads, bf16=bf16 or None,
        train_size=parse_size(input) if input else None,
        eval_size=parse_size(eval_size) if eval_size else None,
    )
    if n_train is not None:  # 0 means "all" (None in the schedule)
        schedule = _set(schedule, "n_train", n_train or None)
    if n_val is not None:
        schedule = _set(schedule, "n_val", n_val or None)
    if out is None:
        out = Path("results") / "train" / f"{config.name or Path(arch).stem}-{seed}"
    check_out_dir(out, force)  # refuse before loading anything
    writable_dir(out)
    splits = load_splits(data, val_data, schedule)  # bad data fails here, before any progress bar
    full = isinstance(schedule, FullSchedule)
    if full and schedule.test:
        splits = (*splits, load_test_split(val_data or data, schedule))

    err = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    resume = full and not force and (out / CHECKPOINT_FILE).exists()
    with Progress(*columns, console=err, transient=False, disable=as_json) as progress:
        task = progress.add_task(f"train {config.name or arch}", total=None, info="building")
        if resume:
            progress.console.print(f"resuming from the checkpoint in {out}")

        started = []

        def on_step(epoch: int, step: int, per_epoch: int, loss: float) -> None:
            done, total = (epoch - 1) * per_epoch + step, per_epoch * schedule.epochs
            info = f"epoch {epoch}/{schedule.epochs} loss {loss:.3f}"
            if not started:  # a resumed run starts part-way: keep that jump out of the ETA
                started.append(True)
                progress.reset(task, total=total, completed=done, info=info)
            else:
                progress.update(task, total=total, completed=done, info=info)

        def on_epoch(epoch: int, miou: float | None) -> bool:
            shown = "n/a" if miou is None else f"{miou:.4f}"
            progress.console.print(f"epoch {epoch}: val mIoU {shown}")
            return True

        try:
            result, folder = train_to_dir(
                config, splits, out, schedule=schedule, seed=seed, device=device, force=force,
                on_step=on_step, callback=on_epoch,
                notes={"data": data, "val_data": val_data or data},
            )
        except KeyboardInterrupt:
            if full and (out / CHECKPOINT_FILE).exists():
                progress.stop()
                err.print(f"interrupted: the last finished epoch is checkpointed in {out}; run "
                          "the same command again to resume", soft_wrap=True)
            raise
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    elif result.status == "ok":
        err.print(f"mIoU {result.miou:.4f}  pixel acc {result.pixel_acc:.4f}  "
                  f"{result.wall_s:.1f} s  {result.images_per_s or 0:.1f} img/s  -> {folder}",
                  soft_wrap=True)
        if full:
            test = "n/a" if result.test_miou is None else f"{result.test_miou:.4f}"
            gain = "n/a" if result.plateau_gain is None else f"{result.plateau_gain:+.4f}"
            err.print(f"score = mean val mIoU of epochs {result.score_epochs}; test mIoU {test}; "
                      f"last {schedule.plateau_fraction:.0%} of epochs added {gain} "
                      f"({'plateaued' if result.plateaued else 'NOT plateaued'})", soft_wrap=True)
    if result.status == "failed":
        err.print(f"[red]candidate failed:[/red] {result.reason} (metrics in {folder})",
                  soft_wrap=True)
        raise typer.Exit(1)


def _set(schedule, name, value):
    import dataclasses

    return dataclasses.replace(schedule, **{name: value})
