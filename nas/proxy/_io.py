"""Saving a trained candidate: weights (safetensors) and metrics (JSON)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import nn

__all__ = ["load_weights", "save_metrics", "save_weights"]


def save_weights(
    model: nn.Module, path: str | Path, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``model``'s state dict to ``path`` (safetensors). ``metadata``: string pairs stored
    in the file header (e.g. the architecture as JSON)."""
    from safetensors.torch import save_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_model(model, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)  # the writer creates it owner-only; results are meant to be shared
    os.replace(tmp, path)
    return path


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load weights written by :func:`save_weights` into ``model`` (strict) and return it."""
    from safetensors.torch import load_model

    load_model(model, str(path), strict=True)
    return model


def save_metrics(path: str | Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as indented JSON (atomically: a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path
