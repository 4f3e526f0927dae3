"""Checkpoints of a full training run: everything needed to resume after an epoch, written
atomically (a reader, or a run killed mid-write, never sees half a file).

A checkpoint holds the model, optimizer, LR scheduler and EMA state dicts, the batch/augment
generator's state and the global torch RNG state (dropout and drop-path draw from it), the
number of optimiser steps so far and the epoch curves. Resuming from it continues the exact
sequence of an uninterrupted run (same seed, same numbers on CPU). A ``fingerprint`` (the
architecture, schedule, seed and data) guards against resuming a different run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from nas.errors import NasError

__all__ = ["CHECKPOINT_FILE", "fingerprint", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FILE = "checkpoint.pt"
_VERSION = 1


def fingerprint(*parts: Any) -> str:
    """A short hash of JSON-able ``parts`` (what makes two runs the same run)."""
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors, state dicts, plain values) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save({"version": _VERSION, **state}, tmp)
    with open(tmp, "rb") as fh:  # the bytes reach the disk before the rename makes them current
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path, expected: str) -> dict[str, Any] | None:
    """The state saved at ``path`` (None when there is no file). NasError when it belongs to
    another run (``fingerprint`` differs from ``expected``) or cannot be read."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - a damaged file is the user's to remove
        raise NasError(f"checkpoint {path} cannot be read ({type(exc).__name__}); delete it "
                       "to start the run again") from None
    if not isinstance(state, dict) or state.get("version") != _VERSION:
        raise NasError(f"checkpoint {path} was written by another version; delete it to start "
                       "the run again")
    if state.get("fingerprint") != expected:
        raise NasError(f"checkpoint {path} belongs to another run (architecture, schedule, seed "
                       "or data differ); delete it, or choose another output folder")
    return state
