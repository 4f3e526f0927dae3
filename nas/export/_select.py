"""Which trials an export takes (``--trial N``, ``--best``, ``--pareto``) and the exact
architecture of each (the one its weights were trained with)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nas.errors import NasError
from nas.report import RunData

__all__ = ["Chosen", "export_name", "select", "weights_metadata"]


@dataclass
class Chosen:
    """One trial to export: its row, its ArchConfig (named for the export) and weights file."""

    number: int
    row: pd.Series
    arch: Any  # ArchConfig
    weights: Path | None  # run_dir/weights/trial-N.safetensors when the run kept it
    source: str  # where the architecture came from


def export_name(run_name: str, number: int) -> str:
    """``<run>_trial<N>``, lower case, letters, digits and ``_`` only (a timm model name
    cannot hold ``.``, ``-`` or ``/``)."""
    base = re.sub(r"[^a-z0-9_]+", "_", run_name.lower()).strip("_") or "run"
    return f"{base}_trial{number}"


def select(run: RunData, trial: int | None, best: bool, pareto: bool) -> list[Chosen]:
    """The chosen trials; the Pareto front when no selector is given."""
    given = [flag for flag, on in (("--trial", trial is not None), ("--best", best),
                                   ("--pareto", pareto)) if on]
    if len(given) > 1:
        raise NasError(f"{' and '.join(given)} conflict: give one of --trial N, --best or "
                       "--pareto (default: --pareto)")
    if trial is not None:
        row = run.row(trial)
        if row["state"] != "COMPLETE" or pd.isna(row["miou"]):
            why = f" ({row['reason']})" if row["reason"] else ""
            raise NasError(f"trial {trial} is {row['state']}{why}, not COMPLETE: only trained "
                           "trials can be exported; pick one with --best, --pareto or from "
                           "trials.csv")
        numbers = [trial]
    elif best:
        done = run.completed()
        if done.empty:
            raise NasError(f"{run.run_dir}: no search trial completed within the budget, so "
                           "there is no best one; run more trials or give --trial N")
        top = done.sort_values(["miou", "flops"], ascending=[False, True]).iloc[0]
        numbers = [int(top["number"])]
    else:
        numbers = _front(run)
        if not numbers:
            raise NasError(f"{run.run_dir}: the run has no Pareto front yet (no complete, "
                           "feasible trial); run more trials or give --trial N")
    return [_choose(run, n) for n in numbers]


def _front(run: RunData) -> list[int]:
    t = run.trials
    flagged = t.loc[t["pareto"] & (t["state"] == "COMPLETE"), "number"].astype(int).tolist()
    if flagged:
        return sorted(flagged)
    files = sorted(int(p.stem.split("-")[1]) for p in (run.run_dir / "pareto").glob("trial-*.yaml")
                   if p.stem.split("-")[1].isdigit())
    if files:
        return files
    from nas.report import compute_report

    table = compute_report(run, importance=False).front_table
    return sorted(int(n) for n in table["trial"])


def _choose(run: RunData, number: int) -> Chosen:
    from nas.arch import ArchConfig, load_arch
    from nas.errors import ArchError

    row = run.row(number)
    weights = run.run_dir / "weights" / f"trial-{number}.safetensors"
    weights = weights if weights.is_file() else None
    arch, source = None, ""
    if weights is not None:  # the architecture the weights were trained with, if recorded
        meta = weights_metadata(weights)
        text = meta.get("arch_json") or meta.get("arch")
        if text:
            arch, source = ArchConfig.from_json(text), f"{weights.name} metadata"
    yaml_path = run.run_dir / "pareto" / f"trial-{number}.yaml"
    if arch is None and yaml_path.is_file():
        arch, source = load_arch(yaml_path), f"pareto/{yaml_path.name}"
    if arch is None and row["arch_json"]:
        try:
            arch, source = ArchConfig.from_json(row["arch_json"]), "trials table arch_json"
        except ArchError as exc:
            raise NasError(f"trial {number}: its arch_json is not a valid architecture ({exc})"
                           ) from None
    if arch is None:
        raise NasError(f"trial {number}: the run records no architecture for it (no weights "
                       "metadata, pareto/ file or arch_json); re-run the search with this nas")
    k = _num_classes(run)
    if weights is None and k and k != arch.num_classes:
        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": k})
    named = ArchConfig.from_dict({**arch.to_dict(), "name": export_name(run.name, number)})
    return Chosen(number, row, named, weights, source)


def _num_classes(run: RunData) -> int | None:
    for key in ("num_classes",):
        if isinstance(run.info.get(key), int):
            return run.info[key]
    data = run.info.get("data")
    if isinstance(data, dict) and isinstance(data.get("num_classes"), int):
        return data["num_classes"]
    return None


def weights_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a safetensors file (its JSON header's ``__metadata__``)."""
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size))
    except (OSError, ValueError) as exc:
        raise NasError(f"{path}: not a readable safetensors file ({exc}); re-run the search "
                       "or export without --weights") from None
    meta = header.get("__metadata__") or {}
    return meta if isinstance(meta, dict) else {}
