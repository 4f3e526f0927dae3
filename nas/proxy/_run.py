"""``train_to_dir``: load data by spec, train one architecture, write weights and metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.errors import NasError
from nas.proxy._checkpoint import CHECKPOINT_FILE
from nas.proxy._full import train_full
from nas.proxy._io import save_metrics, save_weights
from nas.proxy._schedule import DEFAULT_SCHEDULE, FullSchedule, Schedule
from nas.proxy._train import ProxyResult, train

if TYPE_CHECKING:
    from nas.arch import ArchConfig
    from nas.data import SegData

__all__ = [
    "METRICS_FILE",
    "WEIGHTS_FILE",
    "check_out_dir",
    "default_out_dir",
    "load_splits",
    "load_test_split",
    "train_to_dir",
]

METRICS_FILE = "metrics.json"
WEIGHTS_FILE = "weights.safetensors"


def default_out_dir(arch: ArchConfig, seed: int, fallback_name: str = "arch") -> Path:
    """``results/train/<arch name>-<seed>`` (relative to the working directory)."""
    return Path("results") / "train" / f"{arch.name or fallback_name}-{seed}"


def check_out_dir(out: str | Path, force: bool = False) -> Path:
    """Raise NasError when ``out`` cannot take a new run: it holds ``metrics.json`` (and not
    ``force``), or it exists and is not a folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NasError(f"--out {out} exists and is not a folder")
    metrics_path = out / METRICS_FILE
    if metrics_path.exists() and not force:
        raise NasError(f"{metrics_path} already exists; pass --force to overwrite it or choose "
                       "another --out")
    return out


def load_splits(
    data: str = "synthetic", val_data: str | None = None, schedule: Schedule = DEFAULT_SCHEDULE
) -> tuple[SegData, SegData]:
    """The train split of ``data`` and the val split of ``val_data`` (default ``data``), limited
    to the schedule's ``n_train`` / ``n_val`` (the same evenly spaced samples the trainer would
    pick) and stored at its ``eval_size`` when one is set."""
    from nas.data import load_data

    train_split = load_data(data, "train", size=schedule.eval_size, limit=schedule.n_train)
    val_split = load_data(val_data or data, "val", size=schedule.eval_size, limit=schedule.n_val)
    return train_split, val_split


def load_test_split(data: str, schedule: Schedule = DEFAULT_SCHEDULE) -> SegData | None:
    """The test split of ``data`` at the schedule's ``eval_size`` (all of it), or None when the
    layout has none (synthetic data, ADE20K, VOC) or this copy of the data lacks it."""
    from nas.data import load_data

    if data.strip().lower().startswith("synthetic"):
        return None
    try:
        return load_data(data, "test", size=schedule.eval_size)
    except NasError:
        return None


def train_to_dir(
    arch: ArchConfig,
    data: str | tuple[SegData, ...] = "synthetic",
    out: str | Path | None = None,
    *,
    val_data: str | None = None,
    notes: dict[str, Any] | None = None,
    schedule: Schedule = DEFAULT_SCHEDULE,
    seed: int = 0,
    device: str = "cpu",
    force: bool = False,
    on_step: Callable[[int, int, int, float], None] | None = None,
    callback: Callable[[int, float | None], bool | None] | None = None,
) -> tuple[ProxyResult, Path]:
    """Train ``arch`` on the train split of ``data`` and score it on the val split of
    ``val_data`` (default: ``data``), see :func:`load_splits`, or on a (train, val[, test])
    tuple of loaded splits; write ``metrics.json`` (always) and ``weights.safetensors`` (unless
    the run failed) into ``out``. The architecture is trained (and recorded) with the data's class
    count; ``notes`` are added to the metrics record.

    A :class:`FullSchedule` trains with :func:`~nas.proxy.train_full`: also scored on the test
    split (when ``data`` is a spec whose layout has one, or a third split is given), with a
    checkpoint in ``out`` after every epoch; a run killed before its metrics were written
    resumes from it when called again with the same ``out`` (``force`` starts afresh). The
    checkpoint is deleted once the metrics are written.

    Refuses (NasError) when ``out`` already holds a metrics file, unless ``force``.
    """
    out = check_out_dir(out if out is not None else default_out_dir(arch, seed), force)
    metrics_path = out / METRICS_FILE
    t0 = time.perf_counter()
    full = isinstance(schedule, FullSchedule)
    test_split = None
    if isinstance(data, str):
        train_split, val_split = load_splits(data, val_data, schedule)
        data_name, val_name = data, val_data or data
        if full and schedule.test:
            test_split = load_test_split(val_data or data, schedule)
    else:
        train_split, val_split = data[0], data[1]
        test_split = data[2] if len(data) > 2 else None
        data_name, val_name = train_split.name, val_split.name
    load_s = time.perf_counter() - t0
    ckpt = out / CHECKPOINT_FILE
    if full:
        if force and ckpt.exists():
            ckpt.unlink()
        result = train_full(arch, train_split, val_split, schedule, seed=seed,
                            test_data=test_split, checkpoint=ckpt, device=device,
                            callback=callback, on_step=on_step, keep_model=True)
    else:
        result = train(arch, train_split, val_split, schedule, seed=seed, device=device,
                       callback=callback, on_step=on_step, keep_model=True)
    if result.num_classes and result.num_classes != arch.num_classes:
        from nas.arch import ArchConfig

        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": result.num_classes})
    out.mkdir(parents=True, exist_ok=True)
    weights = None
    if result.model is not None:
        import json

        meta = {"arch": json.dumps(arch.to_dict()), "num_classes": str(result.num_classes),
                "seed": str(seed)}
        weights = save_weights(result.model, out / WEIGHTS_FILE, metadata=meta)
    elif (out / WEIGHTS_FILE).exists():
        (out / WEIGHTS_FILE).unlink()  # a stale file from an earlier (forced-over) run
    record = result.to_dict()
    record.update({
        "arch": arch.to_dict(),
        "data": data_name,
        "val_data": val_name,
        "n_train_images": min(len(train_split), schedule.n_train or len(train_split)),
        "n_val_images": min(len(val_split), schedule.n_val or len(val_split)),
        "data_load_s": load_s,
        "n_test_images": len(test_split) if full and test_split is not None else None,
        "weights": weights.name if weights is not None else None,
        **(notes or {}),
    })
    save_metrics(metrics_path, record)
    if full and ckpt.exists():
        ckpt.unlink()  # the metrics and weights hold the outcome now
    result.model = None
    return result, out
