"""Output folders checked at the command boundary, before any work is done."""

from __future__ import annotations

import os
import re
from pathlib import Path

from nas.errors import NasError

__all__ = ["check_device", "writable_dir"]


def writable_dir(path: str | Path, option: str = "--out") -> Path:
    """``path`` as a folder this process can write into (created if missing); NasError naming
    the path and the fix otherwise. Called before a command computes anything, so a long run
    never ends on an unwritable folder."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasError(f"{option} {path}: cannot create the folder ({exc.strerror or exc}); "
                       "choose a folder you can write to") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise NasError(f"{option} {path}: this folder is not writable; choose another or fix "
                       "its permissions")
    return path


def check_device(device: str, latency: bool = False, option: str = "--device") -> None:
    """NasError (one line) unless ``device`` is cpu, cuda or cuda:N (or, with ``latency``, a
    latency-only device: ort-cpu) and is there; checked before any progress bar or run folder, so
    a bad --device writes and prints nothing else."""
    if latency and device == "ort-cpu":
        return
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        names = "cpu, ort-cpu, cuda or cuda:N" if latency else "cpu, cuda or cuda:N"
        raise NasError(f"{option} {device!r}: use {names}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise NasError(f"{option} {device}: CUDA is not available on this machine; use cpu")

